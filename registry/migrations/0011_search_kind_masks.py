"""Search documents keep their input and output kinds as bits too, and the quality index
covers the columns a filter-only browse reads (visibility, owner, kind bits): counting the
models that take images and return text at 100k models read ~14,000 table rows."""

from django.db import migrations, models

# registry.signatures.KINDS when this migration was written: bit i is KINDS[i].
KINDS = ("text", "number", "boolean", "image", "audio", "video", "file", "json", "list", "stream")


def _mask_sql(column: str) -> str:
    kinds = ", ".join(f"'{kind}'" for kind in KINDS)
    return (
        f"(SELECT COALESCE(SUM(DISTINCT 1 << (array_position(ARRAY[{kinds}], k) - 1)), 0) "
        f"FROM jsonb_array_elements_text({column}) AS k WHERE k = ANY(ARRAY[{kinds}]))"
    )


def fill_masks(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"UPDATE registry_searchdocument SET input_mask = {_mask_sql('input_kinds')}, "
            f"output_mask = {_mask_sql('output_kinds')}",
            params=None,
        )
        return
    SearchDocument = apps.get_model("registry", "SearchDocument")
    rows = list(SearchDocument.objects.only("model_id", "input_kinds", "output_kinds"))
    for row in rows:
        row.input_mask = sum(1 << KINDS.index(k) for k in set(row.input_kinds) if k in KINDS)
        row.output_mask = sum(1 << KINDS.index(k) for k in set(row.output_kinds) if k in KINDS)
    SearchDocument.objects.bulk_update(rows, ["input_mask", "output_mask"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0010_search_speed"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="searchdocument",
            name="searchdoc_quality_idx",
        ),
        migrations.AddField(
            model_name="searchdocument",
            name="input_mask",
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name="searchdocument",
            name="output_mask",
            field=models.IntegerField(default=0),
        ),
        migrations.RunPython(fill_masks, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="searchdocument",
            index=models.Index(
                fields=["-quality", "-model"],
                include=("visibility", "owner", "input_mask", "output_mask"),
                name="searchdoc_quality_idx",
            ),
        ),
    ]

"""Search: an index on a document's model name (the exact-name candidate of a broad query)
and, on PostgreSQL, a trigram index on the catalog's words (misspelling corrections)."""

from django.db import migrations, models

TERM_TRIGRAMS = "searchterm_trgm_gin"


def add_term_trigrams(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TERM_TRIGRAMS} ON registry_searchterm "
        "USING gin (term gin_trgm_ops)",
        params=None,
    )


def drop_term_trigrams(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TERM_TRIGRAMS}", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0007_version_predict_time'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='searchdocument',
            index=models.Index(fields=['name'], name='searchdoc_name_idx'),
        ),
        migrations.RunPython(add_term_trigrams, drop_term_trigrams),
    ]

"""Search speed at 100k models.

- `searchterm_shape_idx`: the catalog words of a first letter and length, the only ones a
  misspelled query word is compared with.
- On PostgreSQL, `searchdoc_vector_top_gin`: full-text search over the popular documents
  only (quality >= registry.search.database.TOP_QUALITY), where the most popular matches
  of a broad query are found without reading every match.
"""

import django.db.models.functions.text
from django.db import migrations, models

TOP_GIN = "searchdoc_vector_top_gin"


def add_top_gin(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TOP_GIN} ON registry_searchdocument "
        "USING gin (vector) WHERE quality >= 0.5",
        params=None,
    )


def drop_top_gin(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TOP_GIN}", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0009_merge_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="searchterm",
            index=models.Index(
                django.db.models.functions.text.Left("term", 1),
                django.db.models.functions.text.Length("term"),
                name="searchterm_shape_idx",
            ),
        ),
        migrations.RunPython(add_top_gin, drop_top_gin),
    ]

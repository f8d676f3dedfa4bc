"""Search: the denormalized search documents, catalog words, runs per day, and the queue
of models to push to an external index.

On PostgreSQL also: pg_trgm (misspelled words are matched to catalog words by trigram
similarity) and the GIN indexes that full-text search and facet filters use. SQLite gets
none of these; its search backend matches words with LIKE.
"""

import django.contrib.postgres.search
from django.contrib.postgres.operations import TrigramExtension
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class TrigramExtensionOnPostgres(TrigramExtension):
    """pg_trgm; Django's operation skips SQLite going forwards but not backwards."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


POSTGRES_INDEXES = [
    ("searchdoc_vector_gin", "registry_searchdocument USING gin (vector)"),
    ("searchdoc_tags_gin", "registry_searchdocument USING gin (tags)"),
    ("searchdoc_collections_gin", "registry_searchdocument USING gin (collections)"),
    ("searchdoc_input_kinds_gin", "registry_searchdocument USING gin (input_kinds)"),
    ("searchdoc_output_kinds_gin", "registry_searchdocument USING gin (output_kinds)"),
]


def add_postgres_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, target in POSTGRES_INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}", params=None)


def drop_postgres_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in POSTGRES_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0005_file_shared'),
    ]

    operations = [
        TrigramExtensionOnPostgres(),
        migrations.CreateModel(
            name='SearchSyncPending',
            fields=[
                ('model_id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('queued_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.CreateModel(
            name='SearchTerm',
            fields=[
                ('term', models.CharField(max_length=64, primary_key=True, serialize=False)),
                ('frequency', models.PositiveIntegerField(default=1)),
            ],
        ),
        migrations.CreateModel(
            name='ModelRunDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('runs', models.PositiveIntegerField(default=0)),
                ('model', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='registry.mlmodel')),
            ],
            options={
                'indexes': [models.Index(fields=['day'], name='modelrunday_day_idx')],
                'constraints': [models.UniqueConstraint(fields=('model', 'day'), name='unique_model_run_day')],
            },
        ),
        migrations.CreateModel(
            name='SearchDocument',
            fields=[
                ('model', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search_document', serialize=False, to='registry.mlmodel')),
                ('owner_name', models.CharField(max_length=39)),
                ('name', models.CharField(max_length=100)),
                ('full_name', models.CharField(max_length=140)),
                ('visibility', models.CharField(max_length=16)),
                ('hardware', models.CharField(max_length=64)),
                ('tags', models.JSONField(default=list)),
                ('collections', models.JSONField(default=list)),
                ('input_kinds', models.JSONField(default=list)),
                ('output_kinds', models.JSONField(default=list)),
                ('names_text', models.TextField(blank=True)),
                ('summary_text', models.TextField(blank=True)),
                ('schema_text', models.TextField(blank=True)),
                ('readme_text', models.TextField(blank=True)),
                ('vector', django.contrib.postgres.search.SearchVectorField(blank=True, null=True)),
                ('run_count', models.PositiveBigIntegerField(default=0)),
                ('runs_7d', models.PositiveBigIntegerField(default=0)),
                ('quality', models.FloatField(default=0.0)),
                ('updated_at', models.DateTimeField()),
                ('indexed_at', models.DateTimeField(auto_now=True)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='registry.owner')),
            ],
            options={
                'indexes': [models.Index(fields=['full_name'], name='searchdoc_full_name_idx'), models.Index(fields=['owner_name'], name='searchdoc_owner_idx'), models.Index(fields=['-indexed_at'], name='searchdoc_indexed_idx'), models.Index(fields=['-quality', '-model'], name='searchdoc_quality_idx'), models.Index(fields=['-runs_7d', '-model'], name='searchdoc_trending_idx'), models.Index(fields=['-run_count', '-model'], name='searchdoc_runs_idx'), models.Index(fields=['-updated_at', '-model'], name='searchdoc_updated_idx')],
            },
        ),
        migrations.RunPython(add_postgres_indexes, drop_postgres_indexes),
    ]

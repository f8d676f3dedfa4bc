"""Search: an index on a document's model name (the exact-name candidate of a broad query)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0007_version_predict_time'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='searchdocument',
            index=models.Index(fields=['name'], name='searchdoc_name_idx'),
        ),
    ]

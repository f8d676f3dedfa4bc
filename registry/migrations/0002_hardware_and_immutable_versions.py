"""Seed the hardware SKUs and make published versions immutable in the database itself.

The trigger backs up `Version.save()`: not even the admin, a shell or raw SQL can change a
version's schema or source once it is published.
"""

from django.db import migrations

HARDWARE = [
    ("cpu", "CPU", False, 0),
    ("gpu-t4", "Nvidia T4 GPU", True, 10),
    ("gpu-l40s", "Nvidia L40S GPU", True, 20),
    ("gpu-a100-large", "Nvidia A100 (80GB) GPU", True, 30),
    ("gpu-h100", "Nvidia H100 GPU", True, 40),
]

IMMUTABLE_COLUMNS = ["model_id", "cog_version", "openapi_schema", "source", "source_sha256", "image"]

POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION registry_version_immutable() RETURNS trigger AS $$
BEGIN
    IF {changed} THEN
        RAISE EXCEPTION 'A published version cannot be changed (version %)', OLD.id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registry_version_immutable BEFORE UPDATE ON registry_version
FOR EACH ROW EXECUTE FUNCTION registry_version_immutable();
""".format(
    changed=" OR ".join(f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in IMMUTABLE_COLUMNS)
)
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS registry_version_immutable ON registry_version;
DROP FUNCTION IF EXISTS registry_version_immutable();
"""
SQLITE_FORWARD = """
CREATE TRIGGER registry_version_immutable BEFORE UPDATE OF {columns} ON registry_version
FOR EACH ROW WHEN {changed}
BEGIN SELECT RAISE(ABORT, 'A published version cannot be changed'); END;
""".format(
    columns=", ".join(IMMUTABLE_COLUMNS),
    changed=" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in IMMUTABLE_COLUMNS),
)
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS registry_version_immutable;"


def seed_hardware(apps, schema_editor):
    Hardware = apps.get_model("registry", "Hardware")
    for sku, name, is_gpu, position in HARDWARE:
        Hardware.objects.update_or_create(
            sku=sku, defaults={"name": name, "is_gpu": is_gpu, "position": position}
        )


def add_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def drop_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [
        migrations.RunPython(seed_hardware, migrations.RunPython.noop),
        migrations.RunPython(add_trigger, drop_trigger),
    ]

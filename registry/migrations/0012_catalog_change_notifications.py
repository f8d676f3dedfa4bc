"""Announce, on PostgreSQL, every change that can make a cached schema lookup wrong.

`registry.lookup_cache` answers schema lookups of public models from memory. A published
version never changes (migration 0002), so what can go stale is only whether it may be
seen at its address: the model's visibility or name, its owner, the owner's name, and
whether the version, model or owner still exists. Triggers send `NOTIFY vitrine_catalog`
on each such change, however it is made (API, admin, shell, raw SQL), at commit; the
change listener of every process empties its cache when it hears one. Updates of other
columns (run counts, descriptions, cover images) stay silent.
"""

from django.db import migrations

CHANNEL = "vitrine_catalog"

# table -> the columns whose change matters (other than the row disappearing)
WATCHED = {
    "registry_owner": ["username"],
    "registry_model": ["owner_id", "name", "visibility"],
    "registry_version": ["model_id", "created_at"],
}

FUNCTION = f"""
CREATE OR REPLACE FUNCTION registry_catalog_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def _triggers(table: str, columns: list[str]) -> str:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
    run = "EXECUTE FUNCTION registry_catalog_changed()"
    return f"""
CREATE TRIGGER {table}_catalog_update AFTER UPDATE ON {table}
    FOR EACH ROW WHEN ({changed}) {run};
CREATE TRIGGER {table}_catalog_delete AFTER DELETE ON {table} FOR EACH STATEMENT {run};
CREATE TRIGGER {table}_catalog_truncate AFTER TRUNCATE ON {table} FOR EACH STATEMENT {run};
"""


FORWARD = FUNCTION + "".join(_triggers(t, c) for t, c in WATCHED.items())
REVERSE = "".join(
    f"DROP TRIGGER IF EXISTS {t}_catalog_{event} ON {t};\n"
    for t in WATCHED
    for event in ("update", "delete", "truncate")
) + "DROP FUNCTION IF EXISTS registry_catalog_changed();"


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("registry", "0011_search_kind_masks")]

    operations = [migrations.RunPython(add_triggers, drop_triggers)]

"""The request id of each event (audit/context.py), and the append-only trigger extended to it:
the one update still allowed (the SET NULL of `actor` when an account is erased) must leave this
column as it was too."""

from django.db import migrations, models

COLUMNS = (
    "{0}.id, {0}.at, {0}.actor_label, {0}.action, {0}.result, {0}.target_type_id, "
    "{0}.target_id, {0}.on_behalf_type_id, {0}.on_behalf_id, {0}.data, {0}.ip_address"
)

FUNCTION = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.actor_id IS NULL
       AND ROW({new}) IS NOT DISTINCT FROM ROW({old})
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def _function(extra: str) -> str:
    return FUNCTION.format(new=COLUMNS.format("NEW") + extra.format("NEW"),
                           old=COLUMNS.format("OLD") + extra.format("OLD"))


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_function(", {0}.request_id"), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_function(""), params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="request_id",
            field=models.CharField(blank=True, max_length=64, verbose_name="request ID"),
        ),
        migrations.RunPython(forwards, backwards),
    ]

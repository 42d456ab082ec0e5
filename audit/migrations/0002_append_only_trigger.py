"""On PostgreSQL the database itself refuses to change or delete an audit event.

The one update allowed is the SET NULL of `actor` when an account is erased: every other column
must stay as it was (actor_label keeps who it was).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.actor_id IS NULL
       AND ROW(NEW.id, NEW.at, NEW.actor_label, NEW.action, NEW.result, NEW.target_type_id,
               NEW.target_id, NEW.on_behalf_type_id, NEW.on_behalf_id, NEW.data, NEW.ip_address)
           IS NOT DISTINCT FROM
           ROW(OLD.id, OLD.at, OLD.actor_label, OLD.action, OLD.result, OLD.target_type_id,
               OLD.target_id, OLD.on_behalf_type_id, OLD.on_behalf_id, OLD.data, OLD.ip_address)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]

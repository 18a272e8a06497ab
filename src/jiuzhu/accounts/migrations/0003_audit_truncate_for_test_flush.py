"""Let a test database be flushed while keeping the audit log append-only.

Tests that prove concurrency on PostgreSQL must commit, so their database is emptied
afterwards with TRUNCATE, which the append-only trigger refuses. TRUNCATE is now allowed
only in a session that has said ``SET jiuzhu.test_flush = 'on'`` (the test fixture
``audit_flush_allowed`` does, right before the flush). The application never issues
TRUNCATE nor sets that name; UPDATE and DELETE stay refused for everyone. Like every
trigger, this guards against the application's mistakes, not against whoever owns the
database (they can drop triggers anyway) — see ADR 6.
"""

from django.db import migrations

TABLE = "accounts_auditevent"

FORWARDS = [
    """CREATE OR REPLACE FUNCTION jiuzhu_audit_no_truncate() RETURNS trigger AS $$
       BEGIN
         IF current_setting('jiuzhu.test_flush', true) = 'on' THEN RETURN NULL; END IF;
         RAISE EXCEPTION 'audit log is append-only';
       END; $$ LANGUAGE plpgsql;""",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE};",
    f"""CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_audit_no_truncate();""",
]
BACKWARDS = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE};",
    f"""CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_audit_append_only();""",
    "DROP FUNCTION IF EXISTS jiuzhu_audit_no_truncate();",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARDS:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARDS:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_audit_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]

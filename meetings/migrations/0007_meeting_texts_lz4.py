"""PostgreSQL 14+ built with lz4: the meeting's long values (the provider's payload, the
description) are compressed with lz4 instead of pglz when a row goes past TOAST's 2 kB - about
four times less database CPU per row written. A Graph event's payload is ~3 kB (HTML body), so
every Microsoft meeting row pays it. Other databases, and servers without lz4: nothing to do."""

from django.db import migrations

COLUMNS = ("raw", "description")


def _lz4_available(connection) -> bool:
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _set(method: str):
    def change(apps, schema_editor):
        connection = schema_editor.connection
        if not _lz4_available(connection):
            return
        table = schema_editor.quote_name(apps.get_model("meetings", "Meeting")._meta.db_table)
        alters = ", ".join(
            f"ALTER COLUMN {schema_editor.quote_name(column)} SET COMPRESSION {method}"
            for column in COLUMNS
        )
        schema_editor.execute(f"ALTER TABLE {table} {alters}")

    return change


class Migration(migrations.Migration):
    dependencies = [("meetings", "0006_meeting_key_indexes_covered")]

    operations = [migrations.RunPython(_set("lz4"), _set("pglz"))]

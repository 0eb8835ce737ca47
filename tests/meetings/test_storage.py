"""How the meetings table stores its long values (PostgreSQL)."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_long_values_are_compressed_with_lz4_where_the_server_has_it():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's TOAST compression")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        (available,) = cursor.fetchone()
        cursor.execute(
            "SELECT attname, attcompression FROM pg_attribute "
            "WHERE attrelid = 'meetings_meeting'::regclass AND attname IN ('raw', 'description')"
        )
        methods = dict(cursor.fetchall())
    assert methods == (
        {"raw": "l", "description": "l"} if available else {"raw": "", "description": ""}
    )

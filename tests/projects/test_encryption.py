import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from calendars.models import Calendar
from tests.factories import CalendarFactory

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def stored_value(calendar: Calendar, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM calendars_calendar WHERE id = %s", [calendar.pk.hex])
        row = cursor.fetchone()
        if row is None:  # PostgreSQL stores uuid natively
            cursor.execute(f"SELECT {column} FROM calendars_calendar WHERE id = %s", [calendar.pk])
            row = cursor.fetchone()
    return row[0]


@pytest.mark.django_db
def test_round_trip_stores_ciphertext():
    calendar = CalendarFactory(refresh_token="1//plain-refresh-token", oauth_client_secret="cs")
    raw = stored_value(calendar, "refresh_token")
    assert "plain-refresh-token" not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    fresh = Calendar.objects.get(pk=calendar.pk)
    assert fresh.refresh_token == "1//plain-refresh-token"
    assert fresh.oauth_client_secret == "cs"


@pytest.mark.django_db
def test_empty_secret_is_stored_empty():
    calendar = CalendarFactory(refresh_token="")
    assert stored_value(calendar, "refresh_token") == ""
    assert Calendar.objects.get(pk=calendar.pk).refresh_token == ""


@pytest.mark.django_db
def test_rotation_and_reencryption(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    calendar = CalendarFactory(refresh_token="rotate-me")

    # A new key in front: old values still decrypt, new writes use the new key.
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert Calendar.objects.get(pk=calendar.pk).refresh_token == "rotate-me"
    call_command("reencrypt_secrets", stdout=io.StringIO())
    raw = stored_value(calendar, "refresh_token")
    assert Fernet(NEW_KEY).decrypt(raw.encode()) == b"rotate-me"

    # The old key can now go.
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert Calendar.objects.get(pk=calendar.pk).refresh_token == "rotate-me"


@pytest.mark.django_db
def test_unknown_key_fails_loudly(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    calendar = CalendarFactory(refresh_token="secret")
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        Calendar.objects.get(pk=calendar.pk)

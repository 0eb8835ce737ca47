"""Seed 002: `POST /calendar/sync` against the Google and Microsoft fakes - its request (a bare
POST with the bearer token) and both example answers, counts included."""

from datetime import timedelta

import pytest

from calendars import services
from calendars.models import Calendar
from calendars.providers.base import Grant
from meetings.models import Meeting
from tests.factories import OAuthAppFactory

from .conftest import BASE, EMAIL, soon

OUTLOOK_EMAIL = "dana@acme.onmicrosoft.com"


def connect(dana, fake, platform: str, email: str) -> Calendar:
    """Dana's calendar at the fake, connected as the hosted OAuth flow connects it."""
    OAuthAppFactory(
        project=dana.project,
        platform=platform,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
    )
    fake.add_account(email)
    grant = Grant(access_token="", refresh_token=fake.grant(email), email=email)
    return services.calendar_connect(calendar_user=dana, platform=platform, grant=grant)


def add_events(fake, email: str, n: int, *, first_hour: int) -> list[str]:
    ids = []
    for hour in range(first_hour, first_hour + n):
        start = soon(hours=hour)
        ids.append(
            fake.add_event(
                email, summary=f"Event {hour}", start=start, end=start + timedelta(minutes=30)
            )
        )
    return ids


@pytest.fixture
def calendars(dana, fake_google, fake_microsoft):
    google = connect(dana, fake_google, "google", EMAIL)
    outlook = connect(dana, fake_microsoft, "microsoft", OUTLOOK_EMAIL)
    return google, outlook


def test_seed_002_both_answers(buddy, calendars, fake_google, fake_microsoft):
    google, outlook = calendars
    known = add_events(fake_google, EMAIL, 3, first_hour=1)
    first = buddy.post(f"{BASE}/calendar/sync")
    assert first.json() == {
        "synced_calendars": 2,
        "new_events": 3,
        "updated_events": 0,
        "errors": [],
    }

    # 200 OK: 15 new events over both calendars, 3 changed.
    add_events(fake_google, EMAIL, 8, first_hour=10)
    add_events(fake_microsoft, OUTLOOK_EMAIL, 7, first_hour=20)
    for event_id in known:
        fake_google.update_event(event_id, summary="Moved")
    response = buddy.post(f"{BASE}/calendar/sync")
    assert response.status_code == 200
    assert response.json() == {
        "synced_calendars": 2,
        "new_events": 15,
        "updated_events": 3,
        "errors": [],
    }

    # 200 OK (with errors): Outlook's token expired (Entra ID error 70008); Google still syncs.
    fake_microsoft.revoke_grant(OUTLOOK_EMAIL, error_code=70008, revoke_access_tokens=True)
    add_events(fake_google, EMAIL, 8, first_hour=40)
    fake_google.update_event(known[0], summary="Moved again")
    response = buddy.post(f"{BASE}/calendar/sync")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"synced_calendars", "new_events", "updated_events", "errors"}
    assert (body["synced_calendars"], body["new_events"], body["updated_events"]) == (1, 8, 1)
    (error,) = body["errors"]
    provider, message = error.split(": ", 1)
    assert provider == "outlook_calendar"
    assert message == "auth_revoked: Microsoft refused the refresh token (invalid_grant)."
    assert Calendar.objects.get(pk=outlook.pk).state == Calendar.State.DISCONNECTED
    assert Meeting.objects.filter(calendar=google).count() == 19

    # The connection says so too, and a later sync names it again.
    connections = {c["provider"]: c for c in buddy.get(f"{BASE}/calendar/connections").json()}
    assert connections["outlook_calendar"]["is_active"] is False
    assert connections["google_calendar"]["is_active"] is True
    again = buddy.post(f"{BASE}/calendar/sync").json()
    assert again["synced_calendars"] == 1
    assert again["errors"] == [
        "outlook_calendar: The calendar is disconnected: update its credentials."
    ]


def test_a_user_without_connections_syncs_nothing(buddy):
    response = buddy.post(f"{BASE}/calendar/sync/")  # with the slash too
    assert response.json() == {
        "synced_calendars": 0,
        "new_events": 0,
        "updated_events": 0,
        "errors": [],
    }

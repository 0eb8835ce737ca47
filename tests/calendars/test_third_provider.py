"""A third provider is one package plus one registry line: the test-only toy provider connects
through the hosted OAuth callback, syncs through the same engine and facts code, and its push
notifications go through the same receiver as Google's and Microsoft's."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings

from calendars import oauth
from calendars.models import Calendar
from calendars.push import ensure_push_channel
from calendars.sync import sync_calendar_by_id
from meetings.models import Meeting
from tests.factories import OAuthAppFactory
from tests.providers import toy

EMAIL = "dana@acme.com"
ZOOM = "https://us02web.zoom.us/j/85012345678?pwd=abc123"


@pytest.fixture
def server(monkeypatch):
    return toy.register(monkeypatch)


@pytest.fixture
def app(acme):
    return OAuthAppFactory(project=acme.project, platform=toy.PLATFORM)


def event(event_id: str, title: str, start: datetime, **extra) -> dict:
    return {
        "id": event_id,
        "title": title,
        "starts": start.isoformat(),
        "ends": (start + timedelta(minutes=30)).isoformat(),
        "organizer": EMAIL,
        "changed": datetime.now(UTC).isoformat(),
        **extra,
    }


def connect(client, alice, server) -> Calendar:
    code = server.add_account(EMAIL)
    flow = oauth.authorization(
        calendar_user=alice, platform=toy.PLATFORM, success_url=None, error_url=None
    )
    assert flow["url"].startswith("https://toy.invalid/authorize?")
    callback = flow["redirect_uri"].removeprefix(django_settings.PUBLIC_BASE_URL)
    assert callback == "/api/v1/calendar/toy_oauth_callback/"
    response = client.get(callback, {"state": flow["state"], "code": code})
    assert response.status_code == 200, response.content
    return Calendar.objects.get(calendar_user=alice, platform=toy.PLATFORM)


def live(calendar) -> dict[str, Meeting]:
    return {m.title: m for m in Meeting.objects.filter(calendar=calendar, is_deleted=False)}


def test_connect_sync_push_and_resync(client, server, app, alice, settings):
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    server.put(EMAIL, event("t1", "Zoom call", soon, video_url=ZOOM, guests=["max@other.com"]))
    server.put(EMAIL, event("t2", "Lunch", soon + timedelta(hours=3)))

    calendar = connect(client, alice, server)
    assert calendar.state == Calendar.State.CONNECTED and calendar.email == EMAIL

    assert sync_calendar_by_id(calendar.pk).status == "synced"
    meetings = live(calendar)
    assert set(meetings) == {"Zoom call", "Lunch"}
    zoom = meetings["Zoom call"]
    assert zoom.meeting_platform == "zoom"
    assert zoom.meeting_invite["meeting_id"] == "85012345678"
    assert zoom.start_time == soon and zoom.is_external and zoom.is_hosted_by_me

    settings.PUSH_NOTIFICATIONS = True
    assert ensure_push_channel(calendar.pk) == "renewed"
    calendar.refresh_from_db()
    watched = server.channels[calendar.push_channel_id]
    assert watched["address"] == settings.PUBLIC_BASE_URL + "/api/v1/push/toy/"

    server.put(EMAIL, event("t2", "Long lunch", soon + timedelta(hours=3)))
    server.delete(EMAIL, "t1")
    Calendar.objects.filter(pk=calendar.pk).update(sync_due_at=None)
    notification = {"channel": calendar.push_channel_id, "token": watched["token"]}
    response = client.post("/api/v1/push/toy/", notification, content_type="application/json")
    assert response.status_code == 204
    calendar.refresh_from_db()
    assert calendar.sync_due_at is not None

    assert sync_calendar_by_id(calendar.pk).status == "synced"
    assert set(live(calendar)) == {"Long lunch"}


def test_push_with_a_wrong_token_does_nothing(client, server, app, alice, settings):
    calendar = connect(client, alice, server)
    settings.PUSH_NOTIFICATIONS = True
    ensure_push_channel(calendar.pk)
    calendar.refresh_from_db()
    Calendar.objects.filter(pk=calendar.pk).update(sync_due_at=None)
    body = json.dumps({"channel": calendar.push_channel_id, "token": "wrong"})
    assert (
        client.post("/api/v1/push/toy/", body, content_type="application/json").status_code == 204
    )
    calendar.refresh_from_db()
    assert calendar.sync_due_at is None


def test_unregistered_provider_has_no_routes(client):
    assert client.get("/api/v1/calendar/toy_oauth_callback/").status_code == 404
    assert client.post("/api/v1/push/toy/").status_code == 404

"""Calendar connections: list (with event counts in one query), connect through our hosted OAuth
flow, disconnect (the connection, its events and their bots go)."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bots.models import Bot
from calendars.models import Calendar
from meetings.models import Meeting
from tests.factories import BotFactory, CalendarFactory, MeetingFactory, OAuthAppFactory

from .conftest import BASE, EMAIL, assert_aitronos_error


def test_list(buddy, dana, google_calendar):
    outlook = CalendarFactory(
        project=dana.project,
        calendar_user=dana,
        platform="microsoft",
        email="",
        state=Calendar.State.DISCONNECTED,
    )
    for _ in range(3):
        MeetingFactory(calendar=google_calendar)
    MeetingFactory(calendar=google_calendar, is_deleted=True)  # listed as cancelled
    Calendar.objects.filter(pk=google_calendar.pk).update(
        last_successful_sync_at="2026-03-03T09:58:12Z"
    )
    response = buddy.get(f"{BASE}/calendar/connections")
    assert response.status_code == 200
    assert response.json() == [
        {
            "credential_id": str(google_calendar.pk),
            "provider": "google_calendar",
            "account_email": EMAIL,
            "is_active": True,
            "last_sync_at": "2026-03-03T09:58:12Z",
            "event_count": 4,
        },
        {
            "credential_id": str(outlook.pk),
            "provider": "outlook_calendar",
            "account_email": None,
            "is_active": False,
            "last_sync_at": None,
            "event_count": 0,
        },
    ]


def test_list_costs_the_same_for_many_connections(buddy, dana, google_calendar):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert buddy.get(f"{BASE}/calendar/connections").status_code == 200
        return len(captured)

    MeetingFactory(calendar=google_calendar)
    one = queries()
    # One live calendar per platform; disconnected ones stay listed.
    for platform, state in (
        ("microsoft", Calendar.State.CONNECTED),
        ("microsoft", Calendar.State.DISCONNECTED),
        ("google", Calendar.State.DISCONNECTED),
        ("google", Calendar.State.DISCONNECTED),
    ):
        calendar = CalendarFactory(
            project=dana.project, calendar_user=dana, platform=platform, state=state
        )
        MeetingFactory(calendar=calendar)
    assert dana.calendars.count() == 5
    assert queries() == one


@pytest.mark.parametrize(
    ("provider", "platform"), [("google_calendar", "google"), ("outlook_calendar", "microsoft")]
)
def test_connect_starts_the_hosted_oauth_flow(buddy, dana, provider, platform, settings):
    app = OAuthAppFactory(project=dana.project, platform=platform)
    response = buddy.post(f"{BASE}/calendar/connections", {"provider": provider}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"provider", "authorization_url", "state", "redirect_uri"}
    assert body["provider"] == provider
    query = parse_qs(urlsplit(body["authorization_url"]).query)
    assert query["client_id"] == [app.client_id]
    assert query["state"] == [body["state"]]
    assert query["redirect_uri"] == [body["redirect_uri"]]
    assert body["redirect_uri"].startswith(settings.PUBLIC_BASE_URL + "/api/v1/calendar/")
    assert "recall_calendar_auth_token" in json.loads(body["state"])
    assert not Calendar.objects.exists()  # nothing until the user consents


def test_connect_with_our_redirect_extensions(buddy, acme, dana):
    acme.project.allowed_redirect_origins = ["https://app.acme.com"]
    acme.project.save()
    OAuthAppFactory(project=dana.project, platform="google")
    body = {
        "provider": "google_calendar",
        "success_url": "https://app.acme.com/connected",
        "error_url": "https://app.acme.com/failed",
    }
    response = buddy.post(f"{BASE}/calendar/connections", body, format="json")
    state = json.loads(response.json()["state"])
    assert state["success_url"] == "https://app.acme.com/connected"
    response = buddy.post(
        f"{BASE}/calendar/connections",
        {**body, "success_url": "https://evil.example/x"},
        format="json",
    )
    assert_aitronos_error(response, 400, "REDIRECT_NOT_ALLOWED")


@pytest.mark.parametrize(
    "body",
    [
        {"provider": "zoom"},
        {"provider": "apple_calendar"},
        {
            "provider": "apple_calendar",
            "credentials": {"apple_id": "dana@icloud.com", "app_specific_password": "abcd-efgh"},
        },
    ],
)
def test_providers_we_do_not_connect(buddy, body):
    response = buddy.post(f"{BASE}/calendar/connections", body, format="json")
    error = assert_aitronos_error(response, 400, "PROVIDER_NOT_SUPPORTED")
    assert "google_calendar" in error["message"]
    assert set(error["details"]) == {"provider"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "myspace"}, "provider"),
        ({}, "provider"),
        ({"provider": "google_calendar", "credentials": {"x": 1}}, "credentials"),
        ({"provider": "google_calendar", "credentials": "x"}, "credentials"),
        ({"provider": "google_calendar", "scope": "all"}, "scope"),
    ],
)
def test_connect_validation(buddy, dana, body, field):
    OAuthAppFactory(project=dana.project, platform="google")
    response = buddy.post(f"{BASE}/calendar/connections", body, format="json")
    assert set(assert_aitronos_error(response, 400, "VALIDATION_ERROR")["details"]) == {field}


def test_connect_without_an_oauth_app(buddy):
    response = buddy.post(
        f"{BASE}/calendar/connections", {"provider": "outlook_calendar"}, format="json"
    )
    assert_aitronos_error(response, 400, "OAUTH_APP_NOT_CONFIGURED")


def test_disconnect_removes_the_connection_its_events_and_bots(buddy, dana, google_calendar):
    kept = CalendarFactory(project=dana.project, calendar_user=dana, platform="microsoft")
    meeting = MeetingFactory(calendar=google_calendar, will_record=True)
    other = MeetingFactory(calendar=kept)
    bot = BotFactory(project=dana.project)
    bot.meetings.add(meeting)
    response = buddy.delete(f"{BASE}/calendar/connections/{google_calendar.pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Calendar.objects.filter(pk=google_calendar.pk).exists()
    assert not Meeting.objects.filter(pk=meeting.pk).exists()
    assert Meeting.objects.filter(pk=other.pk).exists()
    bot.refresh_from_db()
    assert bot.status == Bot.Status.CANCELLED
    listed = buddy.get(f"{BASE}/calendar/connections").json()
    assert [c["credential_id"] for c in listed] == [str(kept.pk)]
    again = buddy.delete(f"{BASE}/calendar/connections/{google_calendar.pk}")
    assert_aitronos_error(again, 404, "NOT_FOUND")

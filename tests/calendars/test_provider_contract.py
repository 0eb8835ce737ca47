"""The provider contract: what every registered provider (and the test-only toy provider)
must do, without network. A new provider adds its two example events to EXAMPLES; its wire
format is tested against a loopback fake (tests/fakes/, tests/calendars/test_sync_providers.py).
"""

import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import RequestFactory
from django.urls import resolve

from calendars import oauth, providers
from calendars.platforms import Platform
from calendars.providers import PROVIDERS, get_provider, provider_for_callback
from calendars.providers.base import (
    CalendarSession,
    Credentials,
    Grant,
    OAuthClient,
    Provider,
    PushReading,
)
from calendars.push import push_address
from meetings.models import Meeting
from tests.meetings.test_facts import NOT_FROM_PROVIDER
from tests.providers import toy

ZOOM = "https://us02web.zoom.us/j/85012345678?pwd=abc123"
START = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
END = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)

# Per provider: a live event (a Zoom call, 09:00-09:30 UTC, organised by dana@acme.com) and a
# removed entry, in the provider's own shape.
EXAMPLES = {
    "google": (
        {
            "id": "ev1",
            "status": "confirmed",
            "summary": "Zoom call",
            "start": {"dateTime": "2026-11-03T10:00:00+01:00"},
            "end": {"dateTime": "2026-11-03T10:30:00+01:00"},
            "location": ZOOM,
            "organizer": {"email": "dana@acme.com"},
        },
        {"id": "ev2", "status": "cancelled"},
    ),
    "microsoft": (
        {
            "id": "AAMk1",
            "subject": "Zoom call",
            "start": {"dateTime": "2026-11-03T09:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-03T09:30:00.0000000", "timeZone": "UTC"},
            "body": {"contentType": "text", "content": f"Join: {ZOOM}"},
            "organizer": {"emailAddress": {"address": "dana@acme.com"}},
        },
        {"id": "AAMk2", "@removed": {"reason": "deleted"}},
    ),
    toy.PLATFORM: (
        {
            "id": "t1",
            "title": "Zoom call",
            "starts": "2026-11-03T09:00:00+00:00",
            "ends": "2026-11-03T09:30:00+00:00",
            "video_url": ZOOM,
            "organizer": "dana@acme.com",
        },
        {"id": "t2", "deleted": True},
    ),
}
ODD_PAYLOADS = [{}, {"id": None, "start": "x", "attendees": "y"}, {"body": 3}]
NAME = re.compile(r"[a-z0-9]+")


@pytest.fixture(params=[*PROVIDERS, toy.PLATFORM])
def provider(request, monkeypatch) -> Provider:
    toy.register(monkeypatch)
    return get_provider(request.param)


def test_every_provider_has_examples():
    assert set(EXAMPLES) == {*PROVIDERS, toy.PLATFORM}


def test_the_stored_platforms_are_the_registered_providers():
    assert set(Platform.values) == set(PROVIDERS)


def test_identity(provider, monkeypatch):
    assert isinstance(provider, Provider)
    assert PROVIDERS[provider.platform]
    assert provider.label
    assert NAME.fullmatch(provider.platform) and NAME.fullmatch(provider.callback_name)
    assert provider.redirect_url_key.endswith("_redirect_url")
    assert "changes" in provider.push_endpoints
    assert all(NAME.fullmatch(endpoint) for endpoint in provider.push_endpoints)
    others = [p for p in providers.registered() if p is not provider]
    assert provider.callback_name not in {p.callback_name for p in others}
    assert provider.redirect_url_key not in {p.redirect_url_key for p in others}
    assert isinstance(provider.cursor_covers_window, bool)
    provider.check_tenant("")  # an empty tenant suits every provider


def test_oauth_callback_and_push_routes_reach_the_provider(provider):
    match = resolve(urlsplit(oauth.callback_url(provider.platform)).path)
    assert match.url_name == "calendar-oauth-callback"
    assert provider_for_callback(match.kwargs["callback_name"]) is provider
    for endpoint in provider.push_endpoints:
        match = resolve(urlsplit(push_address(provider.platform, endpoint)).path)
        assert match.kwargs["platform"] == provider.platform
        assert match.kwargs.get("endpoint", "changes") == endpoint
    assert push_address(provider.platform, "no-such-endpoint") == ""


def test_authorization_url_carries_state_and_redirect_uri(provider):
    state = json.dumps({"recall_calendar_auth_token": "t", provider.redirect_url_key: "x"})
    url = provider.authorization_url(
        client=OAuthClient("client-id", "secret"), redirect_uri="https://cs.test/cb/", state=state
    )
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).scheme == "https"
    assert query["state"] == [state]
    assert query["redirect_uri"] == ["https://cs.test/cb/"]
    assert query["client_id"] == ["client-id"]


def test_calendar_scopes(provider):
    some = sorted(provider.calendar_scopes)[0]
    assert provider.has_calendar_scope(Grant("a", "r", scopes=frozenset({some})))
    assert not provider.has_calendar_scope(Grant("a", "r", scopes=frozenset({"openid"})))


def test_session(provider):
    session = provider.session(Credentials(OAuthClient("id", "secret"), refresh_token="r"))
    assert isinstance(session, CalendarSession)


def test_example_events(provider):
    live, removed = EXAMPLES[provider.platform]
    assert provider.event_id(live) == live["id"]
    assert provider.event_id(removed) == removed["id"]
    assert not provider.is_removed(live)
    assert provider.is_removed(removed)

    fields = provider.meeting_fields(live, account_email="dana@acme.com")
    assert fields["platform_event_id"] == live["id"]
    assert fields["title"] == "Zoom call"
    assert (fields["start_time"], fields["end_time"]) == (START, END)
    assert fields["organizer_email"] == "dana@acme.com"
    assert fields["is_hosted_by_me"] is True
    assert fields["status"] == "confirmed"
    assert fields["meeting_platform"] == "zoom"
    assert fields["meeting_invite"]["meeting_id"] == "85012345678"
    assert fields["raw"] == live
    assert provider.detect_link(live).platform == "zoom"
    assert provider.explain_link(live)[0].detection is not None
    assert provider.meeting_fields(removed, account_email="dana@acme.com")["status"] == "cancelled"


@pytest.mark.parametrize("payload", ODD_PAYLOADS)
def test_odd_events_never_raise(provider, payload):
    keys = {f.name for f in Meeting._meta.concrete_fields} - NOT_FROM_PROVIDER
    assert set(provider.meeting_fields(payload, account_email="a@b.c")) == keys
    assert provider.detect_link(payload) is None
    assert provider.explain_link(payload) == []
    assert provider.detect_link(None) is None
    assert provider.explain_link(None) == []


@pytest.mark.parametrize("body", [b"", b"{}", b"not json", b"[1, 2]"])
def test_push_reading_never_raises(provider, body):
    for endpoint in provider.push_endpoints:
        request = RequestFactory().post(
            f"/api/v1/push/{provider.platform}/", body, content_type="application/json"
        )
        reading = provider.read_push(request, endpoint=endpoint)
        assert isinstance(reading, PushReading)
        assert 200 <= reading.response.status_code < 500
        for notification in reading.notifications:
            assert isinstance(notification.channel_id, str)
            assert isinstance(notification.token, str)

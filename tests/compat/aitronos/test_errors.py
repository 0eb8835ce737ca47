"""Aitronos's error envelope on its prefix (400, 401, 403, 404, 405, 413, 429), ours everywhere
else."""

import re

import pytest
from rest_framework.test import APIClient

from calendars import tokens
from calendars.models import CalendarUser
from tests.config.test_errors import assert_envelope

from .conftest import BASE, assert_aitronos_error

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_401_without_a_token_is_seed_002s_answer(anon, db):
    response = anon.post(f"{BASE}/calendar/sync")
    error = assert_aitronos_error(response, 401, "AUTHENTICATION_REQUIRED")
    assert response.json() == {
        "success": False,
        "error": {
            "code": "AUTHENTICATION_REQUIRED",
            "message": "Authentication is required to access this resource.",
            "type": "client_error",
            "status": 401,
            "details": {},
            "trace_id": response["X-Request-ID"],
            "timestamp": error["timestamp"],
        },
    }
    assert TIMESTAMP.match(error["timestamp"])
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-token", "Bearer ", "Token abc", "Bearer csk_an-api-key-is-not-a-token"],
)
def test_401_with_a_bad_token(anon, db, authorization):
    response = anon.get(f"{BASE}/calendar/events", HTTP_AUTHORIZATION=authorization)
    assert_aitronos_error(response, 401, "AUTHENTICATION_REQUIRED")


def test_401_for_a_token_whose_user_is_gone(dana):
    token = tokens.mint(dana)
    CalendarUser.objects.filter(pk=dana.pk).delete()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    error = assert_aitronos_error(
        client.get(f"{BASE}/auto-join/rules"), 401, "AUTHENTICATION_REQUIRED"
    )
    # A token that fails its check keeps our message: it says why.
    assert error["message"] != "Authentication is required to access this resource."


def test_the_trace_id_is_the_callers_request_id(anon, db):
    response = anon.get(f"{BASE}/calendar/events", HTTP_X_REQUEST_ID="trace-abc-123-def")
    assert assert_aitronos_error(response, 401, "AUTHENTICATION_REQUIRED")["trace_id"] == (
        "trace-abc-123-def"
    )


def test_400_validation_error_with_details(buddy):
    error = assert_aitronos_error(
        buddy.get(f"{BASE}/calendar/events", {"limit": 0, "skip": -1}),
        400,
        "VALIDATION_ERROR",
    )
    assert set(error["details"]) == {"limit", "skip"}


def test_400_unknown_field_and_bad_json(buddy):
    error = assert_aitronos_error(
        buddy.post(f"{BASE}/auto-join/rules", {"name": "x", "colour": "red"}, format="json"),
        400,
        "VALIDATION_ERROR",
    )
    assert error["details"] == {"colour": ["Unknown field."]}
    response = buddy.post(f"{BASE}/auto-join/rules", "{not json", content_type="application/json")
    assert assert_aitronos_error(response, 400, "PARSE_ERROR")["details"] == {}


def test_403_for_an_origin_the_project_does_not_allow(acme, buddy):
    acme.project.cors_allowed_origins = ["https://app.acme.com"]
    acme.project.save()
    response = buddy.get(f"{BASE}/calendar/connections", HTTP_ORIGIN="https://evil.example")
    assert_aitronos_error(response, 403, "PERMISSION_DENIED")


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/events/00000000-0000-0000-0000-000000000000",
        "/calendar/events/mcevt_123",  # not an id of ours: the resolver's 404
        "/auto-join/rules/00000000-0000-0000-0000-000000000000",
        "/no-such-thing",
    ],
)
def test_404(buddy, path):
    assert_aitronos_error(buddy.get(f"{BASE}{path}"), 404, "NOT_FOUND")


def test_404_without_a_token_too(anon, db):
    assert_aitronos_error(anon.get(f"{BASE}/sessions"), 404, "NOT_FOUND")


def test_405_keeps_the_allow_header(buddy):
    response = buddy.put(f"{BASE}/auto-join/rules", {}, format="json")
    assert_aitronos_error(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert_aitronos_error(buddy.get(f"{BASE}/calendar/sync"), 405, "METHOD_NOT_ALLOWED")


def test_413_from_the_request_guard(buddy, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = buddy.post(f"{BASE}/auto-join/rules", {"name": "x" * 200}, format="json")
    assert_aitronos_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_429_from_the_sync_throttle(buddy, settings):
    from django.core.cache import cache

    cache.clear()
    settings.CALENDAR_REFRESH_RATE = "1/min"
    assert buddy.post(f"{BASE}/calendar/sync").status_code == 200
    response = buddy.post(f"{BASE}/calendar/sync")
    assert_aitronos_error(response, 429, "RATE_LIMIT_EXCEEDED")
    assert "Retry-After" in response


def test_500_is_a_server_error(buddy, monkeypatch):
    from calendars.aitronos import views

    def crash(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "rules_of", crash)
    client = buddy
    client.raise_request_exception = False
    error = assert_aitronos_error(client.get(f"{BASE}/auto-join/rules"), 500, "INTERNAL_ERROR")
    assert "a bug" not in error["message"]


def test_other_prefixes_keep_our_envelope(anon, db):
    assert_envelope(anon.get("/api/v1/calendar/meetings/"), 401, "not_authenticated")
    assert_envelope(anon.get("/compat/meetingbaas/calendars/"), 401, "not_authenticated")
    assert_envelope(anon.get("/compat/aitronosx/nothing"), 404, "not_found")


def test_browsers_may_call_it_the_server_surfaces_stay_closed(anon, db):
    """The surface acts for the signed-in user, from a browser app like V1's token routes: CORS
    answers its preflight; the API-key surfaces send no CORS headers."""
    origin = "https://app.customer.example"
    preflight = anon.options(
        f"{BASE}/calendar/events",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert preflight["Access-Control-Allow-Origin"] in (origin, "*")
    assert "authorization" in preflight["Access-Control-Allow-Headers"].lower()
    for path in ("/compat/meetingbaas/calendars/", "/api/v1/calendars/"):
        closed = anon.options(path, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
        assert "Access-Control-Allow-Origin" not in closed

"""Recall's public V1 demo client, call for call: its backend mints a token with the API key, then
the browser SPA talks to the calendar API with only that token, across origins."""

from calendars.models import CalendarUser
from tests.factories import CalendarFactory, MeetingFactory

ORIGIN = "https://demo.example.com"


def test_demo_client_sequence(acme, client):
    # 1. The demo's server: POST authenticate with the API key.
    minted = acme.client.post(
        "/api/v1/calendar/authenticate/", {"user_id": "demo-user"}, format="json"
    )
    assert minted.status_code == 200
    token = minted.json()["token"]
    browser = {"HTTP_ORIGIN": ORIGIN, "HTTP_X_RECALLCALENDARAUTHTOKEN": token}

    # 2. The browser's preflight for its custom header.
    preflight = client.options(
        "/api/v1/calendar/user/",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-recallcalendarauthtoken,content-type",
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] in (ORIGIN, "*")
    allowed_headers = preflight["Access-Control-Allow-Headers"].lower()
    assert "x-recallcalendarauthtoken" in allowed_headers and "content-type" in allowed_headers
    assert "PUT" in preflight["Access-Control-Allow-Methods"]

    # 3. GET user: not connected yet, as the demo's "connect" screen expects.
    user = client.get("/api/v1/calendar/user/", **browser)
    assert user.status_code == 200
    assert user["Access-Control-Allow-Origin"] in (ORIGIN, "*")
    body = user.json()
    assert body["connections"] == []

    # (The user connects Google through the hosted OAuth flow; simulated here.)
    calendar_user = CalendarUser.objects.get(project=acme.project, external_id="demo-user")
    calendar = CalendarFactory(project=acme.project, calendar_user=calendar_user)
    meeting = MeetingFactory(calendar=calendar)
    polled = client.get("/api/v1/calendar/user/", **browser).json()
    assert [c["connected"] for c in polled["connections"] if c["platform"] == "google"] == [True]

    # 4. GET meetings: a plain array.
    meetings = client.get("/api/v1/calendar/meetings/", **browser)
    assert meetings.status_code == 200
    assert [m["id"] for m in meetings.json()] == [str(meeting.pk)]

    # 5. PUT preferences: the demo sends the whole preferences object back, id included.
    preferences = {**polled["preferences"], "record_external": True, "record_internal": True}
    updated = client.put(
        "/api/v1/calendar/user/",
        {"preferences": preferences},
        content_type="application/json",
        **browser,
    )
    assert updated.status_code == 200
    assert updated.json()["preferences"]["record_external"] is True

    # 6. PUT a meeting override.
    override = client.put(
        f"/api/v1/calendar/meetings/{meeting.pk}/",
        {"override_should_record": True},
        content_type="application/json",
        **browser,
    )
    assert override.status_code == 200
    assert override.json()["override_should_record"] is True

    # 7. POST meetings/refresh WITHOUT the trailing slash: answered, not redirected.
    refreshed = client.post("/api/v1/calendar/meetings/refresh", **browser)
    assert refreshed.status_code == 200
    assert isinstance(refreshed.json(), list)

    # 8. DELETE user: 204 with an empty body.
    deleted = client.delete("/api/v1/calendar/user/", **browser)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert deleted["Access-Control-Allow-Origin"] in (ORIGIN, "*")
    assert not CalendarUser.objects.filter(external_id="demo-user").exists()


def test_api_key_routes_send_no_cors_headers(acme, client):
    response = client.options(
        "/api/v1/calendar/authenticate/",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert "Access-Control-Allow-Origin" not in response


def test_project_can_restrict_browser_origins(acme, client):
    from calendars import tokens

    acme.project.cors_allowed_origins = ["https://app.acme.com"]
    acme.project.save()
    user = CalendarUser.objects.create(project=acme.project, external_id="u")
    token = tokens.mint(user)
    allowed = client.get(
        "/api/v1/calendar/user/",
        HTTP_ORIGIN="https://app.acme.com",
        HTTP_X_RECALLCALENDARAUTHTOKEN=token,
    )
    assert allowed.status_code == 200
    refused = client.get(
        "/api/v1/calendar/user/", HTTP_ORIGIN=ORIGIN, HTTP_X_RECALLCALENDARAUTHTOKEN=token
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    # Server-to-server calls carry no Origin and are not affected.
    assert (
        client.get("/api/v1/calendar/user/", HTTP_X_RECALLCALENDARAUTHTOKEN=token).status_code
        == 200
    )

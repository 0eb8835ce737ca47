"""Raw calendar listing, sync endpoints and resync_all against the provider fakes; calendar
users on the server side."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from calendars import tokens
from calendars.models import Calendar, CalendarUser
from meetings.models import Meeting
from tests.factories import CalendarFactory, MeetingFactory

EMAIL = "dana@acme.com"


@pytest.fixture(params=["google", "microsoft"])
def provider(request):
    return request.param


@pytest.fixture
def fake(provider, request):
    fake = request.getfixturevalue(f"fake_{provider}")
    fake.add_account(EMAIL)
    return fake


def credentials(fake, provider, **overrides):
    return {
        "platform": provider,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "refresh_token": fake.grant(EMAIL),
        **overrides,
    }


def add_event(fake, summary, hours=24):
    start = timezone.now().replace(microsecond=0) + timedelta(hours=hours)
    return fake.add_event(EMAIL, summary=summary, start=start, end=start + timedelta(minutes=30))


def connect(tenant, fake, provider, **fields) -> str:
    response = tenant.client.post(
        "/api/v1/calendars/", {**credentials(fake, provider), **fields}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_raw_lists_the_accounts_calendars(acme, fake, provider):
    if provider == "google":
        fake.add_calendar(EMAIL, summary="Team", access_role="reader")
    else:
        fake.add_calendar(EMAIL, name="Team", owner_email="team@acme.com")
    response = acme.client.post(
        "/api/v1/calendars/raw/", credentials(fake, provider), format="json"
    )
    assert response.status_code == 200, response.json()
    calendars = response.json()["calendars"]
    assert set(calendars[0]) == {"id", "name", "email", "is_primary", "access_role"}
    primary = [c for c in calendars if c["is_primary"]]
    assert len(primary) == 1 and primary[0]["email"] == EMAIL
    team = next(c for c in calendars if c["name"] == "Team")
    assert team["is_primary"] is False
    assert team["access_role"] == "reader"
    assert "secret" not in response.content.decode()
    assert Calendar.objects.count() == 0  # nothing stored


def test_raw_with_refused_credentials(acme, fake, provider):
    response = acme.client.post(
        "/api/v1/calendars/raw/",
        credentials(fake, provider, client_secret="wrong"),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_client"
    body = credentials(fake, provider)
    fake.revoke_grant(EMAIL)
    response = acme.client.post("/api/v1/calendars/raw/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "auth_revoked"


def test_raw_rejects_unknown_fields(acme):
    response = acme.client.post(
        "/api/v1/calendars/raw/",
        {
            "platform": "google",
            "client_id": "a",
            "client_secret": "b",
            "refresh_token": "c",
            "x": 1,
        },
        format="json",
    )
    assert response.status_code == 400 and "x" in response.json()["errors"]


def test_sync_connects_and_counts(acme, fake, provider):
    add_event(fake, "One")
    event = add_event(fake, "Two", hours=48)
    calendar_id = connect(acme, fake, provider)
    response = acme.client.post(f"/api/v1/calendars/{calendar_id}/sync/")
    assert response.status_code == 200
    assert response.json() == {
        "synced_calendars": 1,
        "new_events": 2,
        "updated_events": 0,
        "errors": [],
    }
    calendar = acme.client.get(f"/api/v1/calendars/{calendar_id}/").json()
    assert calendar["state"] == "connected"
    assert calendar["email"] == EMAIL  # learnt from the provider on the first sync
    fake.update_event(event, summary="Two (moved)")
    add_event(fake, "Three", hours=72)
    body = acme.client.post(f"/api/v1/calendars/{calendar_id}/sync/").json()
    assert (body["new_events"], body["updated_events"]) == (1, 1)


def test_sync_with_revoked_grant_disconnects(acme, fake, provider):
    calendar_id = connect(acme, fake, provider)
    fake.revoke_grant(EMAIL)
    body = acme.client.post(f"/api/v1/calendars/{calendar_id}/sync/").json()
    assert body["synced_calendars"] == 0
    assert len(body["errors"]) == 1 and body["errors"][0].startswith(f"{calendar_id}: ")
    calendar = acme.client.get(f"/api/v1/calendars/{calendar_id}/").json()
    assert calendar["state"] == "disconnected"
    assert calendar["connection_failure_data"]["error"] == "auth_revoked"
    # New credentials reconnect it.
    fresh = fake.grant(EMAIL)
    acme.client.patch(f"/api/v1/calendars/{calendar_id}/", {"refresh_token": fresh}, format="json")
    assert acme.client.post(f"/api/v1/calendars/{calendar_id}/sync/").json()["errors"] == []
    assert acme.client.get(f"/api/v1/calendars/{calendar_id}/").json()["state"] == "connected"


def test_resync_all_reports_each_calendar(acme, globex, fake, provider):
    good = connect(acme, fake, provider, deduplication_key="good")
    bad = connect(acme, fake, provider, deduplication_key="bad", refresh_token="not-a-token")
    theirs = connect(globex, fake, provider)
    response = acme.client.post("/api/v1/calendars/resync_all/?days=30")
    assert response.status_code == 200
    body = response.json()
    assert body["synced_calendars"] == [good]
    assert [error[0] for error in body["errors"]] == [bad]
    assert theirs not in str(body)
    assert Calendar.objects.get(pk=theirs).last_attempted_sync_at is None
    assert acme.client.post("/api/v1/calendars/resync_all/?days=0").status_code == 400


def test_calendar_token_sync_summary(acme, fake, provider):
    add_event(fake, "One")
    connect(acme, fake, provider, external_id="user-1")
    calendar_user = CalendarUser.objects.get(external_id="user-1")
    client = APIClient()
    client.credentials(HTTP_X_RECALLCALENDARAUTHTOKEN=tokens.mint(calendar_user))
    response = client.post("/api/v1/calendar/sync/")
    assert response.status_code == 200
    assert response.json() == {
        "synced_calendars": 1,
        "new_events": 1,
        "updated_events": 0,
        "errors": [],
    }


# --- calendar users ----------------------------------------------------------------------------


def test_calendar_users_list_retrieve_delete(acme, globex):
    calendar = CalendarFactory(project=acme.project, calendar_user__external_id="user/1 x")
    MeetingFactory(calendar=calendar)
    CalendarFactory(project=acme.project, calendar_user__external_id="user-2")
    CalendarFactory(project=globex.project, calendar_user__external_id="user-3")
    listed = acme.client.get("/api/v1/calendar_users/").json()
    assert set(listed) == {"next", "previous", "results"}
    assert sorted(u["external_id"] for u in listed["results"]) == ["user-2", "user/1 x"]
    body = acme.client.get("/api/v1/calendar_users/user-2/").json()
    assert body["external_id"] == "user-2"
    assert set(body["calendars"][0]) == {"id", "platform", "email", "state"}
    assert acme.client.get("/api/v1/calendar_users/user-3/").status_code == 404
    assert acme.client.delete("/api/v1/calendar_users/user-3/").status_code == 404
    assert acme.client.delete("/api/v1/calendar_users/user-2").status_code == 204
    assert acme.client.get("/api/v1/calendar_users/user-2/").status_code == 404
    assert not CalendarUser.objects.filter(external_id="user-2").exists()
    assert CalendarUser.objects.filter(external_id="user-3").exists()
    assert Meeting.objects.count() == 1

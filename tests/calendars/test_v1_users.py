"""Contract of the Recall V1 calendar-user endpoints: shapes, types and status codes."""

import pytest

from bots.models import Bot
from calendars.models import Calendar, CalendarUser
from tests.factories import BotFactory, CalendarFactory, MeetingFactory

from .conftest import token_client

USER_URL = "/api/v1/calendar/user/"
PREFERENCE_FLAGS = [
    "record_non_host",
    "record_recurring",
    "record_external",
    "record_internal",
    "record_confirmed",
    "record_only_host",
]


def assert_user_shape(body: dict) -> None:
    assert set(body) == {"id", "external_id", "connections", "preferences"}
    assert isinstance(body["id"], str) and isinstance(body["external_id"], str)
    assert isinstance(body["connections"], list)
    for connection in body["connections"]:
        assert set(connection) == {"connected", "platform", "email", "id"}
        assert isinstance(connection["connected"], bool)
        assert connection["platform"] in ("google", "microsoft")
        assert isinstance(connection["id"], str)
    preferences = body["preferences"]
    assert set(preferences) == {"id", *PREFERENCE_FLAGS, "bot_name"}
    assert all(isinstance(preferences[flag], bool) for flag in PREFERENCE_FLAGS)
    assert isinstance(preferences["bot_name"], str) and isinstance(preferences["id"], str)


def test_get_user_defaults(alice, alice_client):
    response = alice_client.get(USER_URL)
    assert response.status_code == 200
    body = response.json()
    assert_user_shape(body)
    assert body["connections"] == []
    assert not any(body["preferences"][flag] for flag in PREFERENCE_FLAGS)
    assert body["preferences"]["bot_name"] == "Meeting Notetaker"
    assert body["external_id"] == "alice"


def test_connections_listed(alice, alice_client):
    google = CalendarFactory(project=alice.project, calendar_user=alice, email="a@acme.com")
    CalendarFactory(
        project=alice.project,
        calendar_user=alice,
        platform="microsoft",
        state=Calendar.State.DISCONNECTED,
        email="a@acme.onmicrosoft.com",
    )
    body = alice_client.get(USER_URL).json()
    assert_user_shape(body)
    by_platform = {c["platform"]: c for c in body["connections"]}
    assert by_platform["google"] == {
        "connected": True,
        "platform": "google",
        "email": "a@acme.com",
        "id": str(google.pk),
    }
    assert by_platform["microsoft"]["connected"] is False


@pytest.mark.parametrize("method", ["put", "patch"])
def test_partial_preference_update_keeps_other_values(alice, alice_client, method):
    alice.record_external = True
    alice.bot_name = "Alice's notes"
    alice.save()
    response = getattr(alice_client, method)(
        USER_URL, {"preferences": {"record_internal": True}}, format="json"
    )
    assert response.status_code == 200
    prefs = response.json()["preferences"]
    assert prefs["record_internal"] is True
    assert prefs["record_external"] is True
    assert prefs["bot_name"] == "Alice's notes"


def test_full_object_round_trip_ignores_read_only_fields(alice, alice_client):
    body = alice_client.get(USER_URL).json()
    body["id"] = "00000000-0000-0000-0000-000000000000"
    body["connections"] = [{"platform": "google", "connected": True}]
    body["preferences"]["id"] = "00000000-0000-0000-0000-000000000000"
    body["preferences"]["record_only_host"] = True
    response = alice_client.put(USER_URL, body, format="json")
    assert response.status_code == 200
    updated = response.json()
    assert updated["id"] == str(alice.pk)
    assert updated["connections"] == []
    assert updated["preferences"]["id"] == str(alice.preferences_id)
    assert updated["preferences"]["record_only_host"] is True


@pytest.mark.parametrize(
    "body,field",
    [
        ({"preferences": {"record_external": "sometimes"}}, "preferences"),
        ({"preferences": "all"}, "preferences"),
        ({"preferences": {"bot_name": "x" * 101}}, "preferences"),
        ({"external_id": ""}, "external_id"),
    ],
)
def test_bad_update_is_400_and_changes_nothing(alice, alice_client, body, field):
    if isinstance(body.get("preferences"), dict):
        body["preferences"]["record_internal"] = True
    response = alice_client.patch(USER_URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request_data"
    assert field in response.json()["errors"]
    alice.refresh_from_db()
    assert alice.record_internal is False


def test_external_id_change_and_conflict(alice, alice_client, acme):
    CalendarUser.objects.create(project=acme.project, external_id="bob")
    conflict = alice_client.patch(USER_URL, {"external_id": "bob"}, format="json")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "conflict"
    renamed = alice_client.patch(USER_URL, {"external_id": "alice-2"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["external_id"] == "alice-2"


def test_disconnect(alice, alice_client):
    calendar = CalendarFactory(project=alice.project, calendar_user=alice)
    meeting = MeetingFactory(calendar=calendar)
    bot = BotFactory(project=alice.project)
    bot.meetings.add(meeting)
    response = alice_client.post(USER_URL + "disconnect/", {"platform": "google"}, format="json")
    assert response.status_code == 200
    assert_user_shape(response.json())
    assert response.json()["connections"] == []
    assert not Calendar.objects.filter(pk=calendar.pk).exists()
    bot.refresh_from_db()
    assert bot.status == Bot.Status.CANCELLED
    # Disconnecting again is harmless.
    again = alice_client.post(USER_URL + "disconnect", {"platform": "google"}, format="json")
    assert again.status_code == 200


@pytest.mark.parametrize("body", [{"platform": "yahoo"}, {}, {"platform": "google_calendar"}])
def test_disconnect_unknown_platform_is_400(alice, alice_client, body):
    CalendarFactory(project=alice.project, calendar_user=alice)
    response = alice_client.post(USER_URL + "disconnect/", body, format="json")
    assert response.status_code == 400
    assert "platform" in response.json()["errors"]
    assert alice.calendars.count() == 1


def test_delete_user(alice, alice_client):
    calendar = CalendarFactory(project=alice.project, calendar_user=alice)
    meeting = MeetingFactory(calendar=calendar)
    future_bot = BotFactory(project=alice.project)
    future_bot.meetings.add(meeting)
    shared_bot = BotFactory(project=alice.project)
    shared_bot.meetings.add(
        meeting, MeetingFactory(calendar=CalendarFactory(project=alice.project))
    )
    token_of_alice = alice_client

    response = alice_client.delete(USER_URL)
    assert response.status_code == 204
    assert response.content == b""
    assert not CalendarUser.objects.filter(pk=alice.pk).exists()
    future_bot.refresh_from_db()
    shared_bot.refresh_from_db()
    assert future_bot.status == Bot.Status.CANCELLED
    assert shared_bot.status == Bot.Status.SCHEDULED  # still serves the other user's meeting
    assert shared_bot.meetings.count() == 1
    assert token_of_alice.get(USER_URL).status_code == 401


def test_users_list_with_email_filter(acme, globex, alice):
    CalendarFactory(project=acme.project, calendar_user=alice, email="Alice@Acme.com")
    CalendarUser.objects.create(project=acme.project, external_id="bob")
    CalendarFactory(project=globex.project, email="alice@acme.com")  # other tenant
    everyone = acme.client.get("/api/v1/calendar/users/")
    assert everyone.status_code == 200
    assert [u["external_id"] for u in everyone.json()] == ["alice", "bob"]
    for user in everyone.json():
        assert_user_shape(user)
    filtered = acme.client.get("/api/v1/calendar/users", {"email": "alice@acme.com"}).json()
    assert [u["external_id"] for u in filtered] == ["alice"]
    assert acme.client.get("/api/v1/calendar/users/", {"email": "none@x.com"}).json() == []


def test_users_list_needs_api_key(alice):
    assert token_client(alice).get("/api/v1/calendar/users/").status_code == 401


def test_methods_not_allowed(alice_client):
    assert alice_client.post(USER_URL, {}, format="json").status_code == 405
    assert alice_client.get(USER_URL + "disconnect/").status_code == 405


def test_users_list_paginated(acme):
    for n in range(3):
        CalendarUser.objects.create(project=acme.project, external_id=f"u{n}")
    page = acme.client.get("/api/v1/calendar/users/", {"paginate": "true"}).json()
    assert set(page) == {"next", "previous", "results"}
    assert [u["external_id"] for u in page["results"]] == ["u0", "u1", "u2"]
    assert page["next"] is None

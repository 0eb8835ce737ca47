"""Attendee clients on the server API (issue 15, part 3): the `event_id` filter, a bot put on a
calendar event with `POST /api/v1/bots` and taken off with `DELETE /api/v1/bots/{id}` (over the
same services as `/calendar_events/{id}/bot/`), a taken `deduplication_key` as a 400 naming the
field, and `updated_at` moving with every state change of a calendar."""

import uuid
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from bots.models import Bot
from bots.serializers import BotSerializer
from calendars import meeting_services
from calendars.models import Calendar
from meetings.models import BotSchedule, Meeting
from tests.factories import CalendarFactory, MeetingFactory

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EMAIL = "dana@acme.com"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def calendar(acme):
    return CalendarFactory(project=acme.project, calendar_user=None)


def event(calendar, hours=2, **fields):
    start = NOW + timedelta(hours=hours)
    return MeetingFactory(
        calendar=calendar,
        start_time=start,
        end_time=start + timedelta(minutes=30),
        meeting_url=fields.pop("meeting_url", f"https://meet.google.com/abc-defg-{hours:03}"),
        **fields,
    )


def create_bot(tenant, target=None, **body):
    if target is not None:
        body["calendar_event_id"] = str(target.pk)
    return tenant.client.post("/api/v1/bots/", body, format="json")


def event_route(target, all_occurrences=False):
    return (
        f"/api/v1/calendar_events/{target.pk}/bot/?all_occurrences={str(all_occurrences).lower()}"
    )


def live_bots(target):
    return list(Meeting.objects.get(pk=target.pk).bots.exclude(status__in=Bot.TERMINAL_STATUSES))


def events(tenant, query):
    response = tenant.client.get(f"/api/v1/calendar_events/?{query}")
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


# --- event_id ------------------------------------------------------------------------------------


def test_event_id_finds_one_event_ended_or_not(acme, globex, calendar, clock):
    upcoming, ended = event(calendar, hours=2), event(calendar, hours=-5)
    event(calendar, hours=3)
    # Without it the list has the upcoming events only; a lookup by id finds an ended one too.
    assert str(ended.pk) not in events(acme, "")
    for target in (upcoming, ended):
        assert events(acme, f"event_id={target.pk}") == [str(target.pk)]
    assert events(acme, f"event_id={ended.pk}&status=upcoming") == []
    assert events(acme, f"event_id={upcoming.pk}&calendar_id={calendar.pk}") == [str(upcoming.pk)]
    # Unknown, or another project's: an empty list.
    assert events(acme, f"event_id={uuid.uuid4()}") == []
    assert events(globex, f"event_id={upcoming.pk}") == []


def test_malformed_event_id_is_400(acme):
    response = acme.client.get("/api/v1/calendar_events/?event_id=evt_abcdef1234567890")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request_data"
    assert list(response.json()["errors"]) == ["event_id"]


# --- POST /api/v1/bots ---------------------------------------------------------------------------


def test_create_bot_for_a_calendar_event(acme, calendar, clock):
    target = event(calendar, hours=2)
    response = create_bot(
        acme,
        target,
        bot_name="Notes",
        bot_config={"recording_mode": "audio_only"},
        deduplication_key="evt-1",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == set(BotSerializer.Meta.fields)
    # The event's link and start (minus the project's lead time); the bot is made already.
    assert body["meeting_url"] == target.meeting_url
    lead = timedelta(seconds=acme.project.bot_join_lead_seconds)
    assert parse_datetime(body["join_at"]) == target.start_time - lead
    assert (body["bot_name"], body["status"], body["deduplication_key"]) == (
        "Notes",
        "scheduled",
        "evt-1",
    )
    assert [m["id"] for m in body["calendar_meetings"]] == [str(target.pk)]
    assert Bot.objects.get(pk=body["id"]).config["recording_mode"] == "audio_only"
    # It is the event's bot, as the event shows it.
    shown = acme.client.get(f"/api/v1/calendar_events/{target.pk}/").json()
    assert [bot["id"] for bot in shown["bots"]] == [body["id"]]
    assert shown["bot_schedule"]["bot_name"] == "Notes"
    assert acme.client.get(f"/api/v1/bots/{body['id']}/").json() == body


def test_both_routes_go_through_the_same_services(acme, calendar, clock):
    first, second = event(calendar, hours=1), event(calendar, hours=2)
    schedule = mock.patch.object(
        meeting_services, "meeting_schedule_bot", wraps=meeting_services.meeting_schedule_bot
    )
    unschedule = mock.patch.object(
        meeting_services,
        "meeting_unschedule_bot",
        wraps=meeting_services.meeting_unschedule_bot,
    )
    with schedule as scheduled, unschedule as unscheduled:
        bot_id = create_bot(acme, first, bot_name="A").json()["id"]
        acme.client.post(event_route(second), {"bot_name": "B"}, format="json")
        assert acme.client.delete(f"/api/v1/bots/{bot_id}/").status_code == 200
        acme.client.delete(event_route(second))
    assert [c.kwargs["meeting"].pk for c in scheduled.call_args_list] == [first.pk, second.pk]
    assert [c.kwargs["meeting"].pk for c in unscheduled.call_args_list] == [first.pk, second.pk]


def test_a_second_create_for_an_event_replaces_the_settings_of_its_one_bot(acme, calendar, clock):
    target = event(calendar)
    first = create_bot(acme, target, bot_name="A", deduplication_key="evt").json()
    again = create_bot(
        acme,
        target,
        bot_name="B",
        deduplication_key="evt",
        transcription_settings={"deepgram": {"language": "en"}},
    )
    assert again.status_code == 201
    assert again.json()["id"] == first["id"] and again.json()["bot_name"] == "B"
    [bot] = live_bots(target)
    assert bot.config["transcription_settings"] == {"deepgram": {"language": "en"}}
    assert BotSchedule.objects.get(meeting=target).bot_name == "B"


def test_a_deduplication_key_another_bot_holds_is_400_with_the_field(acme, calendar, clock):
    first, second = event(calendar, hours=1), event(calendar, hours=2)
    create_bot(acme, first, bot_name="A", deduplication_key="k")
    response = create_bot(acme, second, bot_name="B", deduplication_key="k")
    assert response.status_code == 400
    assert response.json()["code"] == "deduplication_key_conflict"
    assert list(response.json()["errors"]) == ["deduplication_key"]
    assert live_bots(second) == []
    assert not BotSchedule.objects.filter(meeting=second).exists()


def test_attendee_settings_travel_in_bot_config(acme, calendar, clock):
    target = event(calendar)
    response = create_bot(
        acme,
        target,
        bot_name="A",
        bot_config={"custom": 1},
        transcription_settings={"deepgram": {"language": "en"}},
        recording_settings={"format": "mp4"},
        # What an Attendee client leaves unset may come as null.
        meeting_url=None,
        join_at=None,
        metadata=None,
        zoom_settings=None,
        deduplication_key=None,
    )
    assert response.status_code == 201, response.json()
    expected = {
        "custom": 1,
        "transcription_settings": {"deepgram": {"language": "en"}},
        "recording_settings": {"format": "mp4"},
    }
    assert BotSchedule.objects.get(meeting=target).bot_config == expected
    assert Bot.objects.get(pk=response.json()["id"]).config == {
        **acme.project.bot_config,
        **expected,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"meeting_url": "https://zoom.us/j/123"}, "meeting_url"),
        ({"join_at": "2026-11-02T12:00:00Z"}, "join_at"),
        ({"metadata": {"user": "u1"}}, "metadata"),
        ({"colour": "red"}, "colour"),
        ({"colour": None}, "colour"),
        ({"bot_name": None}, "bot_name"),
        ({"bot_config": "x"}, "bot_config"),
        (
            {"recording_settings": {}, "bot_config": {"recording_settings": {}}},
            "recording_settings",
        ),
    ],
)
def test_refused_fields_are_400_and_store_nothing(acme, calendar, clock, body, field):
    response = create_bot(acme, event(calendar), **{"bot_name": "A", **body})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request_data"
    assert field in response.json()["errors"]
    assert not Bot.objects.exists() and not BotSchedule.objects.exists()


def test_settings_and_bot_config_are_checked_together_for_the_backend(acme, calendar, clock):
    acme.project.bot_dispatch_backend = "attendee"
    acme.project.save()
    target = event(calendar)
    for body in (
        {"bot_config": {"bot_name": "x"}},  # a key calsync sets itself
        {"webhooks": [{"url": "http://insecure.example.com", "triggers": ["bot.state_change"]}]},
    ):
        response = create_bot(acme, target, bot_name="A", **body)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["bot_config"]
    assert not Bot.objects.exists() and not BotSchedule.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"bot_name": "A", "meeting_url": "https://zoom.us/j/123"},
        {"bot_name": "A", "calendar_event_id": None},
        {},
    ],
)
def test_without_calendar_event_id_is_400(acme, body):
    response = acme.client.post("/api/v1/bots/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "calendar_event_id_required"
    assert not Bot.objects.exists()


def test_malformed_calendar_event_id_is_400(acme):
    response = acme.client.post(
        "/api/v1/bots/", {"calendar_event_id": "evt_123", "bot_name": "A"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["calendar_event_id"]


def test_another_projects_event_is_404_and_makes_no_bot(acme, globex, calendar, clock):
    target = event(calendar)
    for tenant, event_id in ((globex, target.pk), (acme, uuid.uuid4())):
        response = tenant.client.post(
            "/api/v1/bots/", {"calendar_event_id": str(event_id), "bot_name": "X"}, format="json"
        )
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert "calendar_event_id" in response.json()["errors"]
    assert not Bot.objects.exists() and not BotSchedule.objects.exists()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"meeting_url": None}, "event_has_no_meeting_url"),
        ({"hours": -2}, "event_ended"),
        ({"is_deleted": True}, "event_cancelled"),
        ({"status": "cancelled"}, "event_cancelled"),
        ({"is_all_day": True}, "event_is_all_day"),
    ],
)
def test_unschedulable_events_are_refused_as_on_the_event_route(
    acme, calendar, clock, fields, code
):
    response = create_bot(acme, event(calendar, **fields), bot_name="A")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not Bot.objects.exists() and not BotSchedule.objects.exists()


@pytest.mark.parametrize("state", [Calendar.State.CONNECTING, Calendar.State.DISCONNECTED])
def test_an_event_that_gets_no_bot_now_is_409_and_stores_nothing(acme, clock, state):
    calendar = CalendarFactory(project=acme.project, calendar_user=None, state=state)
    target = event(calendar)
    response = create_bot(acme, target, bot_name="A")
    assert response.status_code == 409
    assert response.json()["code"] == "bot_not_created"
    assert "calendar" in response.json()["message"]
    assert not Bot.objects.exists() and not BotSchedule.objects.exists()
    # The event route answers the event, so it keeps the request for when the calendar connects.
    assert acme.client.post(event_route(target), {"bot_name": "A"}, format="json").json()[0][
        "bot_schedule"
    ]


# --- DELETE /api/v1/bots/{id} --------------------------------------------------------------------


def test_delete_unschedules_the_bot_and_is_idempotent(acme, calendar, clock):
    target = event(calendar)
    bot_id = create_bot(acme, target, bot_name="A").json()["id"]
    response = acme.client.delete(f"/api/v1/bots/{bot_id}/")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["status"]) == (bot_id, "cancelled")
    assert not BotSchedule.objects.exists()
    shown = acme.client.get(f"/api/v1/calendar_events/{target.pk}/").json()
    assert shown["bot_schedule"] is None and shown["will_record"] is False
    history = Bot.objects.get(pk=bot_id).status_changes
    again = acme.client.delete(f"/api/v1/bots/{bot_id}/")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    assert Bot.objects.get(pk=bot_id).status_changes == history
    # The event can have a bot again: a new one.
    assert create_bot(acme, target, bot_name="A").json()["id"] != bot_id


def test_delete_one_occurrence_of_a_series_keeps_the_others(acme, calendar, clock):
    instances = [
        event(calendar, hours=24 * (k + 1), series_id="s", is_recurring=True) for k in range(3)
    ]
    acme.client.post(event_route(instances[0], True), {"bot_name": "S"}, format="json")
    [bot] = live_bots(instances[1])
    assert acme.client.delete(f"/api/v1/bots/{bot.pk}/").status_code == 200
    assert live_bots(instances[1]) == []
    assert len(live_bots(instances[0])) == 1 and len(live_bots(instances[2])) == 1
    # The series keeps its request; this occurrence is the exception.
    assert BotSchedule.objects.get(meeting__isnull=True, series_id="s").enabled
    assert not BotSchedule.objects.get(meeting=instances[1]).enabled


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (Bot.Status.DISPATCHED, "bot_already_dispatched"),
        (Bot.Status.IN_CALL_RECORDING, "bot_already_dispatched"),
        (Bot.Status.DONE, "bot_terminal"),
        (Bot.Status.FATAL, "bot_terminal"),
    ],
)
def test_delete_refuses_a_bot_past_scheduling(acme, calendar, clock, status, code):
    target = event(calendar)
    bot_id = create_bot(acme, target, bot_name="A").json()["id"]
    Bot.objects.filter(pk=bot_id).update(status=status)
    response = acme.client.delete(f"/api/v1/bots/{bot_id}/")
    assert response.status_code == 409
    assert response.json()["code"] == code
    assert Bot.objects.get(pk=bot_id).status == status
    assert BotSchedule.objects.get(meeting=target).enabled


def test_delete_refuses_a_bot_its_meeting_records_otherwise_and_changes_nothing(
    acme, calendar, clock
):
    target = event(calendar)
    bot_id = create_bot(acme, target, bot_name="A").json()["id"]
    # Recording turned on for the meeting (Recall V1's override) needs the bot anyway.
    Meeting.objects.filter(pk=target.pk).update(override_should_record=True)
    response = acme.client.delete(f"/api/v1/bots/{bot_id}/")
    assert response.status_code == 409
    assert response.json()["code"] == "bot_not_scheduled_by_api"
    assert Bot.objects.get(pk=bot_id).status == Bot.Status.SCHEDULED
    assert BotSchedule.objects.get(meeting=target).enabled  # rolled back


def test_another_projects_bot_is_404_and_untouched(acme, globex, calendar, clock):
    target = event(calendar)
    bot_id = create_bot(acme, target, bot_name="A").json()["id"]
    response = globex.client.delete(f"/api/v1/bots/{bot_id}/")
    assert response.status_code == 404
    assert Bot.objects.get(pk=bot_id).status == Bot.Status.SCHEDULED
    assert BotSchedule.objects.filter(meeting=target).exists()


# --- updated_at and the calendar's state ---------------------------------------------------------


@pytest.fixture(params=["google", "microsoft"])
def fake(request):
    fake = request.getfixturevalue(f"fake_{request.param}")
    fake.add_account(EMAIL)
    fake.platform = request.param
    return fake


def test_updated_at_moves_with_every_state_change(acme, fake):
    calendar_id = acme.client.post(
        "/api/v1/calendars/",
        {
            "platform": fake.platform,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "refresh_token": fake.grant(EMAIL),
        },
        format="json",
    ).json()["id"]

    def step(action) -> tuple[str, datetime]:
        before = timezone.now()
        action()
        state, updated_at = Calendar.objects.values_list("state", "updated_at").get(pk=calendar_id)
        assert updated_at >= before, state
        shown = acme.client.get(f"/api/v1/calendars/{calendar_id}/").json()
        assert (shown["state"], parse_datetime(shown["updated_at"])) == (state, updated_at)
        return state

    def sync():
        acme.client.post(f"/api/v1/calendars/{calendar_id}/sync/")

    def new_credentials():
        acme.client.patch(
            f"/api/v1/calendars/{calendar_id}/",
            {"refresh_token": fake.grant(EMAIL)},
            format="json",
        )

    # Connect: the first sync stores the state with an UPDATE under its lease.
    assert step(sync) == "connected"
    # Disconnect: the provider refuses the grant during a sync (Entra ID would honour an access
    # token already issued until it expires: revoked too).
    fake.revoke_grant(
        EMAIL, **({"revoke_access_tokens": True} if fake.platform == "microsoft" else {})
    )
    assert step(sync) == "disconnected"
    # Reconnect: new credentials, then the sync that checks them.
    assert step(new_credentials) == "connecting"
    assert step(sync) == "connected"

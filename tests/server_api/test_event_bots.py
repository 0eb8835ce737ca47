"""Per-event bot scheduling: POST / PATCH / DELETE /calendar_events/{id}/bot/, single events and
whole series, errors, and bots following moves and cancellations through reconciliation."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bots.models import Bot
from bots.reconcile import reconcile_meetings
from meetings.models import BotSchedule, Meeting
from tests.factories import BotFactory, CalendarFactory, MeetingFactory

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def calendar(acme):
    return CalendarFactory(project=acme.project, calendar_user=None)


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def meeting(calendar, hours=1, **fields):
    return MeetingFactory(
        calendar=calendar,
        start_time=at(hours),
        end_time=at(hours) + timedelta(minutes=30),
        meeting_url=fields.pop("meeting_url", f"https://meet.google.com/abc-defg-{hours:03}"),
        **fields,
    )


def series(calendar, n=3, series_id="series-1"):
    return [
        meeting(calendar, hours=24 * (k + 1), series_id=series_id, is_recurring=True)
        for k in range(n)
    ]


def bot_url(event, all_occurrences=None):
    query = "" if all_occurrences is None else f"?all_occurrences={str(all_occurrences).lower()}"
    return f"/api/v1/calendar_events/{event.pk}/bot/{query}"


def live_bots(event):
    return list(Meeting.objects.get(pk=event.pk).bots.exclude(status__in=Bot.TERMINAL_STATUSES))


def test_schedule_one_event(acme, calendar):
    event = meeting(calendar)
    response = acme.client.post(
        bot_url(event),
        {
            "bot_name": "Notes",
            "bot_config": {"recording_mode": "audio_only"},
            "deduplication_key": "d1",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    [body] = response.json()
    assert body["id"] == str(event.pk)
    assert body["will_record"] is True
    assert (
        body["will_record_reason"]
        == "Recorded: a bot was scheduled for this meeting through the API."
    )
    assert body["bot_schedule"] == {
        "bot_name": "Notes",
        "bot_config": {"recording_mode": "audio_only"},
        "deduplication_key": "d1",
        "all_occurrences": False,
    }
    [bot] = body["bots"]
    assert bot["bot_name"] == "Notes" and bot["deduplication_key"] == "d1"
    assert bot["status"] == "scheduled"
    stored = Bot.objects.get(pk=bot["id"])
    assert stored.config["recording_mode"] == "audio_only"
    assert stored.join_at <= event.start_time


def test_schedule_again_replaces_settings_without_second_bot(acme, calendar):
    event = meeting(calendar)
    acme.client.post(bot_url(event), {"bot_name": "A"}, format="json")
    acme.client.post(bot_url(event), {"bot_name": "B"}, format="json")
    [bot] = live_bots(event)
    assert bot.name == "B"


def test_patch_changes_config_and_delete_is_idempotent(acme, calendar):
    event = meeting(calendar)
    assert acme.client.patch(bot_url(event), {"bot_name": "X"}, format="json").json()["code"] == (
        "bot_not_scheduled"
    )
    acme.client.post(bot_url(event), {"bot_name": "A", "bot_config": {"a": 1}}, format="json")
    [bot] = live_bots(event)
    response = acme.client.patch(bot_url(event), {"bot_config": {"b": 2}}, format="json")
    assert response.status_code == 200
    assert response.json()[0]["bot_schedule"]["bot_config"] == {"b": 2}
    bot.refresh_from_db()
    assert bot.config == {**acme.project.bot_config, "b": 2} and bot.name == "A"
    for _ in range(2):
        response = acme.client.delete(bot_url(event))
        assert response.status_code == 200
        assert response.json()[0]["bot_schedule"] is None
        assert response.json()[0]["will_record"] is False
    bot.refresh_from_db()
    assert bot.status == Bot.Status.CANCELLED
    assert not BotSchedule.objects.exists()


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
def test_unschedulable_events_are_400(acme, calendar, fields, code):
    event = meeting(calendar, **fields)
    response = acme.client.post(bot_url(event), {"bot_name": "A"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not BotSchedule.objects.exists() and not Bot.objects.exists()


@pytest.mark.parametrize(
    ("body", "query", "field"),
    [
        ({}, "", "bot_name"),
        ({"bot_name": "A", "bot_config": "x"}, "", "bot_config"),
        ({"bot_name": "A", "extra": 1}, "", "extra"),
        ({"bot_name": "A"}, "?all_occurrences=maybe", "all_occurrences"),
    ],
)
def test_bad_bot_requests_are_400(acme, calendar, body, query, field):
    event = meeting(calendar)
    response = acme.client.post(bot_url(event) + query, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not BotSchedule.objects.exists()


def test_conflicting_deduplication_key_is_400_with_field(acme, calendar):
    first, second = meeting(calendar, hours=1), meeting(calendar, hours=2)
    acme.client.post(bot_url(first), {"bot_name": "A", "deduplication_key": "k"}, format="json")
    response = acme.client.post(
        bot_url(second), {"bot_name": "A", "deduplication_key": "k"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "deduplication_key_conflict"
    assert list(response.json()["errors"]) == ["deduplication_key"]
    assert live_bots(second) == []
    # A live bot made elsewhere with that key conflicts too.
    BotFactory(project=acme.project, deduplication_key="manual")
    response = acme.client.post(
        bot_url(second), {"bot_name": "A", "deduplication_key": "manual"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "deduplication_key_conflict"


def test_all_occurrences_covers_series_and_instances_synced_later(acme, calendar):
    instances = series(calendar)
    response = acme.client.post(
        bot_url(instances[0], True),
        {"bot_name": "Series bot", "deduplication_key": "s"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert [e["id"] for e in body] == [str(i.pk) for i in instances]
    assert all(e["bot_schedule"]["all_occurrences"] for e in body)
    keys = {bot.deduplication_key for i in instances for bot in live_bots(i)}
    assert len(keys) == 3 and all(k.startswith("s|") for k in keys)
    # An instance that enters the sync horizon later gets its bot when sync reconciles it.
    newcomer = meeting(calendar, hours=24 * 4, series_id="series-1", is_recurring=True)
    reconcile_meetings(meeting_ids=[newcomer.pk])
    [bot] = live_bots(newcomer)
    assert bot.name == "Series bot"


def test_one_occurrence_of_a_scheduled_series(acme, calendar):
    instances = series(calendar)
    acme.client.post(bot_url(instances[0], True), {"bot_name": "S"}, format="json")
    # PATCH one occurrence: only it changes.
    acme.client.patch(bot_url(instances[1], False), {"bot_name": "Special"}, format="json")
    assert [b.name for b in live_bots(instances[1])] == ["Special"]
    assert [b.name for b in live_bots(instances[2])] == ["S"]
    # DELETE one occurrence: the others keep their bots.
    response = acme.client.delete(bot_url(instances[2], False))
    assert response.json()[0]["will_record"] is False
    assert live_bots(instances[2]) == []
    assert len(live_bots(instances[0])) == 1
    # PATCH the series: every scheduled occurrence follows.
    acme.client.patch(bot_url(instances[0], True), {"bot_name": "Renamed"}, format="json")
    assert [b.name for b in live_bots(instances[0])] == ["Renamed"]
    assert [b.name for b in live_bots(instances[1])] == ["Renamed"]
    assert live_bots(instances[2]) == []
    # DELETE the series: nothing left.
    acme.client.delete(bot_url(instances[1], True))
    assert all(live_bots(i) == [] for i in instances)
    assert not BotSchedule.objects.exists()


def test_explicit_bot_follows_moves_and_cancellations(acme, calendar):
    event = meeting(calendar, hours=3)
    acme.client.post(bot_url(event), {"bot_name": "A", "deduplication_key": "d"}, format="json")
    [bot] = live_bots(event)
    Meeting.objects.filter(pk=event.pk).update(start_time=at(6), end_time=at(7))
    reconcile_meetings(meeting_ids=[event.pk])
    bot.refresh_from_db()
    assert bot.status == Bot.Status.SCHEDULED
    assert bot.join_at > at(5)
    assert [b.pk for b in live_bots(event)] == [bot.pk]
    Meeting.objects.filter(pk=event.pk).update(is_deleted=True)
    reconcile_meetings(meeting_ids=[event.pk])
    bot.refresh_from_db()
    assert bot.status == Bot.Status.CANCELLED


def test_series_can_be_scheduled_from_a_past_instance(acme, calendar):
    past = meeting(calendar, hours=-30, series_id="s2", is_recurring=True)
    future = meeting(calendar, hours=30, series_id="s2", is_recurring=True)
    response = acme.client.post(bot_url(past, True), {"bot_name": "S"}, format="json")
    assert response.status_code == 200
    assert live_bots(past) == [] and len(live_bots(future)) == 1


def test_patch_to_a_taken_deduplication_key_is_400(acme, calendar):
    first, second = meeting(calendar, hours=1), meeting(calendar, hours=2)
    acme.client.post(bot_url(first), {"bot_name": "A", "deduplication_key": "k1"}, format="json")
    acme.client.post(bot_url(second), {"bot_name": "B", "deduplication_key": "k2"}, format="json")
    response = acme.client.patch(bot_url(second), {"deduplication_key": "k1"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "deduplication_key_conflict"
    assert [b.deduplication_key for b in live_bots(second)] == ["k2"]
    response = acme.client.patch(bot_url(second), {"colour": "red"}, format="json")
    assert response.status_code == 400 and "colour" in response.json()["errors"]

"""Payload builders: real models in, the documented shapes out."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import BotFactory, CalendarFactory, MeetingFactory
from webhooks import events

FREE_FORM = {"metadata", "calendar_metadata", "connection_failure_data", "config"}


def assert_same_keys(data, example, path: str = "data") -> None:
    if isinstance(data, dict) and isinstance(example, dict):
        assert set(data) == set(example), path
        for key in data:
            if key not in FREE_FORM:
                assert_same_keys(data[key], example[key], f"{path}.{key}")
    elif isinstance(data, list) and isinstance(example, list) and data and example:
        assert_same_keys(data[0], example[0], f"{path}[0]")


def assert_shape_matches_example(event_type: str, data: dict) -> None:
    """The documented example (README, OpenAPI) has exactly the keys the builder makes."""
    assert_same_keys(data, events.CATALOGUE[event_type].example, event_type)


@pytest.fixture
def calendar(acme):
    calendar = CalendarFactory(
        project=acme.project, metadata={"team": "sales"}, deduplication_key="acme-42"
    )
    calendar.last_successful_sync_at = datetime(2025, 3, 4, 9, 59, tzinfo=UTC)
    return calendar


@pytest.fixture
def bot(acme, calendar):
    bot = BotFactory(project=acme.project, metadata={"crm_deal": "D-1"})
    bot.meetings.add(MeetingFactory(calendar=calendar))
    return bot


def test_calendar_events(calendar):
    data = events.calendar_updated_payload(calendar)
    assert data["calendar_id"] == str(calendar.id)
    assert data["calendar_metadata"] == {"team": "sales"}
    assert data["calendar_deduplication_key"] == "acme-42"
    assert data["calendar_user"]["external_id"] == calendar.calendar_user.external_id
    assert_shape_matches_example(events.CALENDAR_UPDATE, data)

    calendar.set_state("disconnected", failure={"error": "invalid_grant"})
    data = events.calendar_state_change(calendar, previous_state="connected")
    assert (data["change"], data["state"]) == ("disconnected", "disconnected")
    assert data["connection_failure_data"] == {"error": "invalid_grant"}
    assert data["last_successful_sync_at"] == "2025-03-04T09:59:00Z"
    assert_shape_matches_example(events.CALENDAR_STATE_CHANGE, data)

    calendar.set_state("connected")
    data = events.calendar_state_change(calendar, previous_state="disconnected")
    assert data["change"] == "reconnected"
    assert events.calendar_state_change(calendar, previous_state="connecting")["change"] == (
        "connected"
    )


def test_calendar_sync_events(calendar):
    meetings = [MeetingFactory(calendar=calendar) for _ in range(2)]
    at = datetime(2025, 3, 4, 10, tzinfo=UTC)
    data = events.calendar_sync_events(
        calendar, last_updated_ts=at, meeting_ids=[m.id for m in meetings]
    )
    assert data["last_updated_ts"] == "2025-03-04T10:00:00Z"
    assert data["affected_event_uuids"] == [str(m.id) for m in meetings]
    assert_shape_matches_example(events.CALENDAR_SYNC_EVENTS, data)
    data = events.calendar_events_update(calendar, last_updated_ts=at, meeting_ids=[])
    assert data["state"] == "connected"
    assert_shape_matches_example(events.CALENDAR_EVENTS_UPDATE, data)


def test_calendar_user_events(calendar):
    data = events.calendar_user_event(calendar.calendar_user)
    assert_shape_matches_example(events.CALENDAR_USER_UPDATED, data)


def test_bot_scheduling_events(bot, calendar):
    data = events.bot_scheduled(bot)
    assert data["bot"]["metadata"] == {"crm_deal": "D-1"}
    (meeting,) = data["bot"]["calendar_meetings"]
    assert meeting["calendar_id"] == str(calendar.id)
    assert meeting["calendar_user"]["external_id"] == calendar.calendar_user.external_id
    assert_shape_matches_example(events.BOT_SCHEDULED, data)

    previous = bot.join_at
    bot.join_at += timedelta(hours=1)
    data = events.bot_rescheduled(bot, previous_join_at=previous)
    assert data["previous_join_at"] == events.iso(previous)
    assert_shape_matches_example(events.BOT_RESCHEDULED, data)
    assert_shape_matches_example(
        events.BOT_CANCELLED, events.bot_cancelled(bot, reason="meeting_cancelled")
    )
    data = events.bot_dispatch(bot)
    assert data["bot"]["name"] == bot.name
    assert_shape_matches_example(events.BOT_DISPATCH, data)


def test_bot_status_events_in_recall_shapes(bot):
    bot.set_status("in_call_recording")
    (legacy_type, legacy), (per_code_type, per_code) = events.bot_status_events(bot)
    assert legacy_type == "bot.status_change"
    assert legacy["bot_id"] == str(bot.id)
    assert legacy["status"]["code"] == "in_call_recording"
    assert per_code_type == "bot.in_call_recording"
    assert per_code == {
        "data": {
            "code": "in_call_recording",
            "sub_code": None,
            "updated_at": bot.status_changes[-1]["created_at"],
        },
        "bot": {"id": str(bot.id), "metadata": {"crm_deal": "D-1"}},
    }
    assert_shape_matches_example("bot.in_call_recording", per_code)
    assert_shape_matches_example(events.BOT_STATUS_CHANGE, legacy)

    bot.set_status("dispatching")  # no per-code event for this one
    assert [t for t, _ in events.bot_status_events(bot)] == ["bot.status_change"]


def test_catalogue():
    assert {f"bot.{code}" for code in events.BOT_STATUS_CODES} <= set(events.CATALOGUE)
    for name in ["calendar.update", "calendar.sync_events", "bot.joining_call", "bot.fatal"]:
        assert name in events.CATALOGUE
    assert "bot.*" in events.EVENT_TYPE_FILTERS


def test_emit_events_reads_endpoints_once_and_writes_in_one_statement(
    acme, django_assert_num_queries
):
    from tests.factories import WebhookEndpointFactory
    from webhooks.services import emit_events

    bots_only = WebhookEndpointFactory(project=acme.project, event_types=["bot.*"])
    everything = WebhookEndpointFactory(project=acme.project, event_types=[])
    built = []

    def payload(n):
        def build():
            built.append(n)
            return {"n": n}

        return build

    items = [(events.BOT_SCHEDULED, payload(n)) for n in range(20)]
    items.append((events.CALENDAR_UPDATE, payload("calendar")))
    with django_assert_num_queries(2 + 2):  # endpoints, the insert, and its savepoint
        deliveries = emit_events(project=acme.project, items=items)
    assert len(deliveries) == 20 * 2 + 1
    by_endpoint = {bots_only.pk: 0, everything.pk: 0}
    for delivery in deliveries:
        by_endpoint[delivery.endpoint_id] += 1
    assert by_endpoint == {bots_only.pk: 20, everything.pk: 21}
    assert len({d.event_id for d in deliveries}) == 21  # one id per event, shared by endpoints
    assert built == [*range(20), "calendar"]  # each payload built once


def test_emit_events_without_listeners_writes_and_builds_nothing(acme):
    from webhooks.services import emit_events

    def explode():
        raise AssertionError("built for nobody")

    assert emit_events(project=acme.project, items=[(events.BOT_SCHEDULED, explode)]) == []
    with pytest.raises(ValueError, match="Unknown webhook event type"):
        emit_events(project=acme.project, items=[("bot.exploded", {})])

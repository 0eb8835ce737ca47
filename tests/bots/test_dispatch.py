"""Dispatch at join time, on a controlled clock: once, never early, never twice, and a dispatch
queued before a reschedule does nothing."""

from datetime import timedelta

import pytest

from bots import jobs
from bots.dispatch import dispatch_bot, push_bot
from bots.models import Bot
from tests.factories import BotFactory, MeetingFactory

from .conftest import NOW, emitted, fresh, later


@pytest.fixture
def bot(acme, clock) -> Bot:
    return BotFactory(project=acme.project, join_at=later(minutes=5))


def test_local_bot_is_dispatched_once_at_its_join_time(bot, hooks, clock, queue):
    assert jobs.dispatch_due_bots() == 0
    clock.shift(timedelta(minutes=5) - timedelta(seconds=1))
    assert jobs.dispatch_due_bots() == 0  # never early
    assert fresh(bot).status == Bot.Status.SCHEDULED

    clock.shift(timedelta(seconds=1))
    assert jobs.dispatch_due_bots() == 1
    bot = fresh(bot)
    assert bot.status == Bot.Status.DISPATCHED
    assert bot.dispatched_at == bot.join_at
    assert bot.status_changes[-1]["code"] == "dispatched"
    assert emitted() == ["bot.dispatch", "bot.status_change"]
    assert queue.calls == []  # nothing to hand over for the local backend

    clock.shift(timedelta(seconds=30))
    assert jobs.dispatch_due_bots() == 0
    assert dispatch_bot(bot_id=bot.pk, join_at=bot.join_at) == "stale"
    assert emitted() == ["bot.dispatch", "bot.status_change"]


def test_dispatch_payload_tells_the_runner_everything(acme, bot, hooks, clock):
    meeting = MeetingFactory(calendar__project=acme.project, start_time=later(minutes=7))
    bot.meetings.add(meeting)
    Bot.objects.filter(pk=bot.pk).update(config={"transcript": True}, metadata={"deal": "D-9"})
    clock.shift(timedelta(minutes=5))
    jobs.dispatch_due_bots()
    data = hooks.deliveries.get(event_type="bot.dispatch").payload["data"]["bot"]
    assert data["id"] == str(bot.pk)
    assert (data["name"], data["config"], data["metadata"]) == (
        bot.name,
        {"transcript": True},
        {"deal": "D-9"},
    )
    assert data["status"] == "dispatched"
    assert data["calendar_meetings"][0]["id"] == str(meeting.pk)


def test_a_dispatch_queued_before_a_reschedule_does_nothing(bot, hooks, clock):
    read_join_at = bot.join_at
    Bot.objects.filter(pk=bot.pk).update(join_at=later(hours=1))  # the meeting moved
    clock.shift(timedelta(minutes=5))
    assert dispatch_bot(bot_id=bot.pk, join_at=read_join_at) == "stale"
    assert fresh(bot).status == Bot.Status.SCHEDULED
    assert emitted() == []

    clock.shift(timedelta(minutes=55))
    assert dispatch_bot(bot_id=bot.pk, join_at=later(hours=1)) == "dispatched"


def test_a_dispatch_before_the_join_time_does_nothing(bot):
    assert dispatch_bot(bot_id=bot.pk, join_at=bot.join_at) == "early"
    assert fresh(bot).status == Bot.Status.SCHEDULED


def test_two_dispatchers_one_dispatch(bot, hooks, clock):
    clock.shift(timedelta(minutes=5))
    outcomes = [dispatch_bot(bot_id=bot.pk, join_at=bot.join_at) for _ in range(2)]
    assert outcomes == ["dispatched", "stale"]
    assert emitted().count("bot.dispatch") == 1


def test_cancelled_and_joined_bots_are_not_dispatched(acme, clock):
    for status in (Bot.Status.CANCELLED, Bot.Status.JOINING_CALL):
        BotFactory(project=acme.project, join_at=NOW, status=status)
    assert jobs.dispatch_due_bots() == 0


def test_attendee_bot_already_handed_over_is_dispatched_without_a_call(
    acme, attendee, bot, hooks, clock
):
    push_bot(bot_id=bot.pk)
    clock.shift(timedelta(minutes=5))
    requests_before = attendee.count()
    jobs.dispatch_due_bots()
    assert fresh(bot).status == Bot.Status.DISPATCHED
    assert attendee.count() == requests_before
    assert emitted() == ["bot.status_change"]  # Attendee launches it itself: no bot.dispatch


def test_attendee_bot_not_handed_over_gets_its_own_job(acme, attendee, bot, clock, queue):
    clock.shift(timedelta(minutes=5))
    assert jobs.dispatch_due_bots() == 1
    assert queue.funcs() == ["bots.jobs.dispatch_bot"]
    assert queue.run() == ["dispatched"]
    (remote,) = attendee.bots.values()
    assert remote.state == "joining"  # due: created to join now


def test_hand_over_failing_at_join_time_is_retried_then_fatal(
    acme, attendee, bot, hooks, clock, settings
):
    settings.BOTS_DISPATCH_GRACE_SECONDS = 600
    attendee.fail_next(100, 503)
    clock.shift(timedelta(minutes=5))
    for _ in range(10):
        assert dispatch_bot(bot_id=bot.pk, join_at=bot.join_at) == "retrying"
        assert fresh(bot).status == Bot.Status.SCHEDULED
        clock.shift(timedelta(minutes=1))
    clock.shift(timedelta(seconds=1))
    assert dispatch_bot(bot_id=bot.pk, join_at=bot.join_at) == "failed"
    bot = fresh(bot)
    assert bot.status == Bot.Status.FATAL
    change = bot.status_changes[-1]
    assert change["sub_code"] == "backend_unreachable" and "HTTP 503" in change["message"]
    assert emitted() == ["bot.fatal", "bot.status_change"]


def test_a_meeting_still_running_extends_the_deadline(acme, attendee, bot, clock, settings):
    settings.BOTS_DISPATCH_GRACE_SECONDS = 60
    meeting = MeetingFactory(
        calendar__project=acme.project, start_time=later(minutes=7), end_time=later(minutes=60)
    )
    bot.meetings.add(meeting)
    attendee.fail_next(1, 503)
    clock.shift(timedelta(minutes=30))
    assert dispatch_bot(bot_id=bot.pk, join_at=bot.join_at) == "retrying"
    assert dispatch_bot(bot_id=bot.pk, join_at=bot.join_at) == "dispatched"


def test_a_refused_hand_over_at_join_time_is_fatal_at_once(acme, attendee, bot, hooks, clock):
    Bot.objects.filter(pk=bot.pk).update(name="")
    clock.shift(timedelta(minutes=5))
    assert dispatch_bot(bot_id=bot.pk, join_at=bot.join_at) == "failed"
    assert fresh(bot).status_changes[-1]["sub_code"] == "backend_rejected"


def test_a_bot_missed_while_workers_were_down_is_fatal(bot, hooks, clock, settings):
    settings.BOTS_DISPATCH_GRACE_SECONDS = 600
    clock.shift(timedelta(minutes=5, seconds=601))
    jobs.dispatch_due_bots()
    bot = fresh(bot)
    assert bot.status == Bot.Status.FATAL
    assert bot.status_changes[-1]["sub_code"] == "dispatch_missed"

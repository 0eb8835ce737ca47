"""Bot writes outside reconciliation (cancel, re-dispatch, release), and the contract with
reconciliation: one event per change, and the backend push queued after commit."""

from datetime import timedelta

import pytest

from bots import jobs
from bots.dispatch import dispatch_bot, push_bot
from bots.models import Bot
from bots.services import BotError, bot_cancel, bot_redispatch
from tests.factories import BotFactory, MeetingFactory

from .conftest import NOW, emitted, fresh, later

pytestmark = pytest.mark.usefixtures("clock")


def test_cancel_tells_the_customer_and_the_backend(
    acme, attendee, hooks, queue, django_capture_on_commit_callbacks
):
    bot = BotFactory(project=acme.project, join_at=later(hours=1))
    push_bot(bot_id=bot.pk)
    with django_capture_on_commit_callbacks(execute=True):
        bot_cancel(bot=bot)
    bot = fresh(bot)
    assert bot.status == Bot.Status.CANCELLED
    assert bot.status_changes[-1]["sub_code"] == "cancelled_by_staff"
    assert emitted() == ["bot.cancelled"]
    assert queue.funcs() == ["bots.jobs.push_bot_to_backend"]
    queue.run()
    assert attendee.bots == {}


def test_only_bots_that_have_not_joined_can_be_cancelled(acme, queue):
    bot = BotFactory(project=acme.project, status=Bot.Status.IN_CALL_RECORDING)
    with pytest.raises(BotError) as refused:
        bot_cancel(bot=bot)
    assert (refused.value.code, refused.value.status) == ("bot_not_cancellable", 409)
    assert fresh(bot).status == Bot.Status.IN_CALL_RECORDING


def test_redispatch_a_failed_dispatch(
    acme, hooks, clock, queue, django_capture_on_commit_callbacks
):
    bot = BotFactory(project=acme.project, join_at=NOW - timedelta(minutes=30))
    bot.set_status(Bot.Status.FATAL, sub_code="backend_unreachable")
    bot.backend_error, bot.backend_attempts = "HTTP 503", 9
    bot.save()
    clock.shift(timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        bot_redispatch(bot=bot)
    bot = fresh(bot)
    assert (bot.status, bot.join_at) == (Bot.Status.SCHEDULED, later(minutes=1))
    assert (bot.backend_error, bot.backend_attempts) == ("", 0)
    assert emitted() == ["bot.rescheduled"]
    assert queue.run() == ["dispatched"]
    assert fresh(bot).status == Bot.Status.DISPATCHED
    assert "bot.dispatch" in emitted()


def test_redispatch_refusals(acme):
    scheduled = BotFactory(project=acme.project)
    with pytest.raises(BotError, match="dispatch failed"):
        bot_redispatch(bot=scheduled)
    runner_fatal = BotFactory(project=acme.project)
    runner_fatal.set_status(Bot.Status.FATAL, sub_code="meeting_not_found")
    runner_fatal.save()
    with pytest.raises(BotError):
        bot_redispatch(bot=runner_fatal)

    failed = BotFactory(project=acme.project, deduplication_key="same")
    failed.set_status(Bot.Status.FATAL, sub_code="dispatch_missed")
    failed.save()
    BotFactory(project=acme.project, deduplication_key="same")  # its replacement
    with pytest.raises(BotError) as taken:
        bot_redispatch(bot=failed)
    assert taken.value.code == "deduplication_key_in_use"
    assert fresh(failed).status == Bot.Status.FATAL


def test_dispatched_is_movable_and_joined_is_not():
    assert set(Bot.MOVABLE_STATUSES) == {"scheduled", "dispatched"}
    assert not set(Bot.MOVABLE_STATUSES) & set(Bot.TERMINAL_STATUSES)


def test_a_dispatched_bot_moved_by_reconciliation_is_announced_once_and_sent_again(
    acme, hooks, clock, queue, django_capture_on_commit_callbacks
):
    """The runner already has the bot: it hears of the move exactly once (reconciliation's
    `bot.rescheduled`; the local backend adds nothing) and gets a new `bot.dispatch` at the
    new time."""
    from bots.reconcile import reconcile_meetings
    from calendars.models import CalendarUser
    from tests.factories import CalendarFactory

    user = CalendarUser.objects.create(
        project=acme.project, external_id="alice", record_external=True, record_internal=True
    )
    calendar = CalendarFactory(project=acme.project, calendar_user=user)
    meeting = MeetingFactory(
        calendar=calendar,
        start_time=later(minutes=2),
        end_time=later(minutes=32),
        meeting_url="https://zoom.us/j/1",
    )
    with django_capture_on_commit_callbacks(execute=True):
        reconcile_meetings(meeting_ids=[meeting.pk])
    queue.run()
    assert jobs.dispatch_due_bots() == 1
    (bot,) = Bot.objects.all()
    assert bot.status == Bot.Status.DISPATCHED

    meeting.start_time, meeting.end_time = later(hours=1), later(hours=2)
    meeting.save()
    before = emitted()
    with django_capture_on_commit_callbacks(execute=True):
        reconcile_meetings(meeting_ids=[meeting.pk])
    assert queue.run() == ["synced"]
    added = list(emitted())
    for event_type in before:
        added.remove(event_type)
    assert added == ["bot.rescheduled"]
    bot = fresh(bot)
    assert bot.status == Bot.Status.SCHEDULED and bot.backend_join_at == bot.join_at

    assert dispatch_bot(bot_id=bot.pk, join_at=bot.join_at) == "early"
    clock.shift(bot.join_at - NOW)
    jobs.dispatch_due_bots()
    assert emitted().count("bot.dispatch") == 2

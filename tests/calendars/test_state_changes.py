"""The named state changes of Calendar (calendars/models.py) and Bot (bots/models.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bots.models import Bot
from calendars.models import Calendar
from calendars.providers.base import AuthRevoked, Channel
from tests.factories import BotFactory, CalendarFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_live_excludes_disconnected_calendars():
    live = CalendarFactory()
    CalendarFactory(state=Calendar.State.DISCONNECTED)
    assert list(Calendar.objects.live()) == [live]


def test_lease_free_and_due():
    now = timezone.now()
    project = ProjectFactory()
    never_synced = CalendarFactory(project=project)
    leased = CalendarFactory(project=project, sync_lease_expires_at=now + timedelta(seconds=30))
    backing_off = CalendarFactory(project=project, sync_due_at=now + timedelta(minutes=5))
    fresh = CalendarFactory(
        project=project, last_attempted_sync_at=now, sync_finished_at=now + timedelta(seconds=1)
    )
    CalendarFactory(project=project, state=Calendar.State.DISCONNECTED)
    assert leased not in Calendar.objects.lease_free(now)
    assert never_synced in Calendar.objects.lease_free(now)
    assert set(Calendar.objects.due(now)) == {never_synced}
    assert backing_off not in Calendar.objects.due(now) and fresh not in Calendar.objects.due(now)


def test_mark_due_keeps_an_earlier_request_and_skips_disconnected():
    later = timezone.now() + timedelta(minutes=5)
    in_backoff = CalendarFactory(sync_due_at=later)
    idle = CalendarFactory()
    gone = CalendarFactory(state=Calendar.State.DISCONNECTED)
    assert Calendar.objects.mark_due() == 1
    for calendar in (in_backoff, idle, gone):
        calendar.refresh_from_db()
    assert in_backoff.sync_due_at == later
    assert idle.sync_due_at is not None
    assert gone.sync_due_at is None


def test_mark_disconnected_forgets_the_push_channel():
    calendar = CalendarFactory(sync_due_at=timezone.now())
    calendar.use_push_channel(Channel("chan", "res", timezone.now()), "token")
    calendar.mark_disconnected(AuthRevoked("revoked"))
    calendar.save()
    calendar.refresh_from_db()
    assert calendar.state == Calendar.State.DISCONNECTED
    assert calendar.connection_failure_data["error"] == "auth_revoked"
    assert (calendar.push_channel_id, calendar.push_token, calendar.push_expires_at) == (
        "",
        "",
        None,
    )
    assert calendar.sync_due_at is None


def test_reset_credentials_starts_over():
    calendar = CalendarFactory(
        sync_cursor="cursor",
        access_token="at",
        sync_lease_owner="worker",
        sync_lease_expires_at=timezone.now() + timedelta(seconds=30),
        consecutive_sync_failures=3,
        push_channel_id="chan",
    )
    calendar.reset_credentials(refresh_token="new")
    calendar.save()
    calendar.refresh_from_db()
    assert calendar.refresh_token == "new"
    assert calendar.state == Calendar.State.CONNECTING
    assert (calendar.sync_cursor, calendar.access_token, calendar.push_channel_id) == ("", "", "")
    assert calendar.sync_lease_expires_at is None and calendar.consecutive_sync_failures == 0


def test_bot_live_and_movable():
    project = ProjectFactory()
    scheduled = BotFactory(project=project)
    joined = BotFactory(project=project, status=Bot.Status.IN_CALL_RECORDING)
    BotFactory(project=project, status=Bot.Status.DONE)
    assert set(Bot.objects.live()) == {scheduled, joined}
    assert set(Bot.objects.movable()) == {scheduled}


def test_bot_due():
    now = timezone.now()
    project = ProjectFactory()
    due = BotFactory(project=project, join_at=now - timedelta(seconds=1))
    BotFactory(project=project, join_at=now + timedelta(minutes=1))
    BotFactory(project=project, join_at=now - timedelta(seconds=1), status=Bot.Status.DISPATCHED)
    assert list(Bot.objects.due(now)) == [due]

"""Connecting calendars whose round fails half-way. The first page written proves the
credentials: the calendar becomes connected with it, its new meetings are decided (and get
their bots) at insert, and every upcoming meeting decided while it was connecting is marked
for a new decision in that same transaction."""

from datetime import timedelta

import pytest

from bots.models import TERMINAL_STATUSES, Bot
from calendars.models import Calendar
from calendars.providers.base import ProviderUnavailable
from calendars.services import calendar_update
from meetings.decisions import REASONS
from meetings.models import Meeting

from .harness import make_world


@pytest.fixture
def world(acme, traveller, monkeypatch, settings):
    settings.SYNC_PAGE_ATTEMPTS = 1  # a failed page fails the round
    return make_world(acme.project, traveller, monkeypatch)


class FailThirdRequest(list):
    """The store's failure queue: the round's third page request fails (once)."""

    def __init__(self):
        super().__init__()
        self.requests = 0

    def __bool__(self):
        self.requests += 1
        return self.requests == 3

    def pop(self, index=-1):
        return ProviderUnavailable("503 on a late page")


def calendar_with_meetings(world):
    alice = world.add_calendar("alice", record_external=True)
    day = world.now() + timedelta(days=3)
    for n in range(10):  # pages of 3: a round failing at its third request wrote two
        world.put_meeting(alice, f"a{n}", day + timedelta(hours=n), n, external=True)
    return alice


def live_bots(calendar):
    return Bot.objects.filter(meetings__calendar=calendar).exclude(status__in=TERMINAL_STATUSES)


def test_a_new_calendar_is_connected_by_its_first_page(world):
    alice = calendar_with_meetings(world)
    Calendar.objects.filter(pk=alice.pk).update(state=Calendar.State.CONNECTING)
    alice.store.fail_next = FailThirdRequest()

    assert world.sync(alice) == "retry"
    assert Calendar.objects.get(pk=alice.pk).state == Calendar.State.CONNECTED
    written = Meeting.objects.filter(calendar=alice)
    assert written.count() == 6
    assert written.filter(will_record=True, needs_reconcile=False).count() == 6
    assert live_bots(alice).count() == 6

    alice.store.fail_next = []
    world.tick(3600)
    assert world.sync(alice) == "synced"
    assert live_bots(alice).count() == 10
    world.assert_converged()


def test_new_credentials_decide_every_upcoming_meeting_again_with_the_first_page(world):
    alice = calendar_with_meetings(world)
    assert world.sync(alice) == "synced"
    assert live_bots(alice).count() == 10
    # New credentials: checked by the next sync; meanwhile nothing is recorded.
    world.provider.stores["refresh-alice-2"] = alice.store
    calendar_update(calendar=Calendar.objects.get(pk=alice.pk), refresh_token="refresh-alice-2")
    meetings = Meeting.objects.filter(calendar=alice)
    assert set(meetings.values_list("will_record_reason", flat=True)) == {
        REASONS["calendar_connecting"]
    }
    assert live_bots(alice).count() == 0

    alice.store.fail_next = FailThirdRequest()
    world.tick(60)
    assert world.sync(alice) == "retry"
    # Connected by the first page, which marked every upcoming meeting: all are decided again,
    # the four on the pages the round did not reach included.
    assert Calendar.objects.get(pk=alice.pk).state == Calendar.State.CONNECTED
    assert meetings.filter(will_record=True).count() == 10
    assert live_bots(alice).count() == 10

    alice.store.fail_next = []
    world.tick(3600)
    assert world.sync(alice) == "synced"
    world.assert_converged()

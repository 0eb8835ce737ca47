"""A connecting calendar whose first round fails half-way: the meetings of its first pages were
reconciled while it was still connecting (no bots: "calendar_connecting"), and the next round
does not write them again (unchanged). Becoming connected marks them for a new decision."""

from datetime import timedelta

import pytest

from calendars.models import Calendar
from calendars.providers.base import ProviderUnavailable
from meetings.decisions import REASONS
from meetings.models import Meeting

from .harness import make_world


@pytest.fixture
def world(acme, traveller, monkeypatch):
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


def test_meetings_decided_while_connecting_are_decided_again_once_connected(world, settings):
    settings.SYNC_PAGE_ATTEMPTS = 1  # the failed page fails the round
    alice = world.add_calendar("alice", record_external=True)
    Calendar.objects.filter(pk=alice.pk).update(state=Calendar.State.CONNECTING)
    day = world.now() + timedelta(days=3)
    for n in range(10):  # pages of 3: the round fails after two
        world.put_meeting(alice, f"a{n}", day + timedelta(hours=n), n, external=True)
    alice.store.fail_next = FailThirdRequest()

    assert world.sync(alice) == "retry"
    assert Calendar.objects.get(pk=alice.pk).state == Calendar.State.CONNECTING
    early = Meeting.objects.filter(calendar=alice)
    assert early.count() == 6
    assert set(early.values_list("will_record_reason", flat=True)) == {
        REASONS["calendar_connecting"]
    }
    assert not early.filter(needs_reconcile=True).exists()

    alice.store.fail_next = []
    world.tick(3600)
    assert world.sync(alice) == "synced"
    assert Calendar.objects.get(pk=alice.pk).state == Calendar.State.CONNECTED
    assert Meeting.objects.filter(calendar=alice, will_record=True).count() == 10
    world.assert_converged()

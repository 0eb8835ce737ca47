"""A worker killed between any two steps of a sync (or of the reconciliation inside it) leaves
the database in a state the background jobs repair, within the documented bound, with nothing
lost: meetings equal the provider, every recorded meeting has exactly one bot at the right time,
no bot is left over, every change is announced."""

from datetime import timedelta

import pytest

from calendars import jobs
from calendars.providers.base import ProviderUnavailable

from .harness import POINTS, RECOVERY_BOUND, Killed, World


def scenario(world: World):
    """Alice records external meetings, Bob records all; some meetings are in both calendars
    (one shared bot)."""
    alice = world.add_calendar("alice", record_external=True)
    bob = world.add_calendar("bob", record_external=True, record_internal=True)
    day = world.now() + timedelta(days=1)
    for n in range(8):
        start = day + timedelta(hours=n)
        world.put_meeting(alice, f"a{n}", start, n, external=n % 2 == 0)
        if n < 4:  # the same meeting in Bob's calendar
            world.put_meeting(bob, f"b{n}", start, n, external=n % 2 == 0)
    for calendar in (alice, bob):
        assert world.sync(calendar) == "synced"
    world.assert_converged()
    world.tick(5)
    # Changes the killed sync is working on: new meetings, a move, a new link, a cancellation.
    for n in range(8, 14):
        world.put_meeting(alice, f"a{n}", day + timedelta(hours=n), n, external=True)
    world.put_meeting(alice, "a0", day + timedelta(hours=30), 0, external=True)
    world.put_meeting(alice, "a2", day + timedelta(hours=2), 99, external=True)
    world.cancel(alice, "a4")
    world.put_meeting(alice, "a1", day + timedelta(hours=1), 1, external=True)
    world.tick(5)
    return alice, bob


# (point, nth hit, whether the round fails): every point each path reaches.
ROUND_OK = [(point, 1, False) for point in POINTS if point != "sync.announced"]
ROUND_FAILS = [
    (point, 1, True)
    for point in POINTS
    if point not in ("sync.round_done", "sync.cursor_committed")
]
CASES = [
    *ROUND_OK,
    *ROUND_FAILS,
    ("sync.page_committed", 2, False),
    ("sync.page_committed", 3, False),
    ("sync.page_committed", 2, True),
]


@pytest.mark.parametrize("point,nth,round_fails", CASES)
def test_a_worker_killed_at_any_point_is_repaired_in_time(world, point, nth, round_fails):
    alice, _ = scenario(world)
    if round_fails:
        # A late page fails every attempt: the attempt ends as "retry" and still settles.
        _fail_late_page(alice)
    assert world.sync(alice, kill_at=point, nth=nth) == "killed"
    assert world.problems(), "the kill left nothing to repair: the scenario tests nothing"
    alice.store.fail_next = []
    took = world.recover()
    assert took <= RECOVERY_BOUND
    world.assert_converged()


def _fail_late_page(calendar):
    """Every attempt (SYNC_PAGE_ATTEMPTS) at the round's third page request fails."""
    calls = {"n": 0}

    class Failing(list):
        def __bool__(self):
            calls["n"] += 1
            return 3 <= calls["n"] <= 6

        def pop(self, index=-1):
            return ProviderUnavailable("503 on a late page")

    calendar.store.fail_next = Failing()


def test_a_lost_queue_task_is_queued_again(world):
    """The Redis broker loses the task of a killed worker: the sweeper queues the calendar
    again once the queued job is overdue."""
    scenario(world)
    world.tick(3600)  # the poll interval: the sweeper queues every calendar
    world.queued.clear()
    jobs.sweep_due_calendars()
    assert world.queued, "nothing queued"
    world.queued.clear()  # lost with the worker
    took = world.recover()
    assert took <= RECOVERY_BOUND
    world.assert_converged()


def test_killed_workers_never_stop_progress(world):
    """Every attempt dies at a different point; each next attempt still gets further, and
    the calendar converges."""
    alice, _ = scenario(world)
    for point in POINTS:
        status = world.sync(alice, kill_at=point)
        assert status in ("killed", "synced", "busy")
        world.tick(25)  # the killed worker's lease expires
    world.recover()
    world.assert_converged()


def test_kill_is_a_base_exception():
    # The service catches Exception in many places; a kill must not be caught by them.
    assert not issubclass(Killed, Exception)

"""Real concurrency on PostgreSQL: workers in threads, each with its own database connection.

- The ghost-bot race: a sync stalls inside its reconciliation; its lease expires and a second
  worker syncs the same calendar, in which the meeting moved again. Before, the two
  reconciliations read different versions of the meeting and each created a bot under its own
  key. Now the second waits for the first's calendar lock and moves the first's bot.
- Calendars that share bots reconcile at the same time without a deadlock.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from bots.models import TERMINAL_STATUSES, Bot
from calendars.sync import sync_calendar_by_id
from config import db, faults

from .harness import attendees, lease, link, make_world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent connections: PostgreSQL (SQLite serializes writers)")


class Worker(threading.Thread):
    def __init__(self, work):
        super().__init__(daemon=True)
        self.work = work
        self.error = None
        self.result = None

    def run(self):
        try:
            self.result = self.work()
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            connections.close_all()


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def wait_until(condition, what: str) -> None:
    gate = threading.Event()
    for _ in range(400):  # 20 s at most
        if condition():
            return
        gate.wait(0.05)
    pytest.fail(f"timed out waiting for {what}")


def live_bots(project):
    return list(Bot.objects.filter(project=project).exclude(status__in=TERMINAL_STATUSES))


def test_two_syncs_moving_one_meeting_leave_one_bot_at_the_latest_time(
    acme, traveller, monkeypatch
):
    world = make_world(acme.project, traveller, monkeypatch)
    alice = world.add_calendar("alice", record_external=True)
    lead = timedelta(seconds=acme.project.bot_join_lead_seconds)
    t2 = world.now() + timedelta(days=1)
    t3 = t2 + timedelta(hours=3)
    world.put_meeting(alice, "e1", t2, 1, external=True)

    paused, resume = threading.Event(), threading.Event()

    def stall_inside_reconciliation(name):
        if name == "reconcile.bots_created" and threading.current_thread() is first:
            paused.set()
            resume.wait(20)

    first = Worker(lambda: sync_calendar_by_id(alice.pk).status)
    with faults.installed(stall_inside_reconciliation):
        first.start()
        wait_until(paused.is_set, "the first sync to create its bot")
        # The meeting moves again; the first worker stalls past its lease; a second takes over.
        world.put_meeting(alice, "e1", t3, 1, external=True)
        world.tick(lease().total_seconds() + 1)
        second = Worker(lambda: sync_calendar_by_id(alice.pk).status)
        second.start()
        wait_until(waiting_for_a_lock, "the second sync to wait for the calendar's lock")
        resume.set()
        first.join(30)
        second.join(30)
    assert not first.error and not second.error, (first.error, second.error)
    assert second.result == "synced"
    (bot,) = live_bots(acme.project)
    assert bot.join_at == t3 - lead
    world.assert_converged()


def test_calendars_sharing_bots_reconcile_concurrently_without_deadlock(
    acme, traveller, monkeypatch
):
    world = make_world(acme.project, traveller, monkeypatch)
    transient = []
    real_is_transient = db.is_transient
    monkeypatch.setattr(
        db, "is_transient", lambda exc: transient.append(exc) or real_is_transient(exc)
    )
    alice = world.add_calendar("alice", record_external=True)
    bob = world.add_calendar("bob", record_external=True)
    for calendar in (alice, bob):
        calendar.store.page_size = 50
    base = world.now() + timedelta(days=1)
    for round_no in range(6):
        # Every shared meeting moves in both calendars; the two calendars list them in
        # opposite orders, so their reconciliations meet the shared bots in opposite orders.
        for n in range(12):
            start = base + timedelta(hours=n, minutes=10 * round_no)
            for calendar, event_id in ((alice, f"a{n:02}"), (bob, f"b{11 - n:02}")):
                world.put(
                    calendar,
                    event_id,
                    start,
                    summary=f"shared {n}",
                    hangoutLink=link(n),
                    attendees=attendees(calendar, external=True),
                )
        barrier = threading.Barrier(2)

        def sync(calendar, barrier=barrier):
            barrier.wait(10)
            return sync_calendar_by_id(calendar.pk).status

        workers = [Worker(lambda c=c: sync(c)) for c in (alice, bob)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert [w.error for w in workers] == [None, None]
        assert [w.result for w in workers] == ["synced", "synced"]
        world.tick(5)
    assert transient == []  # no deadlock, not even one retried
    assert len(live_bots(acme.project)) == 12
    world.assert_converged()

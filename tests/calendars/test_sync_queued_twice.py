"""A calendar whose sync job is queued twice is synced once (issue 18).

The sweeper queues a calendar again when its job has waited longer than the queued grace
(calendars.jobs.queued_grace): it cannot tell a job the broker lost from one a worker has already
taken off the broker but not started (django-q2 prefetches). bench/bench_scale_out.py saw it with
a backlog over a minute: the second job found the first one's lease (busy), marked the calendar
due, and the first one's release queued a third job, which synced the calendar again."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from calendars import jobs, providers
from calendars.models import Calendar, CalendarSyncEvent
from calendars.providers.base import RateLimited
from calendars.sync.due import calendar_mark_due
from config import faults
from tests.factories import CalendarFactory, OAuthAppFactory

from .scripted import ScriptedCalendar, ScriptedProvider, google_event

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=2)  # past the queued grace: the sweeper queues it again


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def store(monkeypatch):
    store = ScriptedCalendar()
    store.put(google_event("a", NOW + timedelta(days=1)))
    store.put(google_event("b", NOW + timedelta(days=2)))
    monkeypatch.setitem(providers._instances, "google", ScriptedProvider(store))
    return store


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: calls.append(args))
    return calls


@pytest.fixture
def calendar(acme):
    OAuthAppFactory(project=acme.project, platform="google")
    return CalendarFactory(project=acme.project, email="alice@acme.com")


def run(job: tuple) -> str:
    """What a worker does with a queued job."""
    name, *args = job
    assert name == "calendars.jobs.sync_calendar"
    return jobs.sync_calendar(*args)


def queued_twice(frozen, queued) -> tuple[tuple, tuple]:
    assert jobs.sweep_due_calendars() == 1
    frozen.move_to(LATER)
    assert jobs.sweep_due_calendars() == 1  # the first job is still waiting
    first, second = queued
    assert first[1] == second[1]
    queued.clear()
    return first, second


def history(calendar) -> list[str]:
    return list(CalendarSyncEvent.objects.filter(calendar=calendar).values_list("kind", flat=True))


def test_the_later_job_finds_the_calendar_synced(store, calendar, frozen, queued):
    first, second = queued_twice(frozen, queued)
    assert run(first) == "synced"
    requests = store.requests
    assert run(second) == "answered"
    assert store.requests == requests  # nothing asked of the provider
    assert history(calendar) == ["synced"]
    calendar.refresh_from_db()
    assert calendar.sync_due_at is None
    assert queued == []


def test_the_earlier_job_finds_the_calendar_synced(store, calendar, frozen, queued):
    first, second = queued_twice(frozen, queued)
    assert run(second) == "synced"
    assert run(first) == "answered"
    assert history(calendar) == ["synced"]


def test_a_job_that_finds_its_twin_syncing_asks_for_nothing_more(store, calendar, frozen, queued):
    first, second = queued_twice(frozen, queued)
    seen = []

    def hook(name: str) -> None:
        if name == "sync.acquired" and not seen:
            seen.append(run(second))  # the other worker, while this one holds the lease

    with faults.installed(hook):
        assert run(first) == "synced"
    assert seen == ["answered"]
    calendar.refresh_from_db()
    assert calendar.sync_due_at is None
    assert queued == []  # no third job: the calendar is synced once
    assert history(calendar) == ["synced"]


def test_a_sync_asked_for_after_the_attempt_still_runs(store, calendar, frozen, queued):
    first, second = queued_twice(frozen, queued)
    assert run(first) == "synced"
    store.put(google_event("c", NOW + timedelta(days=3)))
    calendar_mark_due(calendar_id=calendar.pk)  # a push notification
    assert run(second) == "synced"
    assert history(calendar) == ["synced", "synced"]


def test_the_later_job_keeps_the_back_off_of_a_failed_attempt(store, calendar, frozen, queued):
    first, second = queued_twice(frozen, queued)
    store.fail_next.append(RateLimited("slow down", retry_after=600))
    assert run(first) == "retry"
    requests = store.requests
    assert run(second) == "answered"
    assert store.requests == requests
    calendar.refresh_from_db()
    assert calendar.sync_due_at >= LATER + timedelta(seconds=600)


def test_a_job_without_its_queueing_time_syncs_as_before(store, calendar, frozen, queued):
    first, _ = queued_twice(frozen, queued)
    assert run(first) == "synced"
    assert jobs.sync_calendar(first[1]) == "synced"  # "Sync now", jobs queued before this change
    assert history(calendar) == ["synced", "synced"]


def test_a_disconnected_calendar_is_not_synced(store, calendar, frozen, queued):
    first, _ = queued_twice(frozen, queued)
    Calendar.objects.filter(pk=calendar.pk).update(state=Calendar.State.DISCONNECTED)
    assert run(first) == "busy"
    assert store.requests == 0

"""A calendar's sync history (CalendarSyncEvent): one line per attempt, push notification and
channel, written by the engine and the push handlers, pruned by the daily cleanup."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from calendars import jobs, providers
from calendars.models import Calendar, CalendarSyncEvent
from calendars.providers.base import AuthRevoked, RateLimited
from calendars.push import ensure_push_channel
from calendars.sync import sync_calendar_by_id
from tests.factories import CalendarFactory, OAuthAppFactory

from .scripted import ScriptedCalendar, ScriptedProvider, google_event

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
Kind = CalendarSyncEvent.Kind


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def store(monkeypatch):
    store = ScriptedCalendar()
    monkeypatch.setitem(providers._instances, "google", ScriptedProvider(store))
    return store


@pytest.fixture
def calendar(acme):
    OAuthAppFactory(project=acme.project, platform="google")
    return CalendarFactory(project=acme.project, state=Calendar.State.CONNECTING)


def history(calendar) -> list[tuple]:
    return list(
        CalendarSyncEvent.objects.filter(calendar=calendar)
        .order_by("at", "id")
        .values_list("kind", "full", "changed", "detail")
    )


def test_every_attempt_is_one_line_with_its_outcome(store, calendar):
    for n in range(3):
        store.put(google_event(f"e{n}", NOW + timedelta(hours=n + 1)))
    sync_calendar_by_id(calendar.pk)
    store.put(google_event("e1", NOW + timedelta(hours=2), summary="Moved"))
    sync_calendar_by_id(calendar.pk)
    store.fail_next.append(RateLimited("slow down", retry_after=60))
    sync_calendar_by_id(calendar.pk)
    store.fail_next.append(AuthRevoked("Token has been revoked.", detail={}))
    Calendar.objects.filter(pk=calendar.pk).update(sync_due_at=None)
    sync_calendar_by_id(calendar.pk)
    assert history(calendar) == [
        (Kind.SYNCED, True, 3, ""),
        (Kind.SYNCED, False, 1, ""),
        (Kind.FAILED, False, 0, "rate_limited"),
        (Kind.DISCONNECTED, False, 0, "auth_revoked"),
    ]


def test_a_push_burst_is_one_line(client, acme, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: None)
    calendar = CalendarFactory(
        project=acme.project,
        push_channel_id="chan-1",
        push_token="s3cret-channel-token",
        push_expires_at=NOW + timedelta(days=2),
        last_attempted_sync_at=NOW,
    )
    headers = {
        "HTTP_X_GOOG_CHANNEL_ID": "chan-1",
        "HTTP_X_GOOG_CHANNEL_TOKEN": "s3cret-channel-token",
        "HTTP_X_GOOG_RESOURCE_STATE": "exists",
        "HTTP_X_GOOG_RESOURCE_ID": "res-1",
        "HTTP_X_GOOG_MESSAGE_NUMBER": "7",
    }
    for _ in range(4):
        assert client.post("/api/v1/push/google/", **headers).status_code == 200
    wrong = {**headers, "HTTP_X_GOOG_CHANNEL_TOKEN": "wrong"}
    assert client.post("/api/v1/push/google/", **wrong).status_code == 200
    assert history(calendar) == [(Kind.PUSH, False, 0, "queued a sync")]


def test_channel_renewals_are_recorded(store, calendar, settings):
    settings.PUSH_NOTIFICATIONS = True
    assert ensure_push_channel(calendar.pk) == "renewed"
    store.fail_next.append(RateLimited("slow down"))
    Calendar.objects.filter(pk=calendar.pk).update(push_channel_id="")
    assert ensure_push_channel(calendar.pk) == "failed"
    assert [kind for kind, *_ in history(calendar)] == [Kind.CHANNEL, Kind.CHANNEL_FAILED]


def test_the_daily_cleanup_prunes_old_lines(calendar):
    old = CalendarSyncEvent.objects.create(
        calendar=calendar, kind=Kind.SYNCED, at=NOW - timedelta(days=15)
    )
    recent = CalendarSyncEvent.objects.create(
        calendar=calendar, kind=Kind.SYNCED, at=NOW - timedelta(days=13)
    )
    jobs.purge_old_meetings()
    remaining = set(CalendarSyncEvent.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk} and old.pk not in remaining

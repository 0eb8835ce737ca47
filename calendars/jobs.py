"""Background jobs: thin wrappers that load by id and call a service. Safe to run twice or at
the same time (the sync lease and conditional updates make them so)."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from meetings.models import Meeting
from projects.failures import isolated
from projects.models import Project

from . import push
from .models import SYNC_HISTORY_DAYS, Calendar, CalendarSyncEvent
from .sync import horizon, sync_calendar_by_id
from .sync.outcomes import calendar_announce_changes

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 1000


def sync_calendar(calendar_id: str, queued_at: str | None = None) -> str:
    """`queued_at` (ISO 8601, from the sweeper): an attempt that began since answers the job."""
    queued = datetime.fromisoformat(queued_at) if queued_at else None
    return sync_calendar_by_id(calendar_id, queued_at=queued).status


def ensure_push_channel(calendar_id: str) -> str:
    return push.ensure_push_channel(calendar_id)


def queued_grace() -> timedelta:
    """How long a queued sync may wait for a worker before the sweeper queues it again (a job
    the broker lost: Redis drops a task whose worker was killed)."""
    return timedelta(seconds=max(60, 3 * settings.SYNC_LEASE_SECONDS))


def sweep_due_calendars() -> int:
    """Queue a sync for every calendar that is due (Calendar.objects.due: push-marked, never
    synced, past its poll interval or back-off, or its last attempt died). Marks them queued so
    the next sweep does not queue twice while the job waits for a worker."""
    from django_q.tasks import async_task

    now = timezone.now()
    due = (
        Calendar.objects.due(now)
        .order_by(F("sync_due_at").asc(nulls_first=True))
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    ids = list(due)
    Calendar.objects.filter(pk__in=ids).schedule_sync(now + queued_grace())
    for calendar_id in ids:
        # With the time it was queued: the job may run twice (queued_grace), it syncs once.
        async_task(
            "calendars.jobs.sync_calendar", str(calendar_id), now.isoformat(), group="calendars"
        )
    return len(ids)


def announce_pending() -> int:
    """Every minute: a sync attempt that died before announcing what it committed left the
    calendar's announcement watermark behind its start; announce now (its next attempt would
    too, but may be an hour away)."""
    calendars = Calendar.objects.lease_free(timezone.now()).unannounced()
    announced = 0
    for calendar in calendars.select_related("project")[:SWEEP_LIMIT]:
        with isolated("announce", Calendar, calendar.pk):
            announced += calendar_announce_changes(calendar=calendar)
    return announced


def roll_horizons() -> int:
    """Daily: calendars whose synced window ends before the project's horizon get a sync, which
    rolls the window (Google fetches the new slice, Graph starts a new delta round)."""
    now = timezone.now()
    marked = 0
    for project in Project.objects.only("pk", "sync_days_past", "sync_days_future"):
        marked += Calendar.objects.filter(
            project=project, sync_window_end__lt=horizon(project, now).end
        ).mark_due(now)
    return marked


def purge_old_meetings() -> int:
    """Retention: meetings that ended more than MEETING_RETENTION_DAYS ago are deleted, and the
    calendars' sync history older than SYNC_HISTORY_DAYS."""
    now = timezone.now()
    cutoff = now - timedelta(days=settings.MEETING_RETENTION_DAYS)
    deleted, _ = Meeting.objects.filter(end_time__lt=cutoff).delete()
    CalendarSyncEvent.objects.prune(now - timedelta(days=SYNC_HISTORY_DAYS))
    return deleted

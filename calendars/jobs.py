"""Background jobs: thin wrappers that load by id and call a service. Safe to run twice or at
the same time (the sync lease and conditional updates make them so)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import Calendar

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 1000


def sync_calendar(calendar_id: str) -> str:
    from .sync import sync_calendar_by_id

    return sync_calendar_by_id(calendar_id).status


def ensure_push_channel(calendar_id: str) -> str:
    from .push import ensure_push_channel as ensure

    return ensure(calendar_id)


def sweep_due_calendars() -> int:
    """Queue a sync for every calendar that is due: push-marked, never synced, past its poll
    interval, or past its back-off. Marks them queued so the next sweep does not queue twice."""
    from django_q.tasks import async_task

    now = timezone.now()
    stale = now - timedelta(seconds=settings.SYNC_POLL_INTERVAL_SECONDS)
    lease_free = Q(sync_lease_expires_at__isnull=True) | Q(sync_lease_expires_at__lte=now)
    due = (
        Calendar.objects.exclude(state=Calendar.State.DISCONNECTED)
        .filter(lease_free)
        .filter(
            Q(sync_due_at__lte=now)
            | Q(sync_due_at__isnull=True, last_attempted_sync_at__isnull=True)
            | Q(sync_due_at__isnull=True, last_attempted_sync_at__lte=stale)
        )
        .order_by("sync_due_at")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    ids = list(due)
    # Re-queued only if the job has not started within a lease period (a lost job).
    Calendar.objects.filter(pk__in=ids).update(
        sync_due_at=now + timedelta(seconds=settings.SYNC_LEASE_SECONDS)
    )
    for calendar_id in ids:
        async_task("calendars.jobs.sync_calendar", str(calendar_id), group="calendars")
    return len(ids)


def roll_horizons() -> int:
    """Daily: calendars whose synced window ends before the project's horizon get a sync, which
    rolls the window (Google fetches the new slice, Graph starts a new delta round)."""
    from projects.models import Project

    from .sync import horizon

    now = timezone.now()
    marked = 0
    for project in Project.objects.only("pk", "sync_days_past", "sync_days_future"):
        marked += (
            Calendar.objects.filter(project=project, sync_due_at__isnull=True)
            .exclude(state=Calendar.State.DISCONNECTED)
            .filter(sync_window_end__lt=horizon(project, now).end)
            .update(sync_due_at=now)
        )
    return marked


def purge_old_meetings() -> int:
    """Retention: meetings that ended more than MEETING_RETENTION_DAYS ago are deleted."""
    from meetings.models import Meeting

    cutoff = timezone.now() - timedelta(days=settings.MEETING_RETENTION_DAYS)
    deleted, _ = Meeting.objects.filter(end_time__lt=cutoff).delete()
    return deleted

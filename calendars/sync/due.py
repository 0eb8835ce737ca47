"""Asking for a sync: the calendar is marked due and its job queued once the surrounding
transaction commits (calendars.jobs.sweep_due_calendars queues what a lost job left due)."""

from django.db import transaction
from django.utils import timezone

from ..models import Calendar


def calendar_request_sync(*, calendar: Calendar) -> None:
    """Mark the calendar due; the sync job runs after the surrounding transaction commits."""
    Calendar.objects.filter(pk=calendar.pk).schedule_sync(timezone.now())
    transaction.on_commit(lambda: enqueue("calendars.jobs.sync_calendar", calendar.pk))


def calendar_mark_due(*, calendar_id) -> bool:
    """A push notification: ask for a sync. Only the first of a burst queues a job; the others
    find the calendar already due. A calendar in back-off keeps its later due time."""
    marked = Calendar.objects.filter(pk=calendar_id).mark_due()
    if marked:
        transaction.on_commit(lambda: enqueue("calendars.jobs.sync_calendar", calendar_id))
    return bool(marked)


def enqueue(job: str, calendar_id) -> None:
    from django_q.tasks import async_task

    async_task(job, str(calendar_id), group="calendars")

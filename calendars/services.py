"""Writes with side effects on calendar users and calendars. Each owns its transaction and queues
follow-up work on commit."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.services import bots_release_meetings
from projects.models import Project

from .models import Calendar, CalendarUser
from .providers.base import Grant

logger = logging.getLogger(__name__)

PREFERENCE_FIELDS = (
    "record_non_host",
    "record_recurring",
    "record_external",
    "record_internal",
    "record_confirmed",
    "record_only_host",
    "bot_name",
)


def calendar_user_get_or_create(*, project: Project, external_id: str) -> CalendarUser:
    try:
        with transaction.atomic():
            calendar_user, _ = CalendarUser.objects.get_or_create(
                project=project, external_id=external_id
            )
    except IntegrityError:  # created concurrently by another request
        calendar_user = CalendarUser.objects.get(project=project, external_id=external_id)
    return calendar_user


@transaction.atomic
def calendar_user_update(
    *, calendar_user: CalendarUser, preferences: dict | None = None, external_id: str | None = None
) -> CalendarUser:
    """Change preferences (the keys given; the others keep their value) and/or the external id."""
    changed = []
    for name, value in (preferences or {}).items():
        if name in PREFERENCE_FIELDS and getattr(calendar_user, name) != value:
            setattr(calendar_user, name, value)
            changed.append(name)
    if external_id is not None and external_id != calendar_user.external_id:
        calendar_user.external_id = external_id
        changed.append("external_id")
    if changed:
        calendar_user.save(update_fields=[*changed, "updated_at"])
    return calendar_user


def _calendar_remove(calendar: Calendar, *, reason: str) -> None:
    """The calendar and its meetings go; bots that served only them are cancelled."""
    bots_release_meetings(
        meeting_ids=list(calendar.meetings.values_list("pk", flat=True)), reason=reason
    )
    logger.info("calendar %s removed (%s)", calendar.pk, reason)
    calendar.delete()


@transaction.atomic
def calendar_user_disconnect(*, calendar_user: CalendarUser, platform: str) -> CalendarUser:
    for calendar in calendar_user.calendars.select_for_update().filter(platform=platform):
        _calendar_remove(calendar, reason="disconnected")
    return calendar_user


@transaction.atomic
def calendar_user_delete(*, calendar_user: CalendarUser) -> None:
    for calendar in calendar_user.calendars.select_for_update():
        _calendar_remove(calendar, reason="calendar_user_deleted")
    calendar_user.delete()


@transaction.atomic
def calendar_connect(*, calendar_user: CalendarUser, platform: str, grant: Grant) -> Calendar:
    """Connect a calendar from a completed OAuth grant. A connection on a platform replaces the
    user's previous one there (its meetings and bots go)."""
    # Serializes concurrent connects of one user, so the replacement is never lost.
    CalendarUser.objects.select_for_update().filter(pk=calendar_user.pk).first()
    for previous in calendar_user.calendars.filter(platform=platform):
        _calendar_remove(previous, reason="replaced")
    calendar = Calendar(
        project_id=calendar_user.project_id,
        calendar_user=calendar_user,
        platform=platform,
        refresh_token=grant.refresh_token,
        email=grant.email or "",
    )
    calendar.set_state(Calendar.State.CONNECTED)
    calendar.save()
    calendar_request_sync(calendar=calendar)
    return calendar


def calendar_user_sync_now(*, calendar_user: CalendarUser) -> None:
    """Sync every live calendar of the user now, in this request (the V1 refresh call)."""
    from .sync import sync_calendar_by_id

    live = calendar_user.calendars.exclude(state=Calendar.State.DISCONNECTED)
    for calendar_id in live.values_list("pk", flat=True):
        sync_calendar_by_id(calendar_id)


def calendar_request_sync(*, calendar: Calendar) -> None:
    """Mark the calendar due; the sync job runs after the surrounding transaction commits."""
    Calendar.objects.filter(pk=calendar.pk).update(sync_due_at=timezone.now())
    transaction.on_commit(lambda: _enqueue_sync(calendar.pk))


def _enqueue_sync(calendar_id) -> None:
    from django_q.tasks import async_task

    async_task("calendars.jobs.sync_calendar", str(calendar_id), group="sync")

"""Reads of meetings for the server API's event list (with their bots:
bots.selectors.event_queryset)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from .models import Meeting


def feed_cap(now: datetime | None = None) -> datetime:
    """The newest `updated_at` the change feed may return.

    A row's `updated_at` is taken in Python before its transaction commits, so a row can become
    visible after rows with a later `updated_at`. A client that moved its watermark past such a
    row would never see it. Rows newer than the cap are held back until every write that could
    still commit with an older timestamp has done so: the lag must exceed the longest
    transaction that writes meetings (sync pages and reconciliation take well under a second).
    """
    return (now or timezone.now()) - timedelta(seconds=settings.EVENT_FEED_LAG_SECONDS)


def event_filter(
    queryset: QuerySet[Meeting],
    *,
    now: datetime | None = None,
    project_id=None,
    event_id=None,
    calendar_id=None,
    calendar_deduplication_key: str | None = None,
    updated_at_gte: datetime | None = None,
    start_time_gte: datetime | None = None,
    start_time_lte: datetime | None = None,
    end_time_lte: datetime | None = None,
    organizer_email: str | None = None,
    attendee_email: str | None = None,
    status: str | None = None,
    is_deleted: bool | None = None,
    ical_uid: str | None = None,
    meeting_platform: str | None = None,
) -> QuerySet[Meeting]:
    now = now or timezone.now()
    if event_id is not None:
        queryset = queryset.filter(pk=event_id)
    if calendar_id is not None:
        queryset = queryset.filter(calendar_id=calendar_id)
    if calendar_deduplication_key is not None:
        queryset = queryset.filter(
            calendar_key_match(calendar_deduplication_key, project_id=project_id)
        )
    if updated_at_gte is not None:
        queryset = queryset.filter(updated_at__gte=updated_at_gte, updated_at__lte=feed_cap(now))
    # A feed must see every change, a lookup by id its event, ended or not.
    lookup = updated_at_gte is not None or event_id is not None
    status = status or ("all" if lookup else "upcoming")
    if status == "upcoming":
        queryset = queryset.filter(end_time__gt=now)
    elif status == "past":
        queryset = queryset.filter(end_time__lte=now)
    if start_time_gte is not None:
        queryset = queryset.filter(start_time__gte=start_time_gte)
    if start_time_lte is not None:
        queryset = queryset.filter(start_time__lte=start_time_lte)
    if end_time_lte is not None:
        queryset = queryset.filter(end_time__lte=end_time_lte)
    if organizer_email:
        queryset = queryset.filter(organizer_email__iexact=organizer_email)
    if attendee_email:
        queryset = queryset.filter(attendee_match(attendee_email))
    if is_deleted is not None:
        queryset = queryset.filter(is_deleted=is_deleted)
    if ical_uid:
        queryset = queryset.filter(ical_uid=ical_uid)
    if meeting_platform:
        queryset = queryset.filter(meeting_platform=meeting_platform)
    return queryset


def calendar_key_match(key: str, *, project_id=None) -> Q:
    """Meetings of the calendar with this deduplication key. With the project known the key
    names at most one calendar (a unique constraint): a scalar subquery, which PostgreSQL runs
    first and then reads that calendar's meetings in start order (index meeting_calendar_start),
    where a join read the project's meetings until it had found a page of that calendar's."""
    if project_id is None:
        return Q(calendar__deduplication_key=key)
    calendars = Meeting._meta.get_field("calendar").related_model.objects
    return Q(
        calendar_id=Subquery(
            calendars.filter(project_id=project_id, deduplication_key=key).values("pk")
        )
    )


def attendee_match(email: str) -> Q:
    """Sync stores attendee addresses lower-cased. PostgreSQL: JSONB containment, served by
    the GIN index `meeting_attendees_gin` (migration meetings 0003). SQLite: the quoted address
    in the JSON text."""
    email = email.strip().lower()
    if connection.vendor == "postgresql":
        return Q(attendees__contains=[{"email": email}])
    return Q(attendees__icontains=f'"{email}"')


def event_ordering(ordering: str | None, *, feed: bool) -> tuple[str, str]:
    """Ordering for cursor pagination, with the id as tie-breaker."""
    ordering = ordering or ("updated_at" if feed else "start_time")
    return (ordering, "-id" if ordering.startswith("-") else "id")

"""What a sync attempt's outcome does beyond the meeting rows: the calendar became connected
(its webhook news is written with the cursor), the provider refused it for good (disconnected,
the bots of its upcoming meetings cancelled), the changed meetings are announced, the push
channel is kept alive. The engine calls these; the services use them too."""

from functools import partial

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from bots.reconcile import reconcile_meetings
from meetings.models import Meeting
from webhooks import events
from webhooks.services import emit_events

from .. import push
from ..models import Calendar, CalendarSyncEvent
from .due import enqueue


def upcoming_meetings(**filters) -> QuerySet:
    """The live meetings (of `filters`) that have not ended yet."""
    return Meeting.objects.upcoming(timezone.now()).filter(**filters)


def upcoming_meeting_ids(**filters) -> QuerySet:
    return upcoming_meetings(**filters).values_list("pk", flat=True)


def emit_state_change(calendar: Calendar, *, previous_state: str | None) -> None:
    emit_events(
        project=calendar.project,
        items=[
            (
                events.CALENDAR_STATE_CHANGE,
                lambda: events.calendar_state_change(calendar, previous_state=previous_state),
            ),
            (events.CALENDAR_UPDATE, lambda: events.calendar_updated_payload(calendar)),
        ],
    )


def calendar_state_news(*, calendar: Calendar, previous_state: str) -> None:
    """Inside the sync transaction that connects the calendar (its first page written, or the
    end of a round that wrote none): its news is written, and its upcoming meetings are marked
    `needs_reconcile`. Those reconciled while it was connecting were decided
    "calendar_connecting" (new credentials cancel the bots), and a round that fails before it
    rewrites them would leave them so; marked, the reconciliation after the attempt decides them
    all again. Meetings already marked are not written again."""
    if previous_state != calendar.state:
        emit_state_change(calendar, previous_state=previous_state)
        upcoming_meetings(calendar=calendar).filter(needs_reconcile=False).update(
            needs_reconcile=True
        )


def calendar_announce_changes(*, calendar: Calendar) -> int:
    """Announce every meeting of the calendar changed since its announcement watermark
    (`calendar.sync_events` and `calendar.events_update`) and move the watermark, in one
    transaction: a change is announced at least once, whatever failed before (a failed or
    crashed attempt leaves the watermark behind). Changes of the recording decision count:
    the event object the customer reads changed. `last_updated_ts` is the oldest announced
    row's `updated_at`, so a client reading the event feed from it sees them all. Returns how
    many meetings were announced (0 when no endpoint listens).

    Why no change is skipped: every writer of meetings takes the calendar's row lock before it
    takes its `updated_at` (sync pages, reconciliation, overrides), and this takes the lock
    before reading the clock, so no change can commit later with an older timestamp."""
    with transaction.atomic():
        watermark = (
            Calendar.objects.select_for_update()
            .filter(pk=calendar.pk)
            .values_list("announced_through", flat=True)
            .first()
        )
        now = timezone.now()
        # The project's (updated_at) index finds the few recent changes; the calendar filters.
        changed = Meeting.objects.filter(
            project_id=calendar.project_id, calendar=calendar, updated_at__lte=now
        ).order_by()
        if watermark is not None:
            # Inclusive: a change stamped in the very microsecond of the last announcement may
            # have committed after it; announced again rather than never.
            changed = changed.filter(updated_at__gte=watermark)
        # Read only when an endpoint listens (a first sync lists thousands of meetings).
        loaded: list[list] = []

        def rows() -> list:
            if not loaded:
                loaded.append(list(changed.values_list("pk", "updated_at")))
            return loaded[0]

        def payload(builder):
            if not rows():
                return None  # nothing changed: no announcement
            since = min(updated_at for _, updated_at in rows())
            return builder(calendar, last_updated_ts=since, meeting_ids=[pk for pk, _ in rows()])

        emit_events(
            project=calendar.project,
            items=[
                (event_type, partial(payload, builder))
                for event_type, builder in (
                    (events.CALENDAR_SYNC_EVENTS, events.calendar_sync_events),
                    (events.CALENDAR_EVENTS_UPDATE, events.calendar_events_update),
                )
            ],
        )
        Calendar.objects.filter(pk=calendar.pk).mark_announced(now)
    return len(loaded[0]) if loaded else 0


@transaction.atomic
def calendar_mark_disconnected(*, calendar: Calendar, error: Exception) -> Calendar:
    """The provider refused us for good (revoked grant, rejected client, calendar gone): stop
    syncing until the credentials change, cancel the bots of its upcoming meetings."""
    calendar = Calendar.objects.select_for_update().select_related("project").get(pk=calendar.pk)
    if calendar.state == Calendar.State.DISCONNECTED:
        return calendar
    previous_state = calendar.state
    calendar.mark_disconnected(error)
    calendar.save()
    emit_state_change(calendar, previous_state=previous_state)
    reconcile_meetings(meeting_ids=list(upcoming_meeting_ids(calendar=calendar)))
    return calendar


def calendar_after_sync(*, calendar: Calendar) -> None:
    """Follow-up of a successful sync: the push channel stays alive."""
    if push.channel_needs_renewal(calendar):
        transaction.on_commit(lambda: enqueue("calendars.jobs.ensure_push_channel", calendar.pk))


# A sync attempt's `SyncResult.status` as a line of the calendar's history. An attempt that
# crashed never set its status (it is still "skipped" when the engine settles it).
_ATTEMPT_KINDS = {
    "synced": CalendarSyncEvent.Kind.SYNCED,
    "retry": CalendarSyncEvent.Kind.FAILED,
    "disconnected": CalendarSyncEvent.Kind.DISCONNECTED,
}


def calendar_record_attempt(*, calendar: Calendar, result) -> None:
    """One line of the calendar's sync history for an attempt that held the lease (`result`
    is its `SyncResult`): one INSERT, whatever the attempt did."""
    kind = _ATTEMPT_KINDS.get(result.status, CalendarSyncEvent.Kind.CRASHED)
    now = timezone.now()
    CalendarSyncEvent.objects.create(
        calendar_id=calendar.pk,
        at=now,
        kind=kind,
        full=result.full,
        changed=result.upserted + result.deleted,
        duration_ms=max(int((now - result.started_at).total_seconds() * 1000), 0),
        detail=result.error[:300],  # the provider error's code, if any
    )

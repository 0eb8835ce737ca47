"""Requests on one meeting's recording through the APIs: the override (Recall V1) and the bots
requested per event (server API). They sit above meetings and bots: each locks the meeting's
calendar first, like every writer of a calendar's meetings, and ends in reconciliation."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.models import Bot
from bots.reconcile import reconcile_meetings
from config.errors import DomainError
from meetings.bot_schedules import attach_schedules
from meetings.decisions import unmet_prerequisites
from meetings.models import BotSchedule, Meeting

from .models import Calendar


def _lock(meeting: Meeting) -> Meeting:
    """Lock the meeting's calendar, then the meeting: the order every writer of a calendar's
    meetings takes (sync pages, reconciliation), so none waits on another in a cycle, and the
    meeting's `updated_at` is taken under the calendar's lock (calendar announcements)."""
    Calendar.objects.lock([meeting.calendar_id])
    return Meeting.objects.select_for_update().get(pk=meeting.pk)


@transaction.atomic
def meeting_set_override(*, meeting: Meeting, value: bool | None) -> Meeting:
    """Set `override_should_record` (true: record, false: don't, null: preferences decide)."""
    meeting = _lock(meeting)
    if meeting.override_should_record != value:
        meeting.override_should_record = value
        meeting.save(update_fields=["override_should_record", "updated_at"])
        reconcile_meetings(meeting_ids=[meeting.pk])
        meeting.refresh_from_db()
    return meeting


# --- Bots requested per meeting through the server API ---------------------------------------


class ScheduleError(DomainError):
    """A bot request for a meeting refused (`event_cancelled`, `event_ended`, ...)."""


def _series_meetings(meeting: Meeting):
    return Meeting.objects.filter(calendar_id=meeting.calendar_id, series_id=meeting.series_id)


def _targets(meeting: Meeting, all_occurrences: bool) -> list:
    """The meetings a request applies to: the whole series, or this meeting alone."""
    if all_occurrences and meeting.series_id:
        return list(_series_meetings(meeting).values_list("pk", flat=True))
    return [meeting.pk]


# The recording prerequisites (decisions.unmet_prerequisites) as the errors of a bot request,
# in the order the API reports them.
_UNSCHEDULABLE = (
    ({"deleted", "cancelled"}, "event_cancelled", "The event was cancelled or deleted."),
    ({"no_link"}, "event_has_no_meeting_url", "The event has no meeting link a bot could join."),
    ({"all_day"}, "event_is_all_day", "All-day events cannot be recorded."),
    ({"ended"}, "event_ended", "The event has already ended."),
)


def _check_schedulable(meeting: Meeting, *, all_occurrences: bool) -> None:
    unmet = set(unmet_prerequisites(meeting, now=timezone.now()))
    if all_occurrences and meeting.series_id:
        # A series can be scheduled from any of its instances, even one already over.
        unmet.discard("ended")
    for prerequisites, code, message in _UNSCHEDULABLE:
        if unmet & prerequisites:
            raise ScheduleError(code, message)


def _key_taken() -> ScheduleError:
    # A 400 naming the field, as Attendee answers a taken key (its clients check for it).
    return ScheduleError(
        "deduplication_key_conflict",
        "Another scheduled bot of this project uses this deduplication key.",
        field="deduplication_key",
    )


def _check_key(meeting: Meeting, key: str | None, *, own: BotSchedule | None, targets) -> None:
    if not key:
        return
    taken = BotSchedule.objects.filter(project_id=meeting.project_id, deduplication_key=key)
    if own is not None:
        taken = taken.exclude(pk=own.pk)
    live = (
        Bot.objects.filter(project_id=meeting.project_id, deduplication_key=key)
        .live()
        .exclude(meetings__in=targets)
    )
    if taken.exists() or live.exists():
        raise _key_taken()


def _series_schedule(meeting: Meeting) -> BotSchedule | None:
    if not meeting.series_id:
        return None
    return BotSchedule.objects.filter(
        calendar_id=meeting.calendar_id, series_id=meeting.series_id, meeting__isnull=True
    ).first()


def _reconcile(targets) -> list:
    reconcile_meetings(meeting_ids=targets)
    return targets


def _save(schedule: BotSchedule) -> None:
    try:
        with transaction.atomic():
            schedule.save()
    except IntegrityError:  # the same key taken concurrently
        raise _key_taken() from None


@transaction.atomic
def meeting_schedule_bot(
    *,
    meeting: Meeting,
    bot_name: str,
    bot_config: dict | None = None,
    deduplication_key: str | None = None,
    all_occurrences: bool = False,
) -> list:
    """Record this meeting (or every current and future instance of its series) with this
    bot. Scheduling again replaces the bot's settings. Returns the affected meeting ids."""
    meeting = _lock(meeting)
    _check_schedulable(meeting, all_occurrences=all_occurrences)
    series = all_occurrences and bool(meeting.series_id)
    targets = _targets(meeting, all_occurrences)
    if series:
        # The series schedule covers every instance: instance-level settings give way.
        BotSchedule.objects.filter(meeting_id__in=targets).delete()
        schedule = _series_schedule(meeting) or BotSchedule(
            project_id=meeting.project_id,
            calendar_id=meeting.calendar_id,
            series_id=meeting.series_id,
        )
    else:
        schedule = BotSchedule.objects.filter(meeting=meeting).first() or BotSchedule(
            project_id=meeting.project_id, calendar_id=meeting.calendar_id, meeting=meeting
        )
    _check_key(meeting, deduplication_key, own=schedule, targets=targets)
    schedule.enabled = True
    schedule.bot_name = bot_name
    schedule.bot_config = bot_config or {}
    schedule.deduplication_key = deduplication_key or None
    _save(schedule)
    return _reconcile(targets)


_UNSET = object()


@transaction.atomic
def meeting_update_bot(
    *,
    meeting: Meeting,
    bot_name: str | None = None,
    bot_config: dict | None = None,
    deduplication_key=_UNSET,
    all_occurrences: bool = False,
) -> list:
    """Change the settings of the bot scheduled for this meeting (or its whole series)."""
    meeting = _lock(meeting)
    series = all_occurrences and bool(meeting.series_id)
    targets = _targets(meeting, all_occurrences)
    if series:
        schedule = _series_schedule(meeting)
        instance_rows = BotSchedule.objects.filter(meeting_id__in=targets, enabled=True)
    else:
        schedule = attach_schedules([meeting])[0].effective_schedule
        instance_rows = BotSchedule.objects.none()
        if schedule is not None and schedule.meeting_id is None:
            # Only this occurrence changes: it gets its own copy of the series' settings.
            schedule = BotSchedule(
                project_id=meeting.project_id,
                calendar_id=meeting.calendar_id,
                meeting=meeting,
                bot_name=schedule.bot_name,
                bot_config=schedule.bot_config,
                deduplication_key=None,
            )
    if (schedule is None or not schedule.enabled) and not instance_rows.exists():
        raise ScheduleError(
            "bot_not_scheduled", "No bot is scheduled for this event; schedule one with POST."
        )
    if deduplication_key is not _UNSET and deduplication_key:
        _check_key(meeting, deduplication_key, own=schedule, targets=targets)
    rows = [schedule] if schedule is not None and schedule.enabled else []
    rows += list(instance_rows)
    for row in rows:
        if bot_name is not None:
            row.bot_name = bot_name
        if bot_config is not None:
            row.bot_config = bot_config
        if deduplication_key is not _UNSET and row is schedule:
            row.deduplication_key = deduplication_key or None
        _save(row)
    return _reconcile(targets)


@transaction.atomic
def meeting_unschedule_bot(*, meeting: Meeting, all_occurrences: bool = False) -> list:
    """Remove the API-scheduled bot of this meeting (or its whole series). Idempotent."""
    meeting = _lock(meeting)
    targets = _targets(meeting, all_occurrences)
    if all_occurrences and meeting.series_id:
        BotSchedule.objects.filter(meeting_id__in=targets).delete()
        BotSchedule.objects.filter(
            calendar_id=meeting.calendar_id, series_id=meeting.series_id, meeting__isnull=True
        ).delete()
    elif _series_schedule(meeting) is not None:
        # The series keeps its bot; this occurrence is the exception.
        BotSchedule.objects.update_or_create(
            meeting=meeting,
            defaults={
                "project_id": meeting.project_id,
                "calendar_id": meeting.calendar_id,
                "enabled": False,
                "deduplication_key": None,
            },
        )
    else:
        BotSchedule.objects.filter(meeting=meeting).delete()
    return _reconcile(targets)


# --- The same requests by bot (Attendee's POST and DELETE /api/v1/bots) -----------------------


@transaction.atomic
def meeting_bot_create(
    *,
    meeting: Meeting,
    bot_name: str,
    bot_config: dict | None = None,
    deduplication_key: str | None = None,
) -> Bot:
    """`meeting_schedule_bot` for this one meeting, then its bot, made by the reconciliation
    that ends the request. The caller asked for a bot object: a request that gives the meeting
    no bot now (its calendar is connecting or disconnected, recording is turned off for it) is
    refused (`bot_not_created`, 409) and leaves nothing behind."""
    meeting_schedule_bot(
        meeting=meeting,
        bot_name=bot_name,
        bot_config=bot_config,
        deduplication_key=deduplication_key,
    )
    bot = Bot.objects.live().filter(meetings=meeting).first()
    if bot is None:
        reason = Meeting.objects.values_list("will_record_reason", flat=True).get(pk=meeting.pk)
        raise ScheduleError("bot_not_created", f"No bot can be scheduled now. {reason}", 409)
    return bot


@transaction.atomic
def bot_unschedule(*, bot: Bot) -> Bot:
    """Remove a bot requested through the API, by bot: `meeting_unschedule_bot` for every
    meeting it serves that has an API schedule, and reconciliation cancels it. Idempotent: a
    cancelled bot is returned as it is. Refused (409), changing nothing: a bot handed to its
    runner (`bot_already_dispatched`) or ended (`bot_terminal`), and a bot that other
    meetings still need, because recording preferences or an override record them
    (`bot_not_scheduled_by_api`)."""
    # Calendars first, then the bot: the order reconciliation takes its locks in.
    meetings = Meeting.objects.filter(bots=bot).order_by("pk")
    Calendar.objects.lock(meetings.values_list("calendar_id", flat=True))
    bot = Bot.objects.select_for_update(of=("self",)).get(pk=bot.pk)
    if bot.status == Bot.Status.CANCELLED:
        return bot
    if bot.is_terminal:
        raise ScheduleError("bot_terminal", f"The bot is `{bot.status}`.", 409)
    if bot.status != Bot.Status.SCHEDULED:
        raise ScheduleError(
            "bot_already_dispatched",
            f"The bot is `{bot.status}`: it was handed to its runner and can no longer be "
            "unscheduled.",
            409,
        )
    for meeting in attach_schedules(list(meetings)):
        schedule = meeting.effective_schedule
        if schedule is not None and schedule.enabled:
            meeting_unschedule_bot(meeting=meeting)
    bot.refresh_from_db()
    if bot.status != Bot.Status.CANCELLED:
        raise ScheduleError(
            "bot_not_scheduled_by_api",
            "The bot records its meetings because of recording preferences or a per-meeting "
            "override (Recall Calendar V1), not a bot scheduled through this API: change those "
            "instead.",
            409,
        )
    return bot

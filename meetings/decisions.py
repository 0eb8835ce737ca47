"""Should a bot record this meeting? Recall Calendar V1 semantics (spec §2.7), in one function.

1. Prerequisites always apply, even with an override: a join link, real start and end times
   (not all-day), not cancelled or deleted, not ended (`unmet_prerequisites`, the one place
   they are written: a bot requested through the API is refused for the same ones).
2. `override_should_record` true/false decides when set.
3. Then a bot requested or removed through the server API (meetings.models.BotSchedule).
4. Otherwise the calendar user's preferences: only preferences that are on are evaluated.
   `record_external` / `record_internal` form one OR group (either kind of meeting that is on
   qualifies); `record_recurring`, `record_non_host`, `record_only_host` and `record_confirmed`
   are AND filters on top. Nothing is recorded when no preference is on.

The reason is one of REASONS: words a support person can read to a customer.
"""

from dataclasses import dataclass
from datetime import datetime

from .models import Meeting

REASONS = {
    "no_link": "Not recorded: the event has no meeting link.",
    "all_day": "Not recorded: all-day events are not recorded.",
    "cancelled": "Not recorded: the meeting was cancelled.",
    "deleted": "Not recorded: the event was deleted from the calendar.",
    "ended": "Not recorded: the meeting has ended.",
    "override_on": "Recorded: recording was turned on for this meeting.",
    "override_off": "Not recorded: recording was turned off for this meeting.",
    "no_preferences": "Not recorded: no recording preference is on.",
    "not_external": "Not recorded: internal meeting, and only external meetings are recorded.",
    "not_internal": "Not recorded: external meeting, and only internal meetings are recorded.",
    "not_recurring": "Not recorded: not a recurring meeting (record_recurring).",
    "hosted_by_me": "Not recorded: you host this meeting (record_non_host).",
    "not_hosted_by_me": "Not recorded: you do not host this meeting (record_only_host).",
    "not_accepted": "Not recorded: you have not accepted this meeting (record_confirmed).",
    "preferences": "Recorded: matches the recording preferences.",
    "no_calendar_user": "Not recorded automatically: bots for this calendar are scheduled by API.",
    "calendar_disconnected": "Not recorded: the calendar is disconnected.",
    "calendar_connecting": "Not recorded yet: the calendar's new credentials are being checked.",
    "scheduled_by_api": "Recorded: a bot was scheduled for this meeting through the API.",
    "unscheduled_by_api": "Not recorded: the bot was removed from this meeting through the API.",
}


@dataclass(frozen=True)
class Decision:
    will_record: bool
    code: str

    @property
    def reason(self) -> str:
        return REASONS[self.code]


def _accepted(meeting, account_email: str) -> bool:
    if meeting.is_hosted_by_me:
        return True
    email = (account_email or "").lower()
    return any(
        (a.get("email") or "").lower() == email and a.get("status") == "accepted"
        for a in meeting.attendees or []
        if isinstance(a, dict)
    )


def unmet_prerequisites(meeting, *, now: datetime) -> list[str]:
    """The recording prerequisites this meeting misses, as REASONS codes in the order `decide`
    reports them. Nothing records a meeting that misses one: not the preferences, not an
    override, not a bot scheduled through the API (calendars.meeting_services refuses the request)."""
    unmet = []
    if not meeting.meeting_url:
        unmet.append("no_link")
    if meeting.is_all_day:
        unmet.append("all_day")
    if meeting.is_deleted:
        unmet.append("deleted")
    if meeting.status == Meeting.Status.CANCELLED:
        unmet.append("cancelled")
    if meeting.end_time <= now:
        unmet.append("ended")
    return unmet


def decide(
    meeting,
    preferences,
    *,
    account_email: str,
    now: datetime,
    calendar_connected: bool = True,
    calendar_connecting: bool = False,
    schedule=None,
) -> Decision:
    """`preferences` is the CalendarUser (or None for a calendar without one); `schedule` the
    meeting's effective BotSchedule (meetings/bot_schedules.py), if any."""
    if not calendar_connected:
        return Decision(False, "calendar_disconnected")
    if calendar_connecting:
        return Decision(False, "calendar_connecting")
    unmet = unmet_prerequisites(meeting, now=now)
    if unmet:
        return Decision(False, unmet[0])
    if meeting.override_should_record is True:
        return Decision(True, "override_on")
    if meeting.override_should_record is False:
        return Decision(False, "override_off")
    if schedule is not None:
        return (
            Decision(True, "scheduled_by_api")
            if schedule.enabled
            else (Decision(False, "unscheduled_by_api"))
        )
    if preferences is None:
        return Decision(False, "no_calendar_user")

    p = preferences
    if not any(
        (
            p.record_external,
            p.record_internal,
            p.record_recurring,
            p.record_non_host,
            p.record_only_host,
            p.record_confirmed,
        )
    ):
        return Decision(False, "no_preferences")
    if p.record_external or p.record_internal:
        if meeting.is_external and not p.record_external:
            return Decision(False, "not_internal")
        if not meeting.is_external and not p.record_internal:
            return Decision(False, "not_external")
    if p.record_recurring and not meeting.is_recurring:
        return Decision(False, "not_recurring")
    if p.record_non_host and meeting.is_hosted_by_me:
        return Decision(False, "hosted_by_me")
    if p.record_only_host and not meeting.is_hosted_by_me:
        return Decision(False, "not_hosted_by_me")
    if p.record_confirmed and not _accepted(meeting, account_email):
        return Decision(False, "not_accepted")
    return Decision(True, "preferences")

"""Why (no) bot? A meeting's decision with its steps, and its bot, for the admin and the APIs.

The steps come from the decision itself: `bots.reconcile.decide_meeting`, the function
reconciliation decides with, run with a list to record them (meetings/decisions.py: `trace`),
on the same inputs reconciliation loads (the calendar and its state, the calendar user's
preferences and compiled auto-join rules, the meeting's API schedule). What only an
explanation needs - the event field the join link came from, which the meeting does not store -
is read here from the provider's link detection over the stored payload.

Queries are bounded: the meeting with its calendar, calendar user and project (one), its API
schedule (one or two), the rules (one) and its bots (one).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from bots.models import Bot
from bots.reconcile import decide_meeting, rule_sets
from meetings.bot_schedules import attach_schedules
from meetings.decisions import Trace
from meetings.models import Meeting

from .providers import PROVIDERS, get_provider


@dataclass(frozen=True)
class MeetingDecision:
    meeting: Meeting
    trace: Trace
    bot: Bot | None
    # The decision stored on the meeting differs from the one computed now: a reconciliation is
    # pending (a change not drained yet) or the meeting ended since.
    stored_differs: bool


def decision_queryset() -> QuerySet[Meeting]:
    """Meetings with what their decision reads, for `meeting_decision`."""
    return Meeting.objects.select_related("calendar__calendar_user", "calendar__project")


def link_source(meeting: Meeting) -> str | None:
    """The event field the meeting's join link was found in (`conferenceData.entryPoints`,
    `location`, ...), by the provider's detection over the stored payload; None when unknown."""
    platform = meeting.calendar.platform
    if not meeting.meeting_url or platform not in PROVIDERS or not isinstance(meeting.raw, dict):
        return None
    detection = get_provider(platform).detect_link(meeting.raw)
    return detection.source if detection is not None else None


def meeting_bot(meeting: Meeting) -> Bot | None:
    """The bot serving the meeting: its live bot, else the one it had last."""
    bots = list(meeting.bots.order_by("-created_at", "-id")[:20])
    live = [bot for bot in bots if not bot.is_terminal]
    return (live or bots or [None])[0]


def meeting_decision(meeting: Meeting, *, now: datetime | None = None) -> MeetingDecision:
    """The decision of a meeting (loaded through `decision_queryset`) as reconciliation would
    make it now, with its steps, and its bot."""
    now = now or timezone.now()
    meeting.project = meeting.calendar.project
    attach_schedules([meeting])
    steps: list = []
    decision = decide_meeting(meeting, now, rule_sets([meeting.calendar]), steps=steps)
    trace = Trace.of(decision, steps, link_source=link_source(meeting))
    stored = (meeting.will_record, meeting.will_record_reason)
    return MeetingDecision(
        meeting=meeting,
        trace=trace,
        bot=meeting_bot(meeting),
        stored_differs=stored != (decision.will_record, decision.reason),
    )

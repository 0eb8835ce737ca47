"""Pictures of time for support staff: a calendar user's next days (one row per calendar,
a block per meeting, a marker where its bot joins) and a calendar's sync history.

A fixed number of queries whatever the rows: the calendars, their meetings in the window
(capped, through the (calendar, start_time) index), the bots of those meetings in one join.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from bots.models import Bot
from bots.reconcile import join_time
from config import charts
from meetings.models import Meeting

from ..models import Calendar, CalendarSyncEvent, CalendarUser

MEETING_LIMIT = 300  # blocks in one picture; the meetings list has the rest
HISTORY_LIMIT = 500  # sync history markers in one picture
HISTORY_LIST = 50  # lines of the sync history shown as text

DECISION_LEGEND = [
    ("recorded", "good"),
    ("not recorded", "muted"),
    ("bot in trouble", "bad"),
    ("bot joins", "accent"),
]


@dataclass
class Entry:
    """One meeting of the timeline, with what the picture and the table say of it."""

    meeting: Meeting
    calendar: Calendar
    bot: Bot | None
    decision: str  # recorded | not_recorded | trouble
    trouble: str
    join_at: datetime | None


def _decision(meeting: Meeting, bot: Bot | None) -> tuple[str, str]:
    """(decision, what is wrong): colour by decision, and whether the bot is in trouble."""
    if not meeting.will_record:
        return "not_recorded", ""
    if bot is None:
        return "trouble", "decided to record, but no bot is scheduled yet"
    if bot.status in (Bot.Status.FATAL, Bot.Status.CANCELLED):
        return "trouble", f"its bot is {bot.get_status_display().lower()}"
    if bot.backend_error:
        return "trouble", f"hand-over failing: {bot.backend_error[:120]}"
    return "recorded", ""


COLOUR = {"recorded": "good", "not_recorded": "muted", "trouble": "bad"}


def user_timeline(
    calendar_user: CalendarUser, *, days: int = 7, now: datetime | None = None
) -> dict:
    now = now or timezone.now()
    start = now.replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(days=days)
    calendars = list(calendar_user.calendars.order_by("platform", "created_at"))
    by_id = {calendar.pk: calendar for calendar in calendars}
    meetings = list(
        Meeting.objects.upcoming(now)
        .filter(calendar_id__in=list(by_id), start_time__lt=end)
        .defer("raw", "description", "attendees", "meeting_invite")
        .order_by("start_time", "pk")[: MEETING_LIMIT + 1]
    )
    capped = len(meetings) > MEETING_LIMIT
    meetings = meetings[:MEETING_LIMIT]
    # A meeting's bot: the live one if any, else its latest (one query through the M2M table).
    bots: dict = {}
    for link in (
        Meeting.bots.through.objects.filter(meeting_id__in=[m.pk for m in meetings])
        .select_related("bot")
        .order_by("bot__created_at")
    ):
        current = bots.get(link.meeting_id)
        if current is None or current.is_terminal or not link.bot.is_terminal:
            bots[link.meeting_id] = link.bot
    entries = []
    for meeting in meetings:
        meeting.project = calendar_user.project  # join_time reads the lead time
        bot = bots.get(meeting.pk)
        decision, trouble = _decision(meeting, bot)
        joins = bot.join_at if bot else (join_time(meeting, now) if meeting.will_record else None)
        entries.append(Entry(meeting, by_id[meeting.calendar_id], bot, decision, trouble, joins))

    rows = []
    for calendar in calendars:
        row = charts.Row(
            label=calendar.email or calendar.get_platform_display(),
            title=f"{calendar.get_platform_display()} {calendar.email} ({calendar.state})",
        )
        for entry in (e for e in entries if e.calendar.pk == calendar.pk):
            meeting = entry.meeting
            href = reverse("admin:meetings_meeting_change", args=[meeting.pk])
            when = f"{meeting.start_time:%a %H:%M}-{meeting.end_time:%H:%M %Z}"
            words = {
                "recorded": "recorded",
                "not_recorded": "not recorded",
                "trouble": "bot in trouble",
            }
            label = f"{meeting.title or '(untitled)'} · {when} · {words[entry.decision]}"
            reason = entry.trouble or meeting.will_record_reason
            if reason:
                label += f": {reason}"
            row.blocks.append(
                charts.Block(
                    meeting.start_time,
                    meeting.end_time,
                    COLOUR[entry.decision],
                    label,
                    href,
                    css_class=f"decision-{entry.decision}",
                )
            )
            if entry.join_at is not None:
                bot_text = (
                    f"bot {entry.bot.get_status_display().lower()}" if entry.bot else "bot due"
                )
                row.markers.append(
                    charts.Marker(
                        entry.join_at,
                        "accent",
                        f"{bot_text}, joins {entry.join_at:%a %H:%M %Z}",
                        reverse("admin:bots_bot_change", args=[entry.bot.pk]) if entry.bot else "",
                        css_class="bot-join",
                    )
                )
        rows.append(row)
    picture = charts.time_axis(
        title=f"Meetings of {calendar_user.external_id}, next {days} days",
        start=start,
        end=end,
        rows=rows,
        legend=DECISION_LEGEND,
        tick=timedelta(days=1) if days > 1 else timedelta(hours=3),
        tick_format="%a %d %b" if days > 1 else "%H:%M",
        css_class="user-timeline",
    )
    return {
        "picture": picture,
        "entries": entries,
        "capped": capped,
        "limit": MEETING_LIMIT,
        "start": start,
        "end": end,
        "days": days,
        "calendars": calendars,
    }


HISTORY_ROWS = [
    (
        "syncs",
        {
            CalendarSyncEvent.Kind.SYNCED,
            CalendarSyncEvent.Kind.FAILED,
            CalendarSyncEvent.Kind.DISCONNECTED,
            CalendarSyncEvent.Kind.CRASHED,
        },
    ),
    ("push notifications", {CalendarSyncEvent.Kind.PUSH}),
    ("push channel", {CalendarSyncEvent.Kind.CHANNEL, CalendarSyncEvent.Kind.CHANNEL_FAILED}),
]


def sync_history(calendar: Calendar, *, days: int = 7, now: datetime | None = None) -> dict:
    """The calendar's last `days` of sync history: one row per kind of event (syncs, push
    notifications, channel renewals), failures in red, and the latest lines as text."""
    now = now or timezone.now()
    start = now - timedelta(days=days)
    events = list(
        CalendarSyncEvent.objects.filter(calendar=calendar, at__gte=start).order_by("-at")[
            :HISTORY_LIMIT
        ]
    )
    rows = []
    for label, kinds in HISTORY_ROWS:
        row = charts.Row(label=label)
        for event in events:
            if event.kind in kinds:
                text = f"{event.get_kind_display()} {event.at:%Y-%m-%d %H:%M:%S %Z}"
                if event.kind == CalendarSyncEvent.Kind.SYNCED:
                    text += f" · {event.changed} meeting(s) changed" + (
                        " · full" if event.full else ""
                    )
                if event.detail:
                    text += f" · {event.detail}"
                row.markers.append(
                    charts.Marker(
                        event.at,
                        "bad"
                        if event.is_failure
                        else ("good" if event.kind == CalendarSyncEvent.Kind.SYNCED else "neutral"),
                        text,
                        css_class=f"kind-{event.kind}",
                    )
                )
        rows.append(row)
    picture = charts.time_axis(
        title=f"Sync history of {calendar}, last {days} days",
        start=start,
        end=now,
        rows=rows,
        legend=[("sync", "good"), ("failure", "bad"), ("push / channel", "neutral")],
        css_class="sync-history",
        width=860,
        label_width=130,
    )
    return {"picture": picture, "events": events[:HISTORY_LIST], "days": days}


def state_timeline(calendar: Calendar) -> list[dict]:
    """`state_history` as readable lines, newest first (the JSON is capped by nothing but the
    rare state changes; the page shows the last 50)."""
    lines = []
    for item in reversed((calendar.state_history or [])[-50:]):
        if not isinstance(item, dict):
            continue
        try:
            at = datetime.fromisoformat(item.get("at", ""))
        except (TypeError, ValueError):
            at = None
        failure = item.get("failure") or {}
        reason = ""
        if isinstance(failure, dict):
            reason = ": ".join(str(p) for p in (failure.get("error"), failure.get("message")) if p)
        lines.append({"at": at, "state": item.get("state", "?"), "reason": reason})
    return lines

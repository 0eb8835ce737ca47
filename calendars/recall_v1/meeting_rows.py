"""Recall V1's meeting list built from rows: the JSON `MeetingSerializer(many=True)` gives, key
for key and in the same order, without a serializer object per meeting and attendee (a user
with 1,000 meetings took ~0.5 s). `MeetingSerializer` stays the definition of the format (the
OpenAPI schema, one meeting, its update); tests/calendars/test_v1_meeting_rows.py compares both.

The list reads the user's calendars first and then the meetings by those calendar ids: a join
through calendars to the user let PostgreSQL guess a calendar's share of the table and scan all
of it, where a list of ids is estimated from the column's statistics and read by index
(meeting_calendar_start). Only the columns the format returns are read: not the provider
payload (`raw`, kilobytes a row).
"""

from collections.abc import Iterable, Mapping
from datetime import datetime

from django.db import connection
from django.db.models import F, Func, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework import serializers

from bots.models import TERMINAL_STATUSES, Bot
from calendars.models import CalendarUser
from config.api.renderers import load_json
from meetings.models import Meeting

from .serializers import INVITE_KEYS

BotMeeting = Bot.meetings.through

MEETING_COLUMNS = (
    "id",
    "calendar_id",
    "override_should_record",
    "title",
    "will_record",
    "will_record_reason",
    "platform_event_id",
    "meeting_platform",
    "description",
    "is_external",
    "is_hosted_by_me",
    "is_recurring",
    "organizer_email",
    "ical_uid",
    "visibility",
)
# JSON columns, read as their text (`<name>_json`) and decoded by config.api.renderers.load_json:
# faster than the ORM's decoding, and exact for the list's renderer.
JSON_COLUMNS = ("meeting_invite", "attendees")

_TRUE = serializers.BooleanField.TRUE_VALUES
_FALSE = serializers.BooleanField.FALSE_VALUES
_INVITES = ("zoom_invite", "teams_invite", "meet_invite", "webex_invite", "goto_meeting_invite")


def calendar_user_meetings(calendar_user: CalendarUser, filter_meetings=None) -> list[dict]:
    """The wire form of the user's meetings in the calendar, by start time. `filter_meetings`
    narrows the meetings queryset (the list's query parameters)."""
    calendars = dict(calendar_user.calendars.values_list("pk", "platform"))
    if not calendars:
        return []
    meetings = Meeting.objects.filter(calendar_id__in=list(calendars), is_deleted=False)
    if filter_meetings is not None:
        meetings = filter_meetings(meetings)
    rows = list(
        meetings.order_by("start_time", "id").values(
            *MEETING_COLUMNS, **json_texts(JSON_COLUMNS), **_times(("start_time", "end_time"))
        )
    )
    if not rows:
        return []
    # Their bots by the same query as a subquery: a thousand ids as parameters cost more.
    bots = _first_live_bots(meetings.values("id"))
    return meeting_rows(rows, calendars, bots)


class UtcIsoText(Func):
    """A timestamp as text in UTC, as Python's isoformat() writes it but for the offset and the
    fraction (`2026-12-02T08:00:00.000000`); PostgreSQL."""

    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    output_field = TextField()


def _times(columns) -> dict:
    """`.values()` keywords for these timestamps (`<name>_at`): on PostgreSQL, when answers are
    in UTC, as text (Django's loader of timestamps is Python code, a third of a 1,000-meeting
    list's time); else the datetimes. `iso_in` writes either."""
    if connection.vendor == "postgresql" and timezone.get_current_timezone_name() == "UTC":
        return {f"{name}_at": UtcIsoText(name) for name in columns}
    return {f"{name}_at": F(name) for name in columns}


def json_texts(columns) -> dict:
    """`.values()` keywords that read these JSON columns as text (`<name>_json`)."""
    return {f"{name}_json": Cast(name, TextField()) for name in columns}


def meeting_rows(meetings: list[dict], platforms: Mapping, bots: Mapping) -> list[dict]:
    """MeetingSerializer's form of these meetings (dicts of MEETING_COLUMNS, the JSON_COLUMNS'
    texts and the start and end `_times`); `platforms` maps their calendars' ids to the calendars' platforms, `bots` meeting ids
    to the id of their live bot."""
    iso = iso_in(timezone.get_current_timezone())
    rows = []
    for meeting in meetings:
        platform = meeting["meeting_platform"]
        invite_key = INVITE_KEYS.get(platform)
        invite = load_json(meeting["meeting_invite_json"])
        attendees = load_json(meeting["attendees_json"])
        bot_id = bots.get(meeting["id"])
        row = {
            "id": str(meeting["id"]),
            "override_should_record": meeting["override_should_record"],
            "title": meeting["title"],
            "will_record": meeting["will_record"],
            "will_record_reason": meeting["will_record_reason"],
            "start_time": iso(meeting["start_time_at"]),
            "end_time": iso(meeting["end_time_at"]),
            "platform": platform,
            "platform_id": meeting["platform_event_id"],
            "meeting_platform": platform,
            "calendar_platform": platforms[meeting["calendar_id"]],
        }
        for key in _INVITES:
            row[key] = invite if key == invite_key else None
        row.update(
            {
                "description": meeting["description"],
                "bot_id": None if bot_id is None else str(bot_id),
                "is_external": meeting["is_external"],
                "is_hosted_by_me": meeting["is_hosted_by_me"],
                "is_recurring": meeting["is_recurring"],
                "organizer_email": meeting["organizer_email"],
                "attendee_emails": [
                    a["email"] for a in attendees or () if isinstance(a, dict) and a.get("email")
                ],
                "attendees": attendee_rows(attendees),
                "ical_uid": meeting["ical_uid"],
                "visibility": meeting["visibility"],
            }
        )
        rows.append(row)
    return rows


def _first_live_bots(meeting_ids) -> dict:
    """{meeting id: id of its live bot joining first}, one query."""
    links = (
        BotMeeting.objects.filter(meeting_id__in=meeting_ids)
        .exclude(bot__status__in=TERMINAL_STATUSES)
        .order_by("bot__join_at", "bot_id")
        .values_list("meeting_id", "bot_id")
    )
    first: dict = {}
    for meeting_id, bot_id in links:
        first.setdefault(meeting_id, bot_id)
    return first


def iso_in(zone):
    """DRF's DateTimeField output (ISO 8601 in the current time zone, `Z` for UTC)."""

    def iso(value: datetime | str | None) -> str | None:
        if value is None:
            return None
        if type(value) is str:  # UtcIsoText, read when the zone is UTC
            return (value[:-7] if value.endswith(".000000") else value) + "Z"
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return iso


def _text(value) -> str | None:
    return None if value is None else str(value)


def _boolean(value) -> bool:
    """DRF's BooleanField output."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return bool(value)


def attendee_rows(attendees: Iterable | None) -> list[dict]:
    """AttendeeSerializer(many=True): name, email, status may be missing (null). An entry that
    is not an object, or lacks `is_organizer`, reads as not the organizer (the serializer
    failed on it)."""
    rows = []
    for attendee in attendees or ():
        if not isinstance(attendee, dict):  # decoded JSON: a dict or not an object
            attendee = {}
        is_organizer = attendee.get("is_organizer")
        rows.append(
            {
                "name": _text(attendee.get("name")),
                "email": _text(attendee.get("email")),
                "is_organizer": False if is_organizer is None else _boolean(is_organizer),
                "status": _text(attendee.get("status")),
            }
        )
    return rows

"""The server API's event list built from rows: the JSON `EventSerializer(many=True)` gives, key
for key and in the same order, without a serializer object per event, bot, attendee and
calendar meeting (~0.6 ms per event with its bots; a page of 100 took 60 ms to serialize).

`EventSerializer` stays the definition of the wire format (the OpenAPI schema, single events,
the answers of the bot routes); tests/server_api/test_event_rows.py compares both outputs for
events with and without bots, schedules, attendees, nulls.

Queries per page: the events (`.values()` of the columns the format needs), their bots with
each bot's calendar meetings and their calendar users (one query through the link table; only
columns: no meeting payload, no calendar credentials), and the bot requests
(`meetings.bot_schedules`). JSON columns are read as text and decoded by
config.api.renderers.load_json, for the list's renderer (ListJSONRenderer, same bytes as DRF's).
"""

from django.utils import timezone

from bots.models import Bot
from bots.serializers import StatusChangeSerializer
from calendars.recall_v1.meeting_rows import attendee_rows, iso_in, json_texts
from config.api.renderers import exact_floats, load_json
from meetings.bot_schedules import effective_schedules
from meetings.models import BotSchedule

BotMeeting = Bot.meetings.through

# What an event row is built from, and its JSON columns read as text (`raw` included: the server
# API returns it).
EVENT_COLUMNS = (
    "id",
    "calendar_id",
    "platform_event_id",
    "title",
    "start_time",
    "end_time",
    "is_all_day",
    "status",
    "meeting_url",
    "meeting_platform",
    "organizer_email",
    "is_hosted_by_me",
    "is_external",
    "is_recurring",
    "series_id",
    "ical_uid",
    "is_deleted",
    "will_record",
    "will_record_reason",
    "created_at",
    "updated_at",
)

JSON_COLUMNS = ("meeting_invite", "attendees", "raw")

BOT_COLUMNS = (
    "id",
    "name",
    "meeting_url",
    "meeting_platform",
    "join_at",
    "status",
    "status_changes",
    "metadata",
    "deduplication_key",
    "dispatched_at",
    "backend",
    "backend_bot_id",
    "backend_synced_at",
    "backend_error",
    "backend_retry_at",
    "created_at",
    "updated_at",
)


def event_values(events):
    """The events queryset as the rows `event_rows` takes."""
    return events.values(*EVENT_COLUMNS, **json_texts(JSON_COLUMNS))


def event_rows(events: list[dict]) -> list[dict]:
    """The wire form of these events (rows of `event_values`, in page order)."""
    if not events:
        return []
    iso = iso_in(timezone.get_current_timezone())
    bots = _bots_by_event([event["id"] for event in events], iso)
    schedules = effective_schedules(
        (event["id"], event["calendar_id"], event["series_id"]) for event in events
    )
    rows = []
    for event in events:
        schedule = schedules.get(event["id"])
        rows.append(
            {
                "id": str(event["id"]),
                "calendar_id": str(event["calendar_id"]),
                "platform_uuid": event["platform_event_id"],
                "name": event["title"],
                "start_time": iso(event["start_time"]),
                "end_time": iso(event["end_time"]),
                "is_all_day": event["is_all_day"],
                "status": event["status"],
                "meeting_url": event["meeting_url"],
                "meeting_platform": event["meeting_platform"],
                "meeting_invite": load_json(event["meeting_invite_json"]),
                "organizer_email": event["organizer_email"],
                "attendees": attendee_rows(load_json(event["attendees_json"])),
                "is_organizer": event["is_hosted_by_me"],
                "is_external": event["is_external"],
                "is_recurring": event["is_recurring"],
                "recurring_event_id": event["series_id"] or None,
                "ical_uid": event["ical_uid"],
                "is_deleted": event["is_deleted"],
                "will_record": event["will_record"],
                "will_record_reason": event["will_record_reason"],
                "bot_schedule": _schedule(schedule) if schedule and schedule.enabled else None,
                "bots": bots.get(event["id"], []),
                "raw": load_json(event["raw_json"]),
                "created_at": iso(event["created_at"]),
                "updated_at": iso(event["updated_at"]),
            }
        )
    return rows


def _schedule(schedule: BotSchedule) -> dict:
    """BotScheduleSerializer."""
    return {
        "bot_name": schedule.bot_name,
        "bot_config": exact_floats(schedule.bot_config),
        "deduplication_key": schedule.deduplication_key,
        "all_occurrences": schedule.meeting_id is None,
    }


# Each of a bot's calendar meetings, through the bot's own links.
SERVED_COLUMNS = (
    "bot__meetings__id",
    "bot__meetings__start_time",
    "bot__meetings__end_time",
    "bot__meetings__calendar__calendar_user_id",
    "bot__meetings__calendar__calendar_user__external_id",
)


def _bots_by_event(event_ids: list, iso) -> dict:
    """{event id: [bot, ...]} in join order (BotSerializer's form), each bot with its calendar
    meetings in start order. One query: a row per (event, its bot, a meeting of that bot)."""
    rows = (
        BotMeeting.objects.filter(meeting_id__in=event_ids)
        .order_by(
            "bot__join_at", "bot_id", "meeting_id", "bot__meetings__start_time", "bot__meetings__id"
        )
        .values_list("meeting_id", *(f"bot__{column}" for column in BOT_COLUMNS), *SERVED_COLUMNS)
    )
    width = len(BOT_COLUMNS)
    bots: dict = {}  # bot id: its wire form
    filled_from: dict = {}  # bot id: the event whose rows list its calendar meetings
    by_event: dict = {}
    for row in rows:
        event_id, bot_id = row[0], row[1]
        bot = bots.get(bot_id)
        if bot is None:
            bot = bots[bot_id] = _bot(dict(zip(BOT_COLUMNS, row[1 : 1 + width], strict=True)), iso)
            filled_from[bot_id] = event_id
        listed = by_event.setdefault(event_id, [])
        if not listed or listed[-1] is not bot:
            listed.append(bot)
        if filled_from[bot_id] != event_id:
            continue  # the same calendar meetings again, for another event of this bot
        meeting_id, start, end, user_id, external_id = row[1 + width :]
        bot["calendar_meetings"].append(
            {
                "id": str(meeting_id),
                "start_time": iso(start),
                "end_time": iso(end),
                "calendar_user": None
                if user_id is None
                else {"id": str(user_id), "external_id": external_id},
            }
        )
    return by_event


_status_change = StatusChangeSerializer().to_representation


def _bot(bot: dict, iso) -> dict:
    """BotSerializer, with `calendar_meetings` filled in afterwards."""
    return {
        "id": str(bot["id"]),
        "bot_name": bot["name"],
        "meeting_url": bot["meeting_url"],
        "meeting_platform": bot["meeting_platform"],
        "join_at": iso(bot["join_at"]),
        "status": bot["status"],
        "status_changes": [
            _status_change(change) for change in exact_floats(bot["status_changes"])
        ],
        "calendar_meetings": [],
        "metadata": exact_floats(bot["metadata"]),
        "deduplication_key": bot["deduplication_key"],
        "dispatched_at": iso(bot["dispatched_at"]),
        "backend": {
            "name": bot["backend"],
            "bot_id": bot["backend_bot_id"] or None,
            "synced_at": iso(bot["backend_synced_at"]),
            "error": bot["backend_error"],
            "retry_at": iso(bot["backend_retry_at"]),
        },
        "created_at": iso(bot["created_at"]),
        "updated_at": iso(bot["updated_at"]),
    }

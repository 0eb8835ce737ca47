"""The catalogue of webhook event types and the builders of their `data`.

Emit with `webhooks.services.emit_event(project=..., event_type=events.X, data=events.x(...))`.
The outbox stores the envelope `{"id", "event", "timestamp", "data"}` (see `envelope()`); `id`
is also the `webhook-id` header, stable across retries. That is the body of a `standard`
endpoint; `formats.py` reshapes it for the peers' formats when it is sent.

Shapes follow the APIs our customers already consume: Recall (`calendar.update`,
`calendar.sync_events`, bot status events), Attendee (`calendar.state_change`,
`calendar.events_update`, with the calendar's `deduplication_key` and `metadata`) and Meeting
BaaS v1 (`affected_event_uuids`). Builders read model instances and never write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils import timezone

CALENDAR_UPDATE = "calendar.update"
CALENDAR_STATE_CHANGE = "calendar.state_change"
CALENDAR_SYNC_EVENTS = "calendar.sync_events"
CALENDAR_EVENTS_UPDATE = "calendar.events_update"
CALENDAR_USER_UPDATED = "calendar_user.updated"
CALENDAR_USER_DELETED = "calendar_user.deleted"
BOT_SCHEDULED = "bot.scheduled"
BOT_RESCHEDULED = "bot.rescheduled"
BOT_CANCELLED = "bot.cancelled"
BOT_DISPATCH = "bot.dispatch"
BOT_STATUS_CHANGE = "bot.status_change"
WEBHOOK_TEST = "webhook.test"

# Recall's per-code bot status events: `bot.<code>`. Codes are not a closed set at Recall;
# a status without its own event type still goes out as `bot.status_change`.
BOT_STATUS_CODES = (
    "joining_call",
    "in_waiting_room",
    "in_call_not_recording",
    "recording_permission_allowed",
    "recording_permission_denied",
    "in_call_recording",
    "call_ended",
    "done",
    "fatal",
)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def envelope(*, event_id: str, event_type: str, data: dict, at: datetime) -> dict:
    return {"id": event_id, "event": event_type, "timestamp": iso(at), "data": data}


# --- Builders ----------------------------------------------------------------------------------


def _calendar(calendar) -> dict:
    user = calendar.calendar_user
    return {
        "calendar_id": str(calendar.id),
        "calendar_platform": calendar.platform,
        "calendar_deduplication_key": calendar.deduplication_key,
        "calendar_metadata": calendar.metadata,
        "calendar_user": {"id": str(user.id), "external_id": user.external_id} if user else None,
    }


def _calendar_state(calendar) -> dict:
    return {
        "state": calendar.state,
        "connection_failure_data": calendar.connection_failure_data,
        "last_successful_sync_at": iso(calendar.last_successful_sync_at),
        "last_attempted_sync_at": iso(calendar.last_attempted_sync_at),
    }


def calendar_updated_payload(calendar) -> dict:
    """Recall V2 `calendar.update`: something about the calendar changed; re-fetch it. (Not
    named after its event like the other builders: calendars.services.calendar_update is the
    service that changes a calendar.)"""
    return {**_calendar(calendar), "state": calendar.state}


def calendar_state_change(calendar, *, previous_state: str | None) -> dict:
    """The calendar was connected, disconnected (`connection_failure_data` says why) or
    reconnected."""
    if calendar.state == "connected":
        change = "reconnected" if previous_state == "disconnected" else "connected"
    else:
        change = calendar.state
    return {
        **_calendar(calendar),
        "change": change,
        "previous_state": previous_state,
        **_calendar_state(calendar),
    }


def calendar_sync_events(calendar, *, last_updated_ts: datetime, meeting_ids: Iterable) -> dict:
    """A sync changed meetings: list them with `updated_at >= last_updated_ts`."""
    return {
        **_calendar(calendar),
        "last_updated_ts": iso(last_updated_ts),
        "affected_event_uuids": [str(meeting_id) for meeting_id in meeting_ids],
    }


def calendar_events_update(calendar, *, last_updated_ts: datetime, meeting_ids: Iterable) -> dict:
    """Attendee's name for the same news, with the calendar's sync state."""
    return {
        **calendar_sync_events(calendar, last_updated_ts=last_updated_ts, meeting_ids=meeting_ids),
        **_calendar_state(calendar),
    }


def calendar_user_event(calendar_user) -> dict:
    """`calendar_user.updated` / `calendar_user.deleted` (build before deleting)."""
    return {
        "calendar_user": {"id": str(calendar_user.id), "external_id": calendar_user.external_id}
    }


def payload_meetings(meetings):
    """What `_bot` lists of a bot's meetings, and nothing else (not the provider's payload, not
    the calendar's encrypted credentials)."""
    return (
        meetings.select_related("calendar__calendar_user")
        .only("start_time", "end_time", "calendar__calendar_user__external_id")
        .order_by("start_time")
    )


def _bot(bot) -> dict:
    meetings = getattr(bot, "payload_meetings", None)
    if meetings is None:
        meetings = payload_meetings(bot.meetings)
    return {
        "id": str(bot.id),
        "metadata": bot.metadata,
        "meeting_url": bot.meeting_url,
        "join_at": iso(bot.join_at),
        "deduplication_key": bot.deduplication_key,
        "status": bot.status,
        "calendar_meetings": [
            {
                "id": str(meeting.id),
                "calendar_id": str(meeting.calendar_id),
                "start_time": iso(meeting.start_time),
                "end_time": iso(meeting.end_time),
                "calendar_user": (
                    {
                        "id": str(meeting.calendar.calendar_user.id),
                        "external_id": meeting.calendar.calendar_user.external_id,
                    }
                    if meeting.calendar.calendar_user
                    else None
                ),
            }
            for meeting in meetings
        ],
    }


def bot_scheduled(bot) -> dict:
    return {"bot": _bot(bot)}


def bot_rescheduled(
    bot, *, previous_join_at: datetime, previous_meeting_url: str | None = None
) -> dict:
    return {
        "bot": _bot(bot),
        "previous_join_at": iso(previous_join_at),
        "previous_meeting_url": previous_meeting_url or bot.meeting_url,
    }


def bot_cancelled(bot, *, reason: str) -> dict:
    """`reason`: why the bot was removed (meeting cancelled, no longer recorded, ...)."""
    return {"bot": _bot(bot), "reason": reason}


def bot_dispatch(bot) -> dict:
    """Sent at join time: everything a bot runner needs to send the bot."""
    return {"bot": {**_bot(bot), "name": bot.name, "config": bot.config}}


def bot_status_events(bot) -> list[tuple[str, dict]]:
    """The events for the bot's latest status: the legacy `bot.status_change` and, when the
    code has one, Recall's `bot.<code>`. Emit each of them."""
    change = bot.status_changes[-1] if bot.status_changes else {}
    code = change.get("code", bot.status)
    sub_code = change.get("sub_code")
    at = change.get("created_at") or iso(timezone.now())
    events = [
        (
            BOT_STATUS_CHANGE,
            {
                "bot_id": str(bot.id),
                "status": {
                    "code": code,
                    "sub_code": sub_code,
                    "created_at": at,
                    "message": change.get("message") or None,
                },
            },
        )
    ]
    if code in BOT_STATUS_CODES:
        events.append(
            (
                f"bot.{code}",
                {
                    "data": {"code": code, "sub_code": sub_code, "updated_at": at},
                    "bot": {"id": str(bot.id), "metadata": bot.metadata},
                },
            )
        )
    return events


def webhook_test(endpoint) -> dict:
    return {"endpoint_id": str(endpoint.id), "message": "A test event from calsync."}


# --- Catalogue ---------------------------------------------------------------------------------

EXAMPLE_TIME = datetime(2025, 3, 4, 10, 0, 0, tzinfo=UTC)

_CALENDAR = {
    "calendar_id": "0b7c3f7e-4d3e-4a55-9f55-1c2a5f8e9d10",
    "calendar_platform": "google",
    "calendar_deduplication_key": "acme-user-42-primary",
    "calendar_metadata": {"team": "sales"},
    "calendar_user": {"id": "5f0c2b1e-9a7d-4c1b-8f3e-2d6a7b8c9d0e", "external_id": "user-42"},
}
_STATE = {
    "state": "connected",
    "connection_failure_data": None,
    "last_successful_sync_at": "2025-03-04T09:59:58Z",
    "last_attempted_sync_at": "2025-03-04T09:59:58Z",
}
_BOT = {
    "id": "9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "metadata": {"crm_deal": "D-1001"},
    "meeting_url": "https://meet.google.com/abc-defg-hij",
    "join_at": "2025-03-05T14:58:00Z",
    "deduplication_key": "2025-03-05T15:00:00Z-https://meet.google.com/abc-defg-hij",
    "status": "scheduled",
    "calendar_meetings": [
        {
            "id": "3c2d1e0f-aaaa-4bbb-8ccc-0123456789ab",
            "calendar_id": _CALENDAR["calendar_id"],
            "start_time": "2025-03-05T15:00:00Z",
            "end_time": "2025-03-05T15:30:00Z",
            "calendar_user": _CALENDAR["calendar_user"],
        }
    ],
}
_SYNC = {
    **_CALENDAR,
    "last_updated_ts": "2025-03-04T10:00:00Z",
    "affected_event_uuids": ["3c2d1e0f-aaaa-4bbb-8ccc-0123456789ab"],
}


def _status_example(code: str) -> dict:
    return {
        "data": {"code": code, "sub_code": None, "updated_at": "2025-03-05T15:00:12Z"},
        "bot": {"id": _BOT["id"], "metadata": _BOT["metadata"]},
    }


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    example: dict = field(default_factory=dict)  # the `data` of an example event


_TYPES = [
    EventType(
        CALENDAR_UPDATE,
        "The calendar changed (for example its state); fetch it again.",
        {**_CALENDAR, "state": "disconnected"},
    ),
    EventType(
        CALENDAR_STATE_CHANGE,
        "The calendar was connected, disconnected (with `connection_failure_data`) or reconnected.",
        {
            **_CALENDAR,
            "change": "disconnected",
            "previous_state": "connected",
            **_STATE,
            "state": "disconnected",
            "connection_failure_data": {"error": "invalid_grant", "message": "Token revoked."},
        },
    ),
    EventType(
        CALENDAR_SYNC_EVENTS,
        "A sync changed the calendar's meetings; list them with `updated_at >= last_updated_ts`.",
        _SYNC,
    ),
    EventType(
        CALENDAR_EVENTS_UPDATE,
        "The same news in Attendee's shape, with the calendar's sync state.",
        {**_SYNC, **_STATE},
    ),
    EventType(
        CALENDAR_USER_UPDATED,
        "A calendar user's connections or preferences changed.",
        {"calendar_user": _CALENDAR["calendar_user"]},
    ),
    EventType(
        CALENDAR_USER_DELETED,
        "A calendar user and its calendars were deleted.",
        {"calendar_user": _CALENDAR["calendar_user"]},
    ),
    EventType(BOT_SCHEDULED, "A bot was scheduled for a meeting.", {"bot": _BOT}),
    EventType(
        BOT_RESCHEDULED,
        "A scheduled bot moved (new join time or meeting URL).",
        {
            "bot": _BOT,
            "previous_join_at": "2025-03-05T13:58:00Z",
            "previous_meeting_url": _BOT["meeting_url"],
        },
    ),
    EventType(
        BOT_CANCELLED,
        "A scheduled bot was removed.",
        {"bot": {**_BOT, "status": "cancelled"}, "reason": "meeting_cancelled"},
    ),
    EventType(
        BOT_DISPATCH,
        "It is time to send the bot: everything a bot runner needs.",
        {"bot": {**_BOT, "status": "dispatched", "name": "Notetaker", "config": {}}},
    ),
    EventType(
        BOT_STATUS_CHANGE,
        "A bot's status changed (legacy Recall shape; sent for every status).",
        {
            "bot_id": _BOT["id"],
            "status": {
                "code": "in_call_recording",
                "sub_code": None,
                "created_at": "2025-03-05T15:00:12Z",
                "message": None,
            },
        },
    ),
    *[
        EventType(
            f"bot.{code}",
            f"The bot's status became `{code}` (Recall shape).",
            _status_example(code),
        )
        for code in BOT_STATUS_CODES
    ],
    EventType(
        WEBHOOK_TEST,
        "Sent by `POST /api/v1/webhooks/{id}/test/`, whatever the endpoint's filter.",
        {
            "endpoint_id": "7d6c5b4a-3210-4fed-8cba-9876543210fe",
            "message": "A test event from calsync.",
        },
    ),
]

CATALOGUE: dict[str, EventType] = {event_type.name: event_type for event_type in _TYPES}
FAMILIES = sorted({name.split(".", 1)[0] + ".*" for name in CATALOGUE})
EVENT_TYPE_FILTERS = [*CATALOGUE, *FAMILIES]

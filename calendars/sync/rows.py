"""A provider event as a row to write: the synced meeting fields, cut to fit their columns,
their JSON text (encoded once) and the fingerprint that spares unchanged rows a write."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import NamedTuple

import orjson

from meetings.decisions import Decision
from meetings.models import BotSchedule, Meeting

# Meeting fields a sync owns (everything else - override, decision - belongs to other rules).
SYNCED_FIELDS = (
    "ical_uid",
    "series_id",
    "title",
    "description",
    "location",
    "start_time",
    "end_time",
    "is_all_day",
    "status",
    "organizer_email",
    "attendees",
    "is_external",
    "is_hosted_by_me",
    "is_recurring",
    "visibility",
    "meeting_url",
    "meeting_platform",
    "meeting_invite",
    "raw",
    "provider_updated_at",
)
_MAX_LENGTHS = {
    f.name: f.max_length
    for f in Meeting._meta.concrete_fields
    if getattr(f, "max_length", None) and f.name in SYNCED_FIELDS
}
_FINGERPRINTED = tuple(name for name in SYNCED_FIELDS if name != "raw")


def _json(value) -> str:
    """JSON text of provider data. orjson is several times faster than the standard library on
    kilobytes of event payload; what it refuses (integers beyond 64 bits) goes the slow way."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value, default=str, separators=(",", ":"))


def _without_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


def _fingerprint(fields: dict, raw_json: str) -> str:
    """What a sync wrote; an event whose fingerprint is unchanged is not written again."""
    facts = _json([fields[name] for name in _FINGERPRINTED])
    return hashlib.sha256(f"{facts}\n{raw_json}".encode()).hexdigest()


def _fit(fields: dict) -> dict:
    """Provider data that would break a column (or the batch with it) is cut to fit."""
    for name, limit in _MAX_LENGTHS.items():
        value = fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            fields[name] = value[:limit]
    if fields["end_time"] < fields["start_time"]:
        fields["end_time"] = fields["start_time"]
    return fields


@dataclass
class Row:
    """One meeting to write: the synced fields, their fingerprint and the payload's JSON text
    (encoded once, for the fingerprint and for COPY)."""

    event_id: str
    fields: dict
    raw_json: str
    fingerprint: str
    will_record: bool = False
    will_record_reason: str = ""
    needs_reconcile: bool = True
    # A new meeting's id, chosen before it is written (its bot is created in the same
    # transaction); the decision that wants a bot, with the series' API schedule it read.
    meeting_id: uuid.UUID | None = None
    decision: Decision | None = None
    schedule: BotSchedule | None = None


class Prepared(NamedTuple):
    present: dict[str, Row]  # event id -> row
    gone: set[str]  # event ids removed, or moved out of the horizon

"""Webhook formats: what a delivery looks like on the wire, chosen per endpoint, so a customer
moving from a peer keeps the receiver it has.

- `standard` (the default): our envelope `{id, event, timestamp, data}` (`events.envelope`),
  signed with Standard Webhooks headers (`webhook-*` and `svix-*`). Every event type.
- `meetingbaas_v1`: Meeting BaaS v1's `{"event", "data"}`. It carries `calendar.sync_events`
  only (v1's one calendar event), with `data` cut down to v1's
  `{calendar_id, last_updated_ts, affected_event_uuids}`. v1 signs nothing: its receivers
  check a secret header that v1 echoes (the account API key in `x-meeting-baas-api-key`), which
  the endpoint's static headers reproduce.
- `attendee`: Attendee's `{idempotency_key, calendar_id, calendar_deduplication_key,
  calendar_metadata, trigger, data}` for its two calendar triggers (`calendar.events_update`,
  `calendar.state_change`), `data` = `{state, connection_failure_data,
  last_successful_sync_at, last_attempted_sync_at}`; `X-Webhook-Signature` as Attendee computes
  it (`signing.attendee_signature`) and `User-Agent: Attendee-Webhook/1.0`. Our bot events use
  Recall's status codes, which do not map onto Attendee's bot states, so they are not carried:
  subscribe a `standard` endpoint to them.

`webhook.test` reaches every format (as `{"event", "data"}` or `{idempotency_key, trigger,
data}`), so a receiver can be tried before real events flow.

The outbox keeps our envelope; the format is applied when an attempt is sent (`render`). So a
retry goes out in the endpoint's current format, with the same message id (`webhook-id`,
Attendee's `idempotency_key`), and retries, the delivery log and the admin are the same for all.
An endpoint only receives the event types its format carries (`WebhookEndpoint.wants`).

Static headers: a few fixed headers the endpoint adds to every request, whatever its format
(Meeting BaaS v1's echoed key, a gateway's token). Stored encrypted, never shown back (only
their names), and they cannot replace the headers a format sets (`clean_static_headers`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder

from . import events
from .signing import attendee_signature, canonical_json, signature_headers

if TYPE_CHECKING:
    from .models import WebhookEndpoint

STANDARD = "standard"
MEETINGBAAS_V1 = "meetingbaas_v1"
ATTENDEE = "attendee"

JSON = "application/json"


@dataclass(frozen=True)
class Outgoing:
    """The request of one attempt: `body` is sent as is (it is what was signed)."""

    body: bytes
    headers: dict[str, str]


def encode_body(payload: dict) -> str:
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)


class Format:
    """One wire format. `carries`: the event types it delivers (None: every type)."""

    name: str
    label: str
    carries: frozenset[str] | None = None

    def can_carry(self, event_type: str) -> bool:
        return self.carries is None or event_type in self.carries

    def render(
        self, *, message_id: str, payload: dict, endpoint: WebhookEndpoint, at: datetime
    ) -> Outgoing:
        raise NotImplementedError

    def receiver_secret(self, secret: str) -> str:
        """The signing secret as this format's receivers paste it."""
        return secret


class Standard(Format):
    name = STANDARD
    label = "Standard Webhooks"

    def render(self, *, message_id, payload, endpoint, at):
        body = encode_body(payload)
        headers = {
            "Content-Type": JSON,
            **signature_headers(
                message_id=message_id,
                body=body,
                signing_secrets=endpoint.signing_secrets(at),
                at=at,
            ),
        }
        return Outgoing(body.encode(), headers)


class MeetingBaasV1(Format):
    name = MEETINGBAAS_V1
    label = "Meeting BaaS v1"
    carries = frozenset({events.CALENDAR_SYNC_EVENTS, events.WEBHOOK_TEST})
    DATA_KEYS = ("calendar_id", "last_updated_ts", "affected_event_uuids")

    def render(self, *, message_id, payload, endpoint, at):
        event_type, data = payload["event"], payload["data"]
        if event_type == events.CALENDAR_SYNC_EVENTS:
            data = {key: data.get(key) for key in self.DATA_KEYS}
        body = encode_body({"event": event_type, "data": data})
        return Outgoing(body.encode(), {"Content-Type": JSON})


class Attendee(Format):
    name = ATTENDEE
    label = "Attendee"
    CALENDAR_TRIGGERS = frozenset({events.CALENDAR_EVENTS_UPDATE, events.CALENDAR_STATE_CHANGE})
    carries = CALENDAR_TRIGGERS | {events.WEBHOOK_TEST}
    USER_AGENT = "Attendee-Webhook/1.0"

    def render(self, *, message_id, payload, endpoint, at):
        trigger, data = payload["event"], payload["data"]
        if trigger in self.CALENDAR_TRIGGERS:
            envelope = {
                "idempotency_key": message_id,
                "calendar_id": data.get("calendar_id"),
                "calendar_deduplication_key": data.get("calendar_deduplication_key"),
                "calendar_metadata": data.get("calendar_metadata"),
                "trigger": trigger,
                "data": {
                    # As the server API shows it: `connecting` stays (nothing checked yet).
                    "state": data.get("state"),
                    "connection_failure_data": data.get("connection_failure_data"),
                    "last_successful_sync_at": data.get("last_successful_sync_at"),
                    "last_attempted_sync_at": data.get("last_attempted_sync_at"),
                },
            }
        else:
            envelope = {"idempotency_key": message_id, "trigger": trigger, "data": data}
        # Through our encoder first: the outbox row may hold values JSON has no type for.
        body = canonical_json(json.loads(encode_body(envelope)))
        headers = {
            "Content-Type": JSON,
            "User-Agent": self.USER_AGENT,
            # Attendee signs with its newest secret only; a rotation's overlap does not apply.
            "X-Webhook-Signature": attendee_signature(body=body, secret=endpoint.secret),
        }
        return Outgoing(body, headers)

    def receiver_secret(self, secret: str) -> str:
        return secret.removeprefix("whsec_")


FORMATS: dict[str, Format] = {f.name: f for f in (Standard(), MeetingBaasV1(), Attendee())}
CHOICES = [(f.name, f.label) for f in FORMATS.values()]


def get(name: str) -> Format:
    return FORMATS[name]


def render(*, message_id: str, payload: dict, endpoint: WebhookEndpoint, at: datetime) -> Outgoing:
    """The body and headers of an attempt in the endpoint's format, with its static headers.

    An event type the format does not carry (only a delivery queued before the format changed
    and retried by hand) goes out in the format's generic shape."""
    outgoing = get(endpoint.format).render(
        message_id=message_id, payload=payload, endpoint=endpoint, at=at
    )
    return Outgoing(outgoing.body, {**endpoint.get_static_headers(), **outgoing.headers})


def check_event_types(format_name: str, event_types: list[str]) -> None:
    """An endpoint asks only for event types its format carries; a family ("bot.*") needs at
    least one member it carries."""
    carrier = get(format_name)
    if carrier.carries is None:
        return
    refused = []
    for name in event_types:
        if name.endswith(".*"):
            family = name.removesuffix("*")
            if not any(t.startswith(family) for t in carrier.carries):
                refused.append(name)
        elif not carrier.can_carry(name):
            refused.append(name)
    if refused:
        carried = ", ".join(sorted(carrier.carries))
        raise ValidationError(
            {
                "event_types": f"The {format_name} format does not carry "
                f"{', '.join(refused)[:200]}; it carries {carried}."
            }
        )


# --- Static headers ------------------------------------------------------------------------------

MAX_STATIC_HEADERS = 10
MAX_HEADER_NAME = 100
MAX_HEADER_VALUE = 1000
MAX_STATIC_HEADERS_BYTES = 4096
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Visible ASCII, with spaces and tabs inside: no CR/LF (header injection), no control bytes.
_VALUE = re.compile(r"[\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?")
# Set by the transport or by a format: a static header must not replace them.
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "host",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "user-agent",
        "x-webhook-signature",
    }
)
RESERVED_PREFIXES = ("webhook-", "svix-", "proxy-")


def clean_static_headers(headers: object) -> dict[str, str]:
    """Check the static headers an endpoint sends. Errors name the header, never its value
    (a value is usually a secret)."""

    def refuse(message: str):
        return ValidationError({"static_headers": message})

    if not isinstance(headers, dict):
        raise refuse("An object of header names and values.")
    if len(headers) > MAX_STATIC_HEADERS:
        raise refuse(f"At most {MAX_STATIC_HEADERS} headers.")
    seen: set[str] = set()
    size = 0
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise refuse("A header name is letters, digits and !#$%&'*+-.^_`|~ only.")
        label = name[:MAX_HEADER_NAME]
        lowered = name.lower()
        if len(name) > MAX_HEADER_NAME:
            raise refuse(f"The header name {label}… is longer than {MAX_HEADER_NAME} characters.")
        if lowered in RESERVED_HEADERS or lowered.startswith(RESERVED_PREFIXES):
            raise refuse(f"{name} is set by the service and cannot be replaced.")
        if lowered in seen:
            raise refuse(f"{name} is given twice.")
        seen.add(lowered)
        if not isinstance(value, str) or not _VALUE.fullmatch(value):
            raise refuse(
                f"The value of {name} must be printable ASCII, without line breaks or leading "
                "or trailing spaces."
            )
        if len(value) > MAX_HEADER_VALUE:
            raise refuse(f"The value of {name} is longer than {MAX_HEADER_VALUE} characters.")
        size += len(name) + len(value)
    if size > MAX_STATIC_HEADERS_BYTES:
        raise refuse(f"The headers take more than {MAX_STATIC_HEADERS_BYTES} bytes.")
    return dict(headers)

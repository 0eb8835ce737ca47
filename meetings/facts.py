"""Meeting facts: the provider-neutral rules every provider's event parser follows, and the
helpers they share. The parsers themselves live with their provider
(calendars/providers/<name>/facts.py, reached through `Provider.meeting_fields`).

Pure functions with no database access. A parser returns exactly the Meeting fields the provider
decides (not the project/calendar links, the deletion flag or the recording decision) and never
raises on odd payloads: missing keys fall back to empty values.

Decisions (all providers):
- Times are timezone-aware UTC. A time without an offset is read in its event's zone, which may
  be IANA or Windows ("Pacific Standard Time", see timezones.py); unknown zones count as UTC.
  All-day dates have no zone: they are anchored at midnight in `calendar_time_zone` when the
  caller passes the calendar's zone, else in UTC. An event without times (a cancelled stub, a
  removed entry) gets None for both unless the provider names the original start; callers keep
  the stored times then. An end before the start is clamped to the start (`ordered_times`).
- Rooms and other resources are not attendees: they are left out of `attendees` and never make
  a meeting external.
- `is_external`: some attendee's e-mail domain differs from the host's. The host is the
  organiser; when the organiser is a calendar rather than a person (group/resource calendars,
  CALENDAR_SYSTEM_DOMAINS) or unknown, the connected account stands in. Domains that are equal,
  or where one is a subdomain of the other (eu.acme.com and acme.com), are the same
  organisation; sibling subdomains (eu.acme.com and us.acme.com) are not, since telling them
  apart from separate companies would need the public-suffix list.
- `is_hosted_by_me`: the provider says the connected calendar organises it or the organiser's
  address is the account's.
- Every attendee list names the organiser the same way (first, accepted, is_organizer) when the
  event has other attendees.
"""

from datetime import UTC, datetime, tzinfo
from typing import Any

from .links import Detection

# Organiser addresses that are calendars, not people.
CALENDAR_SYSTEM_DOMAINS = ("calendar.google.com",)


def join_link_fields(detection: Detection | None) -> dict:
    """The Meeting's join-link fields from a detection (all None without one)."""
    return {
        "meeting_url": detection.url if detection else None,
        "meeting_platform": detection.platform if detection else None,
        "meeting_invite": detection.invite if detection else None,
    }


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def normalize_email(value: Any) -> str:
    return as_str(value).strip().lower()


def _domain(email: str) -> str:
    return email.rpartition("@")[2] if "@" in email else ""


def _same_organisation(a: str, b: str) -> bool:
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def is_external(organizer_email: str, account_email: str, attendees: list[dict]) -> bool:
    host = _domain(organizer_email)
    if not host or any(_same_organisation(host, d) for d in CALENDAR_SYSTEM_DOMAINS):
        host = _domain(account_email)
    if not host:
        return False
    for attendee in attendees:
        domain = _domain(attendee["email"])
        if domain and not _same_organisation(domain, host):
            return True
    return False


def parse_datetime(value: Any, zone: tzinfo) -> datetime | None:
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Graph sends seven fractional digits; Python takes up to six.
    head, dot, tail = text.partition(".")
    if dot:
        digits = len(tail) - len(tail.lstrip("0123456789"))
        tail = tail[: min(digits, 6)] + tail[digits:]
        text = f"{head}.{tail}" if tail and tail[0].isdigit() else head + tail
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def ordered_times(
    start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    if start is None:
        return (end, end) if end is not None else (None, None)
    if end is None or end < start:
        return start, start
    return start, end

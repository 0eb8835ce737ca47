"""Meeting facts from raw provider events: the values the sync engine stores on a Meeting.

Pure functions with no database access. They return exactly the Meeting fields the provider
decides (not the project/calendar links, the deletion flag or the recording decision) and never
raise on odd payloads: missing keys fall back to empty values.

Decisions:
- Times are timezone-aware UTC. Google `dateTime` carries an offset (or a `timeZone` when it does
  not); Graph `dateTime` has none and is read in its `timeZone`, which may be IANA or Windows
  ("Pacific Standard Time", see timezones.py); unknown zones count as UTC. All-day dates have no
  zone: they are anchored at midnight in `calendar_time_zone` when the caller passes the
  calendar's zone, else in UTC. An event without times (a cancelled stub, a Graph `@removed`
  entry) gets None for both unless Google's `originalStartTime` gives the start; callers keep the
  stored times then. An end before the start is clamped to the start.
- Rooms and other resources (Google `resource: true` or an address on
  resource.calendar.google.com, Graph attendee type `resource`) are not attendees: they are left
  out of `attendees` and never make a meeting external.
- `is_external`: some attendee's e-mail domain differs from the host's. The host is the
  organiser; when the organiser is a calendar rather than a person (Google group/resource
  calendars) or unknown, the connected account stands in. Domains that are equal, or where one
  is a subdomain of the other (eu.acme.com and acme.com), are the same organisation; sibling
  subdomains (eu.acme.com and us.acme.com) are not, since telling them apart from separate
  companies would need the public-suffix list.
- `is_hosted_by_me`: the provider says the connected calendar organises it (Google
  `organizer.self`, Graph `isOrganizer`) or the organiser's address is the account's.
- Graph attendee lists leave the organiser out; it is added first (accepted, is_organizer) when
  the event has other attendees, so both providers list the organiser the same way.
- Graph has no event-level tentative status: `isCancelled` or `@removed` gives cancelled,
  anything else confirmed.
"""

from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from .links import detect_from_google_event, detect_from_graph_event
from .timezones import resolve_zone

GOOGLE_STATUSES = {"accepted": "accepted", "declined": "declined", "tentative": "tentative"}
GRAPH_STATUSES = {
    "accepted": "accepted",
    "organizer": "accepted",
    "declined": "declined",
    "tentativelyaccepted": "tentative",
}
_CALENDAR_SYSTEM_DOMAINS = ("calendar.google.com",)


def meeting_fields_from_google(
    event: dict, *, account_email: str, calendar_time_zone: str | None = None
) -> dict:
    """Meeting fields from a Google Calendar event resource (events.list item)."""
    event = event if isinstance(event, dict) else {}
    start_field, end_field = _dict(event.get("start")), _dict(event.get("end"))
    is_all_day = "date" in start_field and "dateTime" not in start_field
    default_zone = resolve_zone(calendar_time_zone)
    start = _google_time(start_field, default_zone)
    end = _google_time(end_field, default_zone)
    if start is None:
        start = _google_time(_dict(event.get("originalStartTime")), default_zone)
    start, end = _ordered(start, end)

    status = event.get("status")
    organizer = _dict(event.get("organizer"))
    organizer_email = _email(organizer.get("email"))
    account = _email(account_email)

    attendees = []
    for person in _list(event.get("attendees")):
        email = _email(person.get("email"))
        if person.get("resource") is True or email.endswith("@resource.calendar.google.com"):
            continue
        attendees.append(
            {
                "name": _str(person.get("displayName")) or None,
                "email": email,
                "is_organizer": person.get("organizer") is True
                or (bool(email) and email == organizer_email),
                "status": GOOGLE_STATUSES.get(_str(person.get("responseStatus")), "not_available"),
            }
        )

    detection = detect_from_google_event(event)
    recurring_id = _str(event.get("recurringEventId"))
    recurrence = event.get("recurrence")
    is_master = isinstance(recurrence, list) and bool(recurrence)
    return {
        "platform_event_id": _str(event.get("id")),
        "ical_uid": _str(event.get("iCalUID")),
        "series_id": recurring_id or (_str(event.get("id")) if is_master else ""),
        "title": _str(event.get("summary")),
        "description": _str(event.get("description")),
        "location": _str(event.get("location")),
        "start_time": start,
        "end_time": end,
        "is_all_day": is_all_day,
        "status": status if status in ("confirmed", "tentative", "cancelled") else "confirmed",
        "organizer_email": organizer_email,
        "attendees": attendees,
        "is_external": _is_external(organizer_email, account, attendees),
        "is_hosted_by_me": organizer.get("self") is True
        or (bool(account) and organizer_email == account),
        "is_recurring": bool(recurring_id) or is_master,
        "visibility": _str(event.get("visibility")) or None,
        "meeting_url": detection.url if detection else None,
        "meeting_platform": detection.platform if detection else None,
        "meeting_invite": detection.invite if detection else None,
        "raw": event,
        "provider_updated_at": _parse_datetime(event.get("updated"), UTC),
    }


def meeting_fields_from_graph(event: dict, *, account_email: str) -> dict:
    """Meeting fields from a Microsoft Graph event resource (calendarView/delta item)."""
    event = event if isinstance(event, dict) else {}
    start = _graph_time(_dict(event.get("start")))
    end = _graph_time(_dict(event.get("end")))
    start, end = _ordered(start, end)

    organizer_address = _dict(_dict(event.get("organizer")).get("emailAddress"))
    organizer_email = _email(organizer_address.get("address"))
    account = _email(account_email)

    attendees = []
    for person in _list(event.get("attendees")):
        if _str(person.get("type")).lower() == "resource":
            continue
        address = _dict(person.get("emailAddress"))
        email = _email(address.get("address"))
        response = _str(_dict(person.get("status")).get("response")).lower()
        attendees.append(
            {
                "name": _str(address.get("name")) or None,
                "email": email,
                "is_organizer": bool(email) and email == organizer_email,
                "status": GRAPH_STATUSES.get(response, "not_available"),
            }
        )
    if attendees and organizer_email and not any(a["is_organizer"] for a in attendees):
        attendees.insert(
            0,
            {
                "name": _str(organizer_address.get("name")) or None,
                "email": organizer_email,
                "is_organizer": True,
                "status": "accepted",
            },
        )

    removed = "@removed" in event
    location = _str(_dict(event.get("location")).get("displayName"))
    if not location:
        names = [_str(_dict(place).get("displayName")) for place in _list(event.get("locations"))]
        location = "; ".join(name for name in names if name)
    event_type = _str(event.get("type"))
    series_id = _str(event.get("seriesMasterId")) or (
        _str(event.get("id")) if event_type == "seriesMaster" else ""
    )
    body = _dict(event.get("body")).get("content")
    detection = None if removed else detect_from_graph_event(event)
    return {
        "platform_event_id": _str(event.get("id")),
        "ical_uid": _str(event.get("iCalUId")),
        "series_id": series_id,
        "title": _str(event.get("subject")),
        "description": _str(body) if body else _str(event.get("bodyPreview")),
        "location": location,
        "start_time": start,
        "end_time": end,
        "is_all_day": event.get("isAllDay") is True,
        "status": "cancelled" if removed or event.get("isCancelled") is True else "confirmed",
        "organizer_email": organizer_email,
        "attendees": attendees,
        "is_external": _is_external(organizer_email, account, attendees),
        "is_hosted_by_me": event.get("isOrganizer") is True
        or (bool(account) and organizer_email == account),
        "is_recurring": event_type in ("occurrence", "exception", "seriesMaster")
        or bool(series_id)
        or bool(event.get("recurrence")),
        "visibility": _str(event.get("sensitivity")) or None,
        "meeting_url": detection.url if detection else None,
        "meeting_platform": detection.platform if detection else None,
        "meeting_invite": detection.invite if detection else None,
        "raw": event,
        "provider_updated_at": _parse_datetime(event.get("lastModifiedDateTime"), UTC),
    }


# --- helpers ------------------------------------------------------------------------------------


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _email(value: Any) -> str:
    return _str(value).strip().lower()


def _domain(email: str) -> str:
    return email.rpartition("@")[2] if "@" in email else ""


def _same_organisation(a: str, b: str) -> bool:
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def _is_external(organizer_email: str, account_email: str, attendees: list[dict]) -> bool:
    host = _domain(organizer_email)
    if not host or any(_same_organisation(host, d) for d in _CALENDAR_SYSTEM_DOMAINS):
        host = _domain(account_email)
    if not host:
        return False
    for attendee in attendees:
        domain = _domain(attendee["email"])
        if domain and not _same_organisation(domain, host):
            return True
    return False


def _parse_datetime(value: Any, zone: tzinfo) -> datetime | None:
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


def _google_time(field: dict, default_zone: tzinfo) -> datetime | None:
    zone = resolve_zone(field["timeZone"]) if _str(field.get("timeZone")) else default_zone
    if _str(field.get("dateTime")):
        return _parse_datetime(field["dateTime"], zone)
    if _str(field.get("date")):
        try:
            day = date.fromisoformat(field["date"].strip()[:10])
        except ValueError:
            return None
        return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    return None


def _graph_time(field: dict) -> datetime | None:
    return _parse_datetime(field.get("dateTime"), resolve_zone(_str(field.get("timeZone"))))


def _ordered(
    start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    if start is None:
        return (end, end) if end is not None else (None, None)
    if end is None or end < start:
        return start, start
    return start, end

"""Meeting fields from a Microsoft Graph event resource (calendarView/delta item); the shared
rules are in meetings/facts.py.

- `dateTime` has no offset and is read in its `timeZone` (IANA or Windows).
- Rooms: attendee type `resource`.
- Graph attendee lists leave the organiser out; it is added first (accepted, is_organizer) when
  the event has other attendees, so both providers list the organiser the same way.
- Graph has no event-level tentative status: `isCancelled` or `@removed` gives cancelled,
  anything else confirmed.
- `is_hosted_by_me`: `isOrganizer`.
"""

from datetime import UTC, datetime

from meetings.facts import (
    as_dict,
    as_list,
    as_str,
    is_external,
    join_link_fields,
    normalize_email,
    ordered_times,
    parse_datetime,
)
from meetings.timezones import resolve_zone

from .links import detect_from_graph_event

STATUSES = {
    "accepted": "accepted",
    "organizer": "accepted",
    "declined": "declined",
    "tentativelyaccepted": "tentative",
}


def meeting_fields_from_graph(event: dict, *, account_email: str) -> dict:
    """Meeting fields from a Microsoft Graph event resource (calendarView/delta item)."""
    event = event if isinstance(event, dict) else {}
    start = _graph_time(as_dict(event.get("start")))
    end = _graph_time(as_dict(event.get("end")))
    start, end = ordered_times(start, end)

    organizer_address = as_dict(as_dict(event.get("organizer")).get("emailAddress"))
    organizer_email = normalize_email(organizer_address.get("address"))
    account = normalize_email(account_email)

    attendees = []
    for person in as_list(event.get("attendees")):
        if as_str(person.get("type")).lower() == "resource":
            continue
        address = as_dict(person.get("emailAddress"))
        email = normalize_email(address.get("address"))
        response = as_str(as_dict(person.get("status")).get("response")).lower()
        attendees.append(
            {
                "name": as_str(address.get("name")) or None,
                "email": email,
                "is_organizer": bool(email) and email == organizer_email,
                "status": STATUSES.get(response, "not_available"),
            }
        )
    if attendees and organizer_email and not any(a["is_organizer"] for a in attendees):
        attendees.insert(
            0,
            {
                "name": as_str(organizer_address.get("name")) or None,
                "email": organizer_email,
                "is_organizer": True,
                "status": "accepted",
            },
        )

    removed = "@removed" in event
    location = as_str(as_dict(event.get("location")).get("displayName"))
    if not location:
        names = [
            as_str(as_dict(place).get("displayName")) for place in as_list(event.get("locations"))
        ]
        location = "; ".join(name for name in names if name)
    event_type = as_str(event.get("type"))
    series_id = as_str(event.get("seriesMasterId")) or (
        as_str(event.get("id")) if event_type == "seriesMaster" else ""
    )
    body = as_dict(event.get("body")).get("content")
    detection = None if removed else detect_from_graph_event(event)
    return {
        "platform_event_id": as_str(event.get("id")),
        "ical_uid": as_str(event.get("iCalUId")),
        "series_id": series_id,
        "title": as_str(event.get("subject")),
        "description": as_str(body) if body else as_str(event.get("bodyPreview")),
        "location": location,
        "start_time": start,
        "end_time": end,
        "is_all_day": event.get("isAllDay") is True,
        "status": "cancelled" if removed or event.get("isCancelled") is True else "confirmed",
        "organizer_email": organizer_email,
        "attendees": attendees,
        "is_external": is_external(organizer_email, account, attendees),
        "is_hosted_by_me": event.get("isOrganizer") is True
        or (bool(account) and organizer_email == account),
        "is_recurring": event_type in ("occurrence", "exception", "seriesMaster")
        or bool(series_id)
        or bool(event.get("recurrence")),
        "visibility": as_str(event.get("sensitivity")) or None,
        **join_link_fields(detection),
        "raw": event,
        "provider_updated_at": parse_datetime(event.get("lastModifiedDateTime"), UTC),
    }


def _graph_time(field: dict) -> datetime | None:
    return parse_datetime(field.get("dateTime"), resolve_zone(as_str(field.get("timeZone"))))

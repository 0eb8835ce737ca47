"""Meeting fields from a Google Calendar event resource (events.list item); the shared rules are
in meetings/facts.py.

- `dateTime` carries an offset, or a `timeZone` when it does not; all-day `date`s are anchored in
  the calendar's zone. A cancelled stub without times takes its start from `originalStartTime`.
- Rooms: `resource: true` or an address on resource.calendar.google.com.
- `is_hosted_by_me`: `organizer.self`.
"""

from datetime import UTC, date, datetime, time, tzinfo

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

from .links import detect_from_google_event

STATUSES = {"accepted": "accepted", "declined": "declined", "tentative": "tentative"}


def meeting_fields_from_google(
    event: dict, *, account_email: str, calendar_time_zone: str | None = None
) -> dict:
    """Meeting fields from a Google Calendar event resource (events.list item)."""
    event = event if isinstance(event, dict) else {}
    start_field, end_field = as_dict(event.get("start")), as_dict(event.get("end"))
    is_all_day = "date" in start_field and "dateTime" not in start_field
    default_zone = resolve_zone(calendar_time_zone)
    start = _google_time(start_field, default_zone)
    end = _google_time(end_field, default_zone)
    if start is None:
        start = _google_time(as_dict(event.get("originalStartTime")), default_zone)
    start, end = ordered_times(start, end)

    status = event.get("status")
    organizer = as_dict(event.get("organizer"))
    organizer_email = normalize_email(organizer.get("email"))
    account = normalize_email(account_email)

    attendees = []
    for person in as_list(event.get("attendees")):
        email = normalize_email(person.get("email"))
        if person.get("resource") is True or email.endswith("@resource.calendar.google.com"):
            continue
        attendees.append(
            {
                "name": as_str(person.get("displayName")) or None,
                "email": email,
                "is_organizer": person.get("organizer") is True
                or (bool(email) and email == organizer_email),
                "status": STATUSES.get(as_str(person.get("responseStatus")), "not_available"),
            }
        )

    detection = detect_from_google_event(event)
    recurring_id = as_str(event.get("recurringEventId"))
    recurrence = event.get("recurrence")
    is_master = isinstance(recurrence, list) and bool(recurrence)
    return {
        "platform_event_id": as_str(event.get("id")),
        "ical_uid": as_str(event.get("iCalUID")),
        "series_id": recurring_id or (as_str(event.get("id")) if is_master else ""),
        "title": as_str(event.get("summary")),
        "description": as_str(event.get("description")),
        "location": as_str(event.get("location")),
        "start_time": start,
        "end_time": end,
        "is_all_day": is_all_day,
        "status": status if status in ("confirmed", "tentative", "cancelled") else "confirmed",
        "organizer_email": organizer_email,
        "attendees": attendees,
        "is_external": is_external(organizer_email, account, attendees),
        "is_hosted_by_me": organizer.get("self") is True
        or (bool(account) and organizer_email == account),
        "is_recurring": bool(recurring_id) or is_master,
        "visibility": as_str(event.get("visibility")) or None,
        **join_link_fields(detection),
        "raw": event,
        "provider_updated_at": parse_datetime(event.get("updated"), UTC),
    }


def _google_time(field: dict, default_zone: tzinfo) -> datetime | None:
    zone = resolve_zone(field["timeZone"]) if as_str(field.get("timeZone")) else default_zone
    if as_str(field.get("dateTime")):
        return parse_datetime(field["dateTime"], zone)
    if as_str(field.get("date")):
        try:
            day = date.fromisoformat(field["date"].strip()[:10])
        except ValueError:
            return None
        return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    return None

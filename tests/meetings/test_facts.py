import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from calendars.providers.google.facts import meeting_fields_from_google
from calendars.providers.microsoft.facts import meeting_fields_from_graph
from meetings.models import Meeting
from meetings.timezones import resolve_zone

from .link_corpus import TEAMS_URL, ZOOM_INVITE_TEXT

FIXTURES = Path(__file__).parent / "fixtures"
# Meeting fields the provider decides; the rest belong to the sync engine or the scheduler.
NOT_FROM_PROVIDER = {
    "id",
    "created_at",
    "updated_at",
    "project",
    "calendar",
    "is_deleted",
    "fingerprint",
    "override_should_record",
    "will_record",
    "will_record_reason",
    "needs_reconcile",
}


def load(name: str) -> list[dict]:
    body = json.loads((FIXTURES / name).read_text())
    return body.get("items") or body.get("value")


def google(index: int, name: str = "google_events_full_page1.json") -> dict:
    return load(name)[index]


def graph(index: int, name: str = "graph_delta_last_page.json") -> dict:
    return load(name)[index]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_keys_are_exactly_the_provider_side_meeting_fields():
    model_fields = {f.name for f in Meeting._meta.concrete_fields} - NOT_FROM_PROVIDER
    assert set(meeting_fields_from_google({}, account_email="a@b.c")) == model_fields
    assert set(meeting_fields_from_graph({}, account_email="a@b.c")) == model_fields


# --- Google ------------------------------------------------------------------------------------


def test_google_zoom_event_from_an_external_organizer():
    event = google(0)
    fields = meeting_fields_from_google(event, account_email="dana.lee@example.com")
    assert fields["platform_event_id"] == "1t0v8b3k5m7q9s2u4c6e8g0i1l"
    assert fields["ical_uid"] == "zoom-81234567890-20240603@vendor.example"
    assert fields["title"] == "Vendor sync (Zoom)"
    assert fields["start_time"] == at("2024-06-03T14:00:00+00:00")
    assert fields["end_time"] == at("2024-06-03T14:30:00+00:00")
    assert fields["start_time"].tzinfo is UTC
    assert (fields["is_all_day"], fields["status"], fields["is_recurring"]) == (
        False,
        "confirmed",
        False,
    )
    assert fields["organizer_email"] == "sam.ortiz@vendor.example"
    assert fields["attendees"] == [
        {
            "name": "Sam Ortiz",
            "email": "sam.ortiz@vendor.example",
            "is_organizer": True,
            "status": "accepted",
        },
        {
            "name": None,
            "email": "dana.lee@example.com",
            "is_organizer": False,
            "status": "not_available",
        },
        {
            "name": None,
            "email": "lee.park@example.com",
            "is_organizer": False,
            "status": "tentative",
        },
    ]
    assert fields["is_external"] is True
    assert fields["is_hosted_by_me"] is False
    assert fields["meeting_platform"] == "zoom"
    assert fields["meeting_url"].startswith("https://us02web.zoom.us/j/81234567890?pwd=")
    assert fields["meeting_invite"]["meeting_id"] == "81234567890"
    assert fields["visibility"] is None
    assert fields["raw"] is event
    assert fields["provider_updated_at"] == at("2024-05-21T09:17:36.847+00:00")


def test_google_meet_event_hosted_by_me_with_a_room():
    fields = meeting_fields_from_google(google(1), account_email="Dana.Lee@example.com")
    assert fields["is_hosted_by_me"] is True
    assert fields["is_external"] is False  # the room's resource.calendar.google.com address
    assert [a["email"] for a in fields["attendees"]] == [
        "dana.lee@example.com",
        "lee.park@example.com",
    ]
    assert (fields["meeting_platform"], fields["meeting_url"]) == (
        "google_meet",
        "https://meet.google.com/qxv-hmbt-rzk",
    )
    assert fields["meeting_invite"] == {"meeting_id": "qxv-hmbt-rzk"}


def test_google_recurring_instance():
    fields = meeting_fields_from_google(google(2), account_email="dana.lee@example.com")
    assert fields["series_id"] == "4kq9f2c7d1h8m3r6t0v5b2n9ue"
    assert fields["is_recurring"] is True
    assert fields["start_time"] == at("2024-06-04T14:00:00+00:00")


def test_google_all_day_event_in_utc_or_the_calendar_zone():
    event = google(3)
    fields = meeting_fields_from_google(event, account_email="dana.lee@example.com")
    assert fields["is_all_day"] is True
    assert (fields["start_time"], fields["end_time"]) == (
        datetime(2024, 6, 7, tzinfo=UTC),
        datetime(2024, 6, 8, tzinfo=UTC),
    )
    assert fields["visibility"] == "private"
    assert fields["meeting_url"] is None and fields["meeting_invite"] is None
    local = meeting_fields_from_google(
        event, account_email="dana.lee@example.com", calendar_time_zone="America/New_York"
    )
    assert local["start_time"] == datetime(2024, 6, 7, 4, tzinfo=UTC)


def test_google_cancelled_instance_stub_keeps_its_original_start():
    stub = google(0, "google_events_incremental.json")
    fields = meeting_fields_from_google(stub, account_email="dana.lee@example.com")
    assert fields["status"] == "cancelled"
    assert fields["series_id"] == "4kq9f2c7d1h8m3r6t0v5b2n9ue"
    assert fields["start_time"] == fields["end_time"] == at("2024-06-11T14:00:00+00:00")
    assert (fields["title"], fields["attendees"], fields["meeting_url"]) == ("", [], None)


def test_google_deleted_event_stub_has_no_times():
    stub = google(1, "google_events_incremental.json")
    fields = meeting_fields_from_google(stub, account_email="dana.lee@example.com")
    assert fields["status"] == "cancelled"
    assert fields["start_time"] is None and fields["end_time"] is None
    assert fields["platform_event_id"] == "0a2c4e6g8i0k2m4o6q8s0u1v3b"


def test_google_times_with_offsets_and_zones():
    event = {
        "id": "x",
        "start": {"dateTime": "2024-03-10T01:30:00", "timeZone": "America/Los_Angeles"},
        "end": {"dateTime": "2024-03-10T05:30:00+02:00"},
        "summary": ZOOM_INVITE_TEXT,
    }
    fields = meeting_fields_from_google(event, account_email="x@example.com")
    assert fields["start_time"] == datetime(2024, 3, 10, 9, 30, tzinfo=UTC)
    # The end (03:30 UTC) is before the start: clamped rather than rejected.
    assert fields["end_time"] == fields["start_time"]
    assert fields["meeting_platform"] == "zoom"


def test_google_master_event_is_its_own_series():
    event = {"id": "master1", "recurrence": ["RRULE:FREQ=WEEKLY"], "start": {"date": "2024-06-03"}}
    fields = meeting_fields_from_google(event, account_email="x@example.com")
    assert (fields["series_id"], fields["is_recurring"]) == ("master1", True)


# --- Graph -------------------------------------------------------------------------------------


def test_graph_teams_meeting():
    event = graph(0)
    fields = meeting_fields_from_graph(event, account_email="dana@contoso.com")
    assert fields["platform_event_id"] == "AAMkAGI2TG93AAA="
    assert fields["ical_uid"].startswith("040000008200E00074C5B7101A82E008")
    assert fields["title"] == "Quarterly planning"
    assert fields["location"] == "Microsoft Teams Meeting"
    assert fields["description"].startswith("<html>")
    assert (fields["start_time"], fields["end_time"]) == (
        datetime(2024, 6, 3, 18, tzinfo=UTC),
        datetime(2024, 6, 3, 19, tzinfo=UTC),
    )
    assert fields["organizer_email"] == "priya@contoso.com"
    assert fields["attendees"] == [
        {
            "name": "Priya Natarajan",
            "email": "priya@contoso.com",
            "is_organizer": True,
            "status": "accepted",
        },
        {
            "name": "Dana Lee",
            "email": "dana@contoso.com",
            "is_organizer": False,
            "status": "not_available",
        },
        {
            "name": "Lee Park",
            "email": "lee@contoso.com",
            "is_organizer": False,
            "status": "not_available",
        },
    ]
    assert (fields["is_external"], fields["is_hosted_by_me"], fields["is_recurring"]) == (
        False,
        False,
        False,
    )
    assert (fields["meeting_platform"], fields["meeting_url"]) == ("microsoft_teams", TEAMS_URL)
    assert fields["meeting_invite"]["tenant_id"] == "72f988bf-86f1-41af-91ab-2d7cd011db47"
    assert fields["visibility"] == "normal"
    assert fields["provider_updated_at"] == datetime(2024, 5, 28, 16, 4, 59, 18721, tzinfo=UTC)


def test_graph_removed_entry():
    fields = meeting_fields_from_graph(graph(1), account_email="dana@contoso.com")
    assert fields["platform_event_id"] == "AAMkAGI2TG96AAA="
    assert fields["status"] == "cancelled"
    assert fields["start_time"] is None and fields["meeting_url"] is None


def test_graph_occurrence_and_all_day_event():
    occurrence = meeting_fields_from_graph(
        graph(0, "graph_delta_page1.json"), account_email="dana@contoso.com"
    )
    assert (occurrence["series_id"], occurrence["is_recurring"]) == ("AAMkAGI2TG94AAA=", True)
    assert occurrence["is_hosted_by_me"] is True
    assert occurrence["start_time"] == datetime(2024, 6, 4, 14, tzinfo=UTC)
    all_day = meeting_fields_from_graph(
        graph(1, "graph_delta_page1.json"), account_email="dana@contoso.com"
    )
    assert all_day["is_all_day"] is True
    assert (all_day["start_time"], all_day["end_time"]) == (
        datetime(2024, 6, 7, tzinfo=UTC),
        datetime(2024, 6, 8, tzinfo=UTC),
    )
    assert all_day["visibility"] == "private"


def test_graph_cancelled_series_master_and_windows_zone():
    event = {
        "id": "M1",
        "type": "seriesMaster",
        "isCancelled": True,
        "start": {"dateTime": "2024-07-01T09:00:00.0000000", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2024-07-01T09:30:00.0000000", "timeZone": "Pacific Standard Time"},
        "organizer": {"emailAddress": {"address": "Me@Contoso.com"}},
    }
    fields = meeting_fields_from_graph(event, account_email="me@contoso.com")
    assert fields["status"] == "cancelled"
    assert (fields["series_id"], fields["is_recurring"]) == ("M1", True)
    assert fields["start_time"] == datetime(2024, 7, 1, 16, tzinfo=UTC)  # PDT is UTC-7
    assert fields["is_hosted_by_me"] is True
    assert fields["attendees"] == []


@pytest.mark.parametrize(
    "zone,expected_offset_hours",
    [
        ("UTC", 0),
        ("tzone://Microsoft/Utc", 0),
        ("Eastern Standard Time", -4),
        ("W. Europe Standard Time", 2),
        ("India Standard Time", 5.5),
        ("Europe/Paris", 2),
        ("(UTC-08:00) Pacific Time (US & Canada)", -7),
        ("UTC+05:30", 5.5),
        ("Customized Time Zone", 0),
        ("", 0),
        ("../../etc/passwd", 0),
    ],
)
def test_zone_names(zone, expected_offset_hours):
    summer = datetime(2024, 7, 1, 12)
    offset = summer.replace(tzinfo=resolve_zone(zone)).utcoffset()
    if zone.startswith("(UTC-08:00)"):
        # A label gives a fixed offset unless its Windows name is known; both are acceptable.
        assert offset.total_seconds() / 3600 in (-7, -8)
    else:
        assert offset.total_seconds() / 3600 == expected_offset_hours


# --- is_external policy ------------------------------------------------------------------------


def attendees(*emails: str, resource: str | None = None) -> list[dict]:
    people = [{"email": e, "responseStatus": "accepted"} for e in emails]
    if resource:
        people.append({"email": resource, "resource": True, "responseStatus": "accepted"})
    return people


@pytest.mark.parametrize(
    "organizer,people,external",
    [
        ("a@acme.com", attendees("b@acme.com", "c@ACME.com"), False),
        ("a@acme.com", attendees("b@acme.com", "c@partner.io"), True),
        ("a@acme.com", attendees("b@eu.acme.com"), False),  # subdomain of the host's domain
        ("a@eu.acme.com", attendees("b@acme.com"), False),
        ("a@eu.acme.com", attendees("b@us.acme.com"), True),  # siblings count as external
        ("a@acme.com", attendees("b@notacme.com"), True),
        ("a@acme.com", attendees("b@acme.com", resource="room@partner.io"), False),
        ("a@acme.com", attendees("c_123@resource.calendar.google.com"), False),
        # A group calendar organises: the connected account's domain stands in for the host.
        ("team@group.calendar.google.com", attendees("me@acme.com", "b@acme.com"), False),
        ("team@group.calendar.google.com", attendees("me@acme.com", "b@other.org"), True),
        ("", attendees("me@acme.com", "b@other.org"), True),
        ("a@acme.com", [], False),
    ],
)
def test_google_is_external(organizer, people, external):
    event = {"id": "x", "organizer": {"email": organizer}, "attendees": people}
    assert meeting_fields_from_google(event, account_email="me@acme.com")["is_external"] is external


def test_graph_resources_are_not_attendees_and_not_external():
    event = {
        "id": "x",
        "organizer": {"emailAddress": {"address": "me@acme.com", "name": "Me"}},
        "attendees": [
            {
                "type": "required",
                "emailAddress": {"address": "b@acme.com"},
                "status": {"response": "tentativelyAccepted"},
            },
            {
                "type": "resource",
                "emailAddress": {"address": "room@rooms.vendor.net"},
                "status": {"response": "accepted"},
            },
        ],
    }
    fields = meeting_fields_from_graph(event, account_email="me@acme.com")
    assert fields["is_external"] is False
    assert fields["attendees"] == [
        {"name": "Me", "email": "me@acme.com", "is_organizer": True, "status": "accepted"},
        {"name": None, "email": "b@acme.com", "is_organizer": False, "status": "tentative"},
    ]


# --- never raise -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        "event",
        {},
        {"id": 5, "start": "x", "end": None, "attendees": "x", "organizer": []},
        {"start": {"dateTime": "not a date"}, "end": {"date": "2024-13-45"}},
        {
            "start": {"dateTime": "2024-06-03T10:00:00", "timeZone": 7},
            "attendees": [None, 1, {"email": None}],
        },
        {"@removed": {"reason": "deleted"}, "id": "x"},
        {"start": {"dateTime": "2024-06-03T10:00:00.123456789123Z"}, "updated": "9" * 500},
        {
            "body": {"content": "x" * 100_000},
            "locations": [{"displayName": None}, "x"],
            "type": None,
        },
    ],
)
def test_odd_payloads_never_raise(event):
    for fields in (
        meeting_fields_from_google(event, account_email="me@acme.com"),
        meeting_fields_from_graph(event, account_email=None),
    ):
        assert fields["status"] in ("confirmed", "tentative", "cancelled")
        assert isinstance(fields["attendees"], list)
        assert fields["start_time"] is None or fields["start_time"].tzinfo is UTC

"""The event list is built from rows (calendars/server_api/event_rows.py): its JSON must be the
bytes EventSerializer gives for the same events, whatever they hold."""

from datetime import UTC, datetime, timedelta
from unittest.mock import ANY

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from bots import selectors as bot_selectors
from bots.models import Bot
from calendars.server_api.serializers import EventSerializer
from meetings.bot_schedules import attach_schedules
from meetings.models import BotSchedule, Meeting
from tests.factories import BotFactory, CalendarFactory, MeetingFactory

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


@pytest.fixture
def events(acme):
    """Events covering what the format can hold: bots (one serving two calendars' meetings,
    one with a history and a backend state), bot requests (own, series, disabled), attendees
    with missing keys, nulls, payloads with non-ASCII text."""
    calendar = CalendarFactory(project=acme.project, calendar_user=None)
    other = CalendarFactory(project=acme.project)  # with a calendar user
    plain = MeetingFactory(
        calendar=calendar,
        start_time=at(1),
        end_time=at(1.5),
        meeting_url=None,
        meeting_platform=None,
        raw={
            "summary": "Réunion 日本 \u2028 \u2029 \x1f",
            # Floats orjson would spell otherwise (0.00001, 1e16), and an integer at its edge.
            "n": [1, 2.5, None, True, 1e-05, 1e16, -0.0, 2**63 - 1],
            "nested": {"a": {}, "b": "1.5e3: text that looks like a float"},
        },
    )
    shared = MeetingFactory(
        calendar=calendar,
        start_time=at(2) + timedelta(microseconds=123),
        end_time=at(3),
        title="Planning ✓",
        series_id="series-1",
        is_recurring=True,
        organizer_email="Boss@Acme.com",
        attendees=[
            {"name": "Dana", "email": "dana@acme.com", "is_organizer": True, "status": "accepted"},
            {"email": "max@other.com", "is_organizer": "false"},
            {"name": None, "email": None, "is_organizer": 0, "status": None},
        ],
        meeting_invite={"meeting_id": "abc-defg-hij", "pin": None},
        is_external=True,
        will_record=True,
        will_record_reason='rule:1 "external"',
    )
    twin = MeetingFactory(
        calendar=other,
        start_time=shared.start_time + timedelta(minutes=1),
        end_time=shared.end_time,
        is_deleted=True,
        status="cancelled",
    )
    series_member = MeetingFactory(calendar=calendar, start_time=at(5), series_id="series-1")
    opted_out = MeetingFactory(calendar=calendar, start_time=at(6), series_id="series-1")
    own = MeetingFactory(calendar=calendar, start_time=at(7), is_all_day=True)

    bot = BotFactory(
        project=acme.project,
        join_at=at(2),
        meeting_platform="google_meet",
        metadata={"team": "ünïcode", "weight": 1e-07},
        backend="attendee",
        backend_bot_id="bot_123",
        backend_synced_at=at(-1),
        backend_error="",
        dispatched_at=at(-0.5),
    )
    bot.set_status("dispatched", message="handed over")
    bot.set_status("fatal", sub_code="meeting_not_found", message="")
    bot.save()
    bot.meetings.add(shared, twin, series_member)
    BotFactory(project=acme.project, join_at=at(2)).meetings.add(shared)  # same join time
    second = BotFactory(
        project=acme.project,
        join_at=at(1.9),
        backend_error="timed out",
        backend_retry_at=at(0.2),
    )
    second.meetings.add(shared)
    BotSchedule.objects.create(
        project=acme.project,
        calendar=calendar,
        series_id="series-1",
        bot_name="Series bot",
        bot_config={"recording_settings": {"format": "mp4", "ratio": 0.00001}},
    )
    BotSchedule.objects.create(
        project=acme.project, calendar=calendar, meeting=opted_out, enabled=False
    )
    BotSchedule.objects.create(
        project=acme.project,
        calendar=calendar,
        meeting=own,
        bot_name="Own",
        deduplication_key="own-key",
    )
    return [plain, shared, twin, series_member, opted_out, own]


def serializer_json(events) -> bytes:
    """What the list gave before it was built from rows."""
    meetings = list(
        bot_selectors.event_queryset()
        .filter(pk__in=[e.pk for e in events])
        .order_by("start_time", "id")
    )
    return JSONRenderer().render(EventSerializer(attach_schedules(meetings), many=True).data)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_list_is_the_serializers_json(acme, events, zone):
    with timezone.override(zone):
        expected = serializer_json(events)
        response = acme.client.get("/api/v1/calendar_events/?status=all")
    assert response.status_code == 200
    rendered = JSONRenderer().render(response.data["results"])
    assert rendered == expected
    assert expected in response.content  # the page holds exactly these bytes
    results = response.json()["results"]
    assert len(results) == 6
    assert [len(e["bots"]) for e in results] == [0, 3, 1, 1, 0, 0]
    (served,) = [b for b in results[1]["bots"] if len(b["calendar_meetings"]) == 3]
    users = [m["calendar_user"] for m in served["calendar_meetings"]]
    assert users == [None, {"id": ANY, "external_id": ANY}, None]
    assert served in results[2]["bots"] and served in results[3]["bots"]


def test_every_page_of_a_walk_is_the_serializers_json(acme, events):
    url = "/api/v1/calendar_events/?status=all&page_size=4"
    seen = []
    while url:
        page = acme.client.get(url).json()
        seen += page["results"]
        url = page["next"]
    assert JSONRenderer().render(seen) == serializer_json(events)


def test_integer_past_64_bits_is_written_as_before(acme, events):
    """orjson refuses it; the standard renderer writes the page."""
    Meeting.objects.filter(pk=events[0].pk).update(raw={"big": 2**70, "small": 1e-05})
    expected = serializer_json(events)
    response = acme.client.get("/api/v1/calendar_events/?status=all")
    assert expected in response.content
    assert b'"big":1180591620717411303424,"small":1e-05' in response.content


def test_attendee_that_is_not_an_object_does_not_fail_the_list(acme, events):
    Meeting.objects.filter(pk=events[0].pk).update(attendees=["dana@acme.com", 7])
    results = acme.client.get("/api/v1/calendar_events/").json()["results"]
    assert (
        results[0]["attendees"]
        == [{"name": None, "email": None, "is_organizer": False, "status": None}] * 2
    )


def test_bots_and_their_meetings_load_no_payload_or_credentials(acme, events):
    """The bots' calendar meetings come without `raw` and without the calendar's row (whose
    credentials would be decrypted for nothing): only the events' own query reads `raw`."""
    with CaptureQueriesContext(connection) as queries:
        response = acme.client.get("/api/v1/calendar_events/?status=all")
    assert response.status_code == 200
    raw_column = connection.ops.quote_name("raw")
    reading_raw = [q["sql"] for q in queries if raw_column in q["sql"]]
    assert len(reading_raw) == 1 and "FROM " + connection.ops.quote_name(
        Meeting._meta.db_table
    ) in reading_raw[0].replace("\n", " ")
    assert not any("refresh_token" in q["sql"] for q in queries)
    assert Bot.objects.count() == 3

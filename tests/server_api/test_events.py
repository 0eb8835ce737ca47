"""Server API calendar events: fields, every filter, cursor pagination, the change feed."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings.models import Meeting
from tests.factories import BotFactory, CalendarFactory, MeetingFactory

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FIELDS = {
    "id",
    "calendar_id",
    "platform_uuid",
    "name",
    "start_time",
    "end_time",
    "is_all_day",
    "status",
    "meeting_url",
    "meeting_platform",
    "meeting_invite",
    "organizer_email",
    "attendees",
    "is_organizer",
    "is_external",
    "is_recurring",
    "recurring_event_id",
    "ical_uid",
    "is_deleted",
    "will_record",
    "will_record_reason",
    "bot_schedule",
    "bots",
    "raw",
    "created_at",
    "updated_at",
}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def calendar(acme):
    return CalendarFactory(project=acme.project, calendar_user=None, deduplication_key="cal-a")


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def meeting(calendar, hours=1, **fields):
    return MeetingFactory(
        calendar=calendar,
        start_time=at(hours),
        end_time=at(hours) + timedelta(minutes=30),
        **fields,
    )


def ids(tenant, query="") -> list[str]:
    response = tenant.client.get(f"/api/v1/calendar_events/?{query}")
    assert response.status_code == 200, response.json()
    return [e["id"] for e in response.json()["results"]]


def test_event_fields(acme, calendar):
    event = meeting(
        calendar,
        title="Planning",
        series_id="series-1",
        is_recurring=True,
        organizer_email="boss@acme.com",
        attendees=[
            {"name": "Dana", "email": "dana@acme.com", "is_organizer": False, "status": "accepted"}
        ],
        raw={"id": "event1"},
    )
    bot = BotFactory(project=acme.project)
    bot.meetings.add(event)
    body = acme.client.get(f"/api/v1/calendar_events/{event.pk}/").json()
    assert set(body) == FIELDS
    assert body["calendar_id"] == str(calendar.pk)
    assert body["name"] == "Planning"
    assert body["recurring_event_id"] == "series-1"
    assert body["raw"] == {"id": "event1"}
    assert body["bot_schedule"] is None
    assert [b["id"] for b in body["bots"]] == [str(bot.pk)]
    assert body["bots"][0]["calendar_meetings"][0]["id"] == str(event.pk)


def test_default_is_upcoming_by_start_time(acme, calendar):
    past = meeting(calendar, hours=-5)
    later = meeting(calendar, hours=5)
    sooner = meeting(calendar, hours=2)
    assert ids(acme) == [str(sooner.pk), str(later.pk)]
    assert ids(acme, "status=past") == [str(past.pk)]
    assert ids(acme, "status=all") == [str(past.pk), str(sooner.pk), str(later.pk)]
    assert ids(acme, "ordering=-start_time") == [str(later.pk), str(sooner.pk)]


def test_filters(acme, calendar):
    other = CalendarFactory(project=acme.project, calendar_user=None, deduplication_key="cal-b")
    a = meeting(
        calendar,
        hours=1,
        organizer_email="Boss@Acme.com",
        ical_uid="uid-a",
        meeting_platform="zoom",
        attendees=[{"name": "M", "email": "max@other.com", "is_organizer": False, "status": None}],
    )
    b = meeting(other, hours=3, is_deleted=True, ical_uid="uid-b", meeting_platform="webex")
    c = meeting(other, hours=30, meeting_platform="google_meet")
    assert ids(acme, f"calendar_id={calendar.pk}") == [str(a.pk)]
    assert ids(acme, "calendar_deduplication_key=cal-b") == [str(b.pk), str(c.pk)]
    assert ids(acme, "organizer_email=boss@acme.com") == [str(a.pk)]
    assert ids(acme, "attendee_email=MAX@other.com") == [str(a.pk)]
    assert ids(acme, "attendee_email=ax@other.com") == []
    assert ids(acme, "is_deleted=true") == [str(b.pk)]
    assert ids(acme, "is_deleted=false") == [str(a.pk), str(c.pk)]
    assert ids(acme, "ical_uid=uid-b") == [str(b.pk)]
    assert ids(acme, "meeting_platform=google_meet") == [str(c.pk)]
    gte, lte = at(2).isoformat(), at(24).isoformat()
    query = {"start_time_gte": gte, "start_time_lte": lte}
    assert ids(acme, _q(query)) == [str(b.pk)]
    assert ids(acme, _q({"start_date_gte": gte, "start_date_lte": lte})) == [str(b.pk)]
    assert ids(acme, _q({"end_time_lte": at(4).isoformat()})) == [str(a.pk), str(b.pk)]


def _q(params: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=soon", "status"),
        ("ordering=title", "ordering"),
        ("calendar_id=nope", "calendar_id"),
        ("start_time_gte=yesterday", "start_time_gte"),
        ("page_size=500", "page_size"),
        ("colour=red", "colour"),
        ("updated_at_gte=2026-01-01T00:00:00Z&updated_after=2026-02-01T00:00:00Z", "updated_after"),
    ],
)
def test_bad_filters_are_400(acme, query, field):
    response = acme.client.get(f"/api/v1/calendar_events/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request_data"
    assert field in response.json()["errors"]


def test_other_projects_events_are_invisible(acme, globex, calendar):
    theirs = meeting(CalendarFactory(project=globex.project))
    mine = meeting(calendar)
    assert ids(acme) == [str(mine.pk)]
    assert acme.client.get(f"/api/v1/calendar_events/{theirs.pk}/").status_code == 404
    for method in ("post", "patch", "delete"):
        response = getattr(acme.client, method)(
            f"/api/v1/calendar_events/{theirs.pk}/bot/", {"bot_name": "x"}, format="json"
        )
        assert response.status_code == 404


def test_cursor_pages_are_stable_under_inserts(acme, calendar):
    events = [meeting(calendar, hours=h) for h in range(1, 8)]
    page = acme.client.get("/api/v1/calendar_events/?page_size=3").json()
    assert [e["id"] for e in page["results"]] == [str(e.pk) for e in events[:3]]
    # New events before and inside the next page's range do not shift or repeat anything.
    meeting(calendar, hours=0.5)
    inserted = meeting(calendar, hours=4.5)
    second = acme.client.get(page["next"]).json()
    assert [e["id"] for e in second["results"]] == [
        str(events[3].pk),
        str(inserted.pk),
        str(events[4].pk),
    ]
    back = acme.client.get(second["previous"]).json()
    assert str(events[2].pk) in [e["id"] for e in back["results"]]


def test_max_page_size_is_100(acme, calendar):
    for n in range(105):
        meeting(calendar, hours=1 + n / 100)
    page = acme.client.get("/api/v1/calendar_events/").json()
    assert len(page["results"]) == 100 and page["next"]


def test_list_query_count_is_constant(acme, calendar):
    def run():
        with CaptureQueriesContext(connection) as queries:
            response = acme.client.get("/api/v1/calendar_events/?calendar_id=" + str(calendar.pk))
        assert response.status_code == 200
        return len(queries), len(response.json()["results"])

    event = meeting(calendar, series_id="s1")
    BotFactory(project=acme.project).meetings.add(event)
    run()  # the API key's first use is recorded once
    few = run()
    for n in range(30):
        e = meeting(calendar, hours=2 + n, series_id=f"s{n}")
        BotFactory(project=acme.project, deduplication_key=f"k{n}").meetings.add(e)
    many = run()
    assert many[1] == 31
    assert many[0] == few[0]


# --- the change feed ------------------------------------------------------------------------------


def feed(tenant, watermark: datetime) -> list[dict]:
    query = _q({"updated_at_gte": watermark.isoformat()})
    return tenant.client.get(f"/api/v1/calendar_events/?{query}").json()["results"]


def test_feed_returns_changes_oldest_first_including_past_and_deleted(acme, calendar, clock):
    old = meeting(calendar, hours=-10)
    deleted = meeting(calendar, hours=5)
    clock.shift(timedelta(minutes=1))
    Meeting.objects.filter(pk=deleted.pk).update(
        is_deleted=True, updated_at=NOW + timedelta(minutes=1)
    )
    clock.shift(timedelta(minutes=1))
    results = feed(acme, NOW - timedelta(hours=1))
    assert [e["id"] for e in results] == [str(old.pk), str(deleted.pk)]
    assert results[1]["is_deleted"] is True


def test_feed_never_skips_a_row_committed_late(acme, calendar, clock, settings):
    """A long transaction stamps a row at t0 but commits after a row stamped t1 > t0. A client
    that polled in between and moved its watermark to t1 must still receive the row."""
    settings.EVENT_FEED_LAG_SECONDS = 10
    watermark = NOW - timedelta(minutes=5)
    t0 = NOW
    clock.move_to(NOW + timedelta(seconds=1))
    fast = meeting(calendar, title="fast")  # stamped t1 = t0 + 1 s, committed at once
    clock.move_to(NOW + timedelta(seconds=2))
    # The client polls while the slow transaction is still open: the fast row is held back.
    seen = feed(acme, watermark)
    assert seen == []
    # The slow transaction commits its row, stamped t0 (before the fast one).
    slow = meeting(calendar, title="slow")
    Meeting.objects.filter(pk=slow.pk).update(updated_at=t0)
    clock.move_to(NOW + timedelta(seconds=12))
    seen = feed(acme, watermark)
    assert [e["name"] for e in seen] == ["slow", "fast"]
    # Polling on from the newest updated_at received returns the last row again, nothing lost.
    newest = datetime.fromisoformat(seen[-1]["updated_at"].replace("Z", "+00:00"))
    assert [e["id"] for e in feed(acme, newest)] == [str(fast.pk)]


def test_feed_without_cap_would_skip(acme, calendar, clock, settings):
    """The same sequence with no lag loses the slow row: the cap is what prevents it."""
    settings.EVENT_FEED_LAG_SECONDS = 0
    watermark = NOW - timedelta(minutes=5)
    clock.move_to(NOW + timedelta(seconds=1))
    meeting(calendar, title="fast")
    clock.move_to(NOW + timedelta(seconds=2))
    seen = feed(acme, watermark)
    newest = datetime.fromisoformat(seen[-1]["updated_at"].replace("Z", "+00:00"))
    slow = meeting(calendar, title="slow")
    Meeting.objects.filter(pk=slow.pk).update(updated_at=NOW)
    assert "slow" not in [e["name"] for e in feed(acme, newest)]

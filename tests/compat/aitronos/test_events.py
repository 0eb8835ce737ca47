"""Calendar events: the Aitronos event object, offset pages (`skip`, `limit`, `total`,
`has_more`), every filter - `auto_join_status` included, computed in SQL from the decision
and the meeting's bots - and a bounded number of queries per page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bots.models import Bot
from calendars.models import Calendar
from tests.factories import BotFactory, CalendarFactory, MeetingFactory

from .conftest import BASE, assert_aitronos_error, soon


def bot_for(meeting, status: str, **fields) -> Bot:
    bot = BotFactory(project=meeting.project, status=status, **fields)
    bot.meetings.add(meeting)
    return bot


def events(buddy, **query) -> dict:
    response = buddy.get(f"{BASE}/calendar/events", query)
    assert response.status_code == 200, response.json()
    return response.json()


def titles(body) -> list[str]:
    return [event["title"] for event in body["items"]]


def test_the_event_object(buddy, google_calendar):
    start = soon(5)
    meeting = MeetingFactory(
        calendar=google_calendar,
        title="Customer call",
        start_time=start,
        end_time=start + timedelta(minutes=45),
        meeting_url="https://teams.microsoft.com/l/meetup-join/19%3ameeting_x",
        meeting_platform="microsoft_teams",
        organizer_email="lee@globex.com",
        attendees=[
            {"email": "lee@globex.com", "is_organizer": True},
            {"email": "dana@acme.com", "is_organizer": False},
            {"email": "kim@globex.com", "is_organizer": False},
        ],
        is_recurring=True,
        status="tentative",
        will_record=True,
        will_record_reason="Recorded: matches the recording preferences.",
    )
    bot = bot_for(meeting, Bot.Status.SCHEDULED)
    meeting.refresh_from_db()
    expected = {
        "id": str(meeting.pk),
        "calendar_provider": "google_calendar",
        "title": "Customer call",
        "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": (start + timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezone": "UTC",
        "meeting_link": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x",
        "meeting_platform": "teams",
        "organizer_email": "lee@globex.com",
        "attendee_count": 3,
        "is_recurring": True,
        "status": "tentative",
        "auto_join_status": "scheduled",
        "session_id": str(bot.pk),
        "synced_at": meeting.updated_at.isoformat().replace("+00:00", "Z"),
        "created_at": meeting.created_at.isoformat().replace("+00:00", "Z"),
        "auto_join_reason": "Recorded: matches the recording preferences.",
    }
    assert buddy.get(f"{BASE}/calendar/events/{meeting.pk}").json() == expected
    assert events(buddy)["items"] == [expected]


def test_missing_values_are_null_and_deleted_events_cancelled(buddy, google_calendar):
    meeting = MeetingFactory(
        calendar=google_calendar,
        meeting_url=None,
        meeting_platform=None,
        organizer_email="",
        attendees=[],
        is_deleted=True,
    )
    event = buddy.get(f"{BASE}/calendar/events/{meeting.pk}").json()
    assert (event["meeting_link"], event["meeting_platform"], event["organizer_email"]) == (
        None,
        None,
        None,
    )
    assert (event["attendee_count"], event["status"]) == (0, "cancelled")
    assert (event["auto_join_status"], event["session_id"]) == ("skipped", None)


@pytest.fixture
def by_status(google_calendar):
    """One meeting per auto_join_status (and the cases that decide between them), an hour
    apart."""
    made = {}

    def meeting(name, hour, will_record, *bots):
        m = MeetingFactory(
            calendar=google_calendar,
            title=name,
            start_time=soon(hour),
            end_time=soon(hour) + timedelta(minutes=30),
            will_record=will_record,
        )
        made[name] = (m, [bot_for(m, status) for status in bots])

    S = Bot.Status
    meeting("skipped", 1, False)
    meeting("skipped, bot cancelled", 2, False, S.CANCELLED)
    meeting("pending", 3, True)
    meeting("pending, bot cancelled", 4, True, S.CANCELLED)
    meeting("scheduled", 5, True, S.SCHEDULED)
    meeting("dispatched", 6, True, S.DISPATCHED)
    meeting("in the waiting room", 7, True, S.IN_WAITING_ROOM)
    meeting("recording", 8, True, S.IN_CALL_RECORDING)
    meeting("done", 9, False, S.DONE)  # decided otherwise later: the bot did join
    meeting("failed", 10, True, S.FATAL)
    meeting("failed, then scheduled again", 11, True, S.FATAL, S.SCHEDULED)
    meeting("joined after a failure", 12, True, S.FATAL, S.CALL_ENDED)
    return made


EXPECTED = {
    "skipped": ["skipped", "skipped, bot cancelled"],
    "pending": ["pending", "pending, bot cancelled"],
    "scheduled": [
        "scheduled",
        "dispatched",
        "in the waiting room",
        "failed, then scheduled again",
    ],
    "joined": ["recording", "done", "joined after a failure"],
    "failed": ["failed"],
}


def test_auto_join_status_and_session_id(buddy, by_status):
    listed = {event["title"]: event for event in events(buddy, limit=100)["items"]}
    for status, names in EXPECTED.items():
        for name in names:
            assert listed[name]["auto_join_status"] == status, name
    # The session is the bot that decided the status; a cancelled bot is none.
    for name, (_, bots) in by_status.items():
        live = [b for b in bots if b.status != Bot.Status.CANCELLED]
        if name in ("failed, then scheduled again", "joined after a failure"):
            best = bots[1]  # the later bot outranks the failed one
        else:
            best = live[0] if live else None
        assert listed[name]["session_id"] == (str(best.pk) if best else None), name


@pytest.mark.parametrize("status", sorted(EXPECTED))
def test_auto_join_status_filter(buddy, by_status, status):
    body = events(buddy, auto_join_status=status)
    assert titles(body) == EXPECTED[status]
    assert body["total"] == len(EXPECTED[status])


def test_auto_join_status_filter_is_sql(buddy, by_status):
    with CaptureQueriesContext(connection) as captured:
        events(buddy, auto_join_status="joined", limit=1)
    selects = [q["sql"] for q in captured if "meetings_meeting" in q["sql"]]
    assert len(selects) == 2  # the count and the page
    assert all("CASE WHEN" in sql for sql in selects)


def test_pages(buddy, google_calendar):
    for hour in range(7):
        MeetingFactory(calendar=google_calendar, title=f"m{hour}", start_time=soon(hour + 1))
    first = events(buddy, limit=3)
    assert (titles(first), first["total"], first["skip"], first["limit"], first["has_more"]) == (
        ["m0", "m1", "m2"],
        7,
        0,
        3,
        True,
    )
    last = events(buddy, limit=3, skip=6)
    assert (titles(last), last["has_more"]) == (["m6"], False)
    beyond = events(buddy, skip=10)
    assert (beyond["items"], beyond["total"], beyond["has_more"]) == ([], 7, False)
    default = events(buddy)
    assert (default["skip"], default["limit"], len(default["items"])) == (0, 50, 7)
    for hour in range(7, 60):
        MeetingFactory(calendar=google_calendar, title=f"m{hour}", start_time=soon(hour + 1))
    assert (len(events(buddy)["items"]), events(buddy)["has_more"]) == (50, True)
    assert len(events(buddy, limit=100)["items"]) == 60


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"skip": -1},
        {"start_after": "yesterday"},
        {"provider": "myspace"},
        {"auto_join_status": "maybe"},
    ],
)
def test_bad_parameters(buddy, query):
    response = buddy.get(f"{BASE}/calendar/events", query)
    assert set(assert_aitronos_error(response, 400, "VALIDATION_ERROR")["details"]) == set(query)


def test_time_and_provider_filters(buddy, dana, google_calendar):
    outlook = CalendarFactory(project=dana.project, calendar_user=dana, platform="microsoft")
    for hour, calendar in ((1, google_calendar), (2, outlook), (3, google_calendar)):
        MeetingFactory(calendar=calendar, title=f"h{hour}", start_time=soon(hour))
    after = soon(2).isoformat()
    before = soon(3).isoformat()
    assert titles(events(buddy, start_after=after)) == ["h2", "h3"]  # inclusive
    assert titles(events(buddy, start_before=before)) == ["h1", "h2"]  # exclusive
    assert titles(events(buddy, start_after=after, start_before=before)) == ["h2"]
    assert titles(events(buddy, provider="google_calendar")) == ["h1", "h3"]
    assert titles(events(buddy, provider="outlook_calendar")) == ["h2"]
    assert events(buddy, provider="zoom") == {
        "items": [],
        "total": 0,
        "skip": 0,
        "limit": 50,
        "has_more": False,
    }
    body = events(buddy, provider="google_calendar", start_after=after)
    assert (titles(body), body["total"]) == (["h3"], 1)


def test_a_page_costs_the_same_whatever_its_size(buddy, google_calendar):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            events(buddy, limit=100)
        return len(captured)

    meeting = MeetingFactory(calendar=google_calendar, will_record=True)
    bot_for(meeting, Bot.Status.SCHEDULED)
    one = queries()
    for hour in range(30):
        meeting = MeetingFactory(calendar=google_calendar, start_time=soon(hour + 2))
        bot_for(meeting, Bot.Status.DONE)
        bot_for(meeting, Bot.Status.CANCELLED)
    assert queries() == one


def test_events_of_every_connection_and_only_the_users(buddy, dana, acme, google_calendar):
    outlook = CalendarFactory(
        project=dana.project,
        calendar_user=dana,
        platform="microsoft",
        state=Calendar.State.DISCONNECTED,
    )
    MeetingFactory(calendar=google_calendar, title="mine")
    MeetingFactory(calendar=outlook, title="mine too", start_time=soon(30))
    theirs = MeetingFactory(calendar=CalendarFactory(project=acme.project), title="a colleague's")
    assert titles(events(buddy)) == ["mine", "mine too"]
    response = buddy.get(f"{BASE}/calendar/events/{theirs.pk}")
    assert_aitronos_error(response, 404, "NOT_FOUND")

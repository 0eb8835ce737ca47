"""What the meeting lists of every API surface read: no list loads the provider payload (`raw`,
kilobytes a meeting) unless it returns it, and the server API's filters are index reads."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from calendars import tokens
from calendars.models import Calendar
from meetings.models import Meeting
from tests.factories import BotFactory, CalendarFactory, MeetingFactory

RAW = connection.ops.quote_name("raw")
MEETINGS = "FROM " + connection.ops.quote_name(Meeting._meta.db_table)


@pytest.fixture
def alice(acme):
    from calendars.models import CalendarUser

    return CalendarUser.objects.create(project=acme.project, external_id="alice")


@pytest.fixture
def calendar(alice):
    # Disconnected: V1's refresh then syncs nothing and answers the list.
    return CalendarFactory(
        project=alice.project, calendar_user=alice, state=Calendar.State.DISCONNECTED
    )


@pytest.fixture
def meetings(acme, calendar):
    start = timezone.now() + timedelta(hours=1)
    made = [
        MeetingFactory(
            calendar=calendar,
            start_time=start + timedelta(hours=n),
            end_time=start + timedelta(hours=n, minutes=30),
            series_id="s" if n % 2 else "",
            raw={"id": f"e{n}", "body": "payload"},
        )
        for n in range(3)
    ]
    BotFactory(project=acme.project).meetings.add(*made)
    return made


def token(client: APIClient, calendar_user, header: str) -> APIClient:
    value = tokens.mint(calendar_user)
    if header == "bearer":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    else:
        client.credentials(HTTP_X_RECALLCALENDARAUTHTOKEN=value)
    return client


def reads_of_raw(send) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = send()
    assert response.status_code == 200, response.content
    assert response.json()
    return [q["sql"] for q in queries if RAW in q["sql"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/calendar/meetings/"),
        ("post", "/api/v1/calendar/meetings/refresh/"),
        ("get", "/compat/aitronos/v1/meeting-buddy/calendar/events"),
    ],
)
def test_lists_that_do_not_return_the_payload_do_not_read_it(alice, meetings, method, path):
    client = token(APIClient(), alice, "bearer" if "aitronos" in path else "v1")
    assert reads_of_raw(lambda: getattr(client, method)(path)) == []


def test_server_api_list_reads_the_payload_once(acme, meetings, calendar):
    """It returns `raw`: the events' own query reads it; the bots' calendar meetings do not."""
    reads = reads_of_raw(lambda: acme.client.get("/api/v1/calendar_events/"))
    assert len(reads) == 1 and MEETINGS in reads[0]


def test_meeting_baas_list_reads_the_payload_once(acme, meetings, calendar):
    client = APIClient()
    client.credentials(HTTP_X_MEETING_BAAS_API_KEY=acme.raw_key)
    path = f"/compat/meetingbaas/calendar_events/?calendar_id={calendar.pk}"
    reads = reads_of_raw(lambda: client.get(path))
    assert len(reads) == 1 and MEETINGS in reads[0]


@pytest.mark.xfail(
    strict=True,
    reason="GET /api/v1/bots/ prefetches its bots' meetings whole (bots/selectors.py "
    "bot_queryset), payload included; bots/ was outside this change",
)
def test_bot_list_does_not_read_meeting_payloads(acme, meetings):
    assert reads_of_raw(lambda: acme.client.get("/api/v1/bots/")) == []


# --- the server API's filters, planned by PostgreSQL ----------------------------------------------


def plan(client, query: str) -> str:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/calendar_events/?{query}")
    assert response.status_code == 200
    sql = next(q["sql"] for q in queries if RAW in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_organizer_and_calendar_key_filters_are_index_reads(acme):
    """4,000 meetings in 4 calendars: one organizer's page is read from the organizer index in
    start order; a calendar named by deduplication key is looked up first, not joined (a join
    read the project's meetings in start order until a page of that calendar's matched)."""
    start = timezone.now() + timedelta(hours=1)
    calendars = [
        CalendarFactory(project=acme.project, deduplication_key=f"key-{c}") for c in range(4)
    ]
    Meeting.objects.bulk_create(
        MeetingFactory.build(
            calendar=calendars[n % 4],
            project=acme.project,
            platform_event_id=f"e{n}",
            organizer_email=f"person{n % 40}@acme.com",
            start_time=start + timedelta(minutes=n),
            end_time=start + timedelta(minutes=n + 30),
        )
        for n in range(4000)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Meeting._meta.db_table}")
    organizer = plan(acme.client, "organizer_email=PERSON7@acme.com")
    assert "meeting_organizer_start" in organizer, organizer
    by_key = plan(acme.client, "calendar_deduplication_key=key-2")
    # The calendar's id is known before the meetings are read (an InitPlan): PostgreSQL picks
    # between the calendar's index and the project's start order from the column's statistics.
    assert "InitPlan" in by_key, by_key
    assert "Join" not in by_key and "Nested Loop" not in by_key, by_key


def test_aitronos_list_reads_meetings_by_calendar_ids(alice, meetings, calendar):
    client = token(APIClient(), alice, "bearer")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/compat/aitronos/v1/meeting-buddy/calendar/events")
    assert response.json()["total"] == 3
    reads = [q["sql"] for q in queries if MEETINGS in q["sql"]]
    assert len(reads) == 2  # the count and the page
    for sql in reads:
        assert f"{connection.ops.quote_name('calendar_id')} IN (" in sql
        assert calendar.pk.hex in sql.replace("-", "")
        assert "calendar_user_id" not in sql

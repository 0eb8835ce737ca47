"""Recall V1's meeting list is built from rows (calendars/recall_v1/meeting_rows.py): the bytes
MeetingSerializer gives, a query by the user's calendar ids, no provider payload read."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from bots.models import Bot
from calendars.recall_v1.serializers import MeetingSerializer
from calendars.recall_v1.views import filter_meetings, meetings_of
from meetings.models import Meeting
from tests.factories import BotFactory, CalendarFactory, MeetingFactory

LIST_URL = "/api/v1/calendar/meetings/"


@pytest.fixture
def meetings(alice, globex):
    """Two calendars (Google, Microsoft); every invite kind; bots live and ended; attendees
    with missing keys; a deleted meeting; another user's and another project's meetings."""
    google = CalendarFactory(project=alice.project, calendar_user=alice, platform="google")
    microsoft = CalendarFactory(project=alice.project, calendar_user=alice, platform="microsoft")
    start = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    made = []
    for n, platform in enumerate(
        ["zoom", "microsoft_teams", "google_meet", "webex", "goto_meeting", "other", None]
    ):
        made.append(
            MeetingFactory(
                calendar=google if n % 2 else microsoft,
                start_time=start + timedelta(hours=n, microseconds=n),
                end_time=start + timedelta(hours=n + 1),
                meeting_platform=platform,
                meeting_invite={"meeting_id": f"id-{n}", "pin": None, "x": 1e-05 * n}
                if n < 5
                else None,
                ical_uid=f"uid-{n % 3}-{n}",
                override_should_record=[None, True, False][n % 3],
                will_record=n % 2 == 0,
                will_record_reason='rule:7 "Élan"' if n == 2 else "",
                description="Agenda ✓" if n == 3 else "",
                visibility="private" if n == 4 else None,
                organizer_email="Boss@Acme.com",
                attendees=[
                    {"name": "Dana", "email": "dana@acme.com", "is_organizer": True},
                    {"name": 2.5e-06, "email": "x@acme.com\u2028", "is_organizer": 1},
                    {"email": "", "is_organizer": "false", "status": "declined"},
                    {"name": "No address", "is_organizer": 0, "status": None},
                ],
                raw={"id": f"event-{n}", "body": "x" * 100},
            )
        )
    ended = BotFactory(project=alice.project, join_at=start)
    ended.status = Bot.Status.CANCELLED
    ended.save()
    ended.meetings.add(made[1])
    later = BotFactory(project=alice.project, join_at=start + timedelta(minutes=5))
    later.meetings.add(made[1], made[2])
    sooner = BotFactory(project=alice.project, join_at=start + timedelta(minutes=1))
    sooner.meetings.add(made[2])
    MeetingFactory(calendar=google, start_time=start, is_deleted=True)
    MeetingFactory(calendar=CalendarFactory(project=alice.project))  # another user's
    MeetingFactory(calendar=CalendarFactory(project=globex.project))
    return made


def serializer_json(calendar_user, **filters) -> bytes:
    """What the list gave before it was built from rows."""
    meetings = filter_meetings(meetings_of(calendar_user), **filters)
    return JSONRenderer().render(MeetingSerializer(meetings, many=True).data)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_list_is_the_serializers_json(alice, alice_client, meetings, zone):
    with timezone.override(zone):
        expected = serializer_json(alice)
        response = alice_client.get(LIST_URL)
    assert response.status_code == 200
    assert response.content == expected
    body = response.json()
    assert [m["id"] for m in body] == [str(m.pk) for m in meetings]
    assert body[1]["bot_id"] is not None and body[2]["bot_id"] is not None
    assert body[0]["attendee_emails"] == ["dana@acme.com", "x@acme.com\u2028"]


@pytest.mark.parametrize(
    ("filters", "count"),
    [
        ({"ical_uid": "uid-1"}, 2),
        ({"ical_uid": "UID-1"}, 0),
        ({"start_time_after": 2, "start_time_before": 4}, 3),
    ],
)
def test_filtered_list_is_the_serializers_json(alice, alice_client, meetings, filters, count):
    query = dict(filters)
    for name in ("start_time_after", "start_time_before"):
        if name in query:
            query[name] = meetings[query[name]].start_time
    response = alice_client.get(LIST_URL, {k: str(v) for k, v in query.items()})
    assert response.status_code == 200
    assert response.content == serializer_json(alice, **query)
    assert len(response.json()) == count


def test_user_without_calendars_gets_an_empty_list(alice_client):
    response = alice_client.get(LIST_URL)
    assert response.status_code == 200 and response.json() == []


def test_meetings_are_read_by_calendar_ids_without_payload(alice, alice_client, meetings):
    """The query names the user's calendars by id (no join through calendars to the user, which
    PostgreSQL planned as a scan of the whole table) and leaves the payload in the database."""
    with CaptureQueriesContext(connection) as queries:
        response = alice_client.get(LIST_URL)
    assert len(response.json()) == 7
    table = connection.ops.quote_name(Meeting._meta.db_table)
    # The meetings, and their bots through the same query as a subquery.
    reads = [q["sql"] for q in queries if f"FROM {table}" in q["sql"]]
    assert len(reads) == 2
    for sql in reads:
        assert f"{connection.ops.quote_name('calendar_id')} IN (" in sql
        for calendar_id in alice.calendars.values_list("pk", flat=True):
            assert calendar_id.hex in sql.replace("-", "")
        assert "calendars_calendar" not in sql
    assert not any(connection.ops.quote_name("raw") in q["sql"] for q in queries)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_plan_reads_the_calendars_meetings_by_index(alice, alice_client, meetings):
    """With many meetings of other calendars in the table, the list's query is an index read
    of the user's calendars, not a scan."""
    other = CalendarFactory(project=alice.project)
    Meeting.objects.bulk_create(
        MeetingFactory.build(calendar=other, project=other.project, platform_event_id=f"e{n}")
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Meeting._meta.db_table}")
    with CaptureQueriesContext(connection) as queries:
        alice_client.get(LIST_URL)
    table = connection.ops.quote_name(Meeting._meta.db_table)
    sql = next(q["sql"] for q in queries if f"FROM {table}" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # An index that starts with calendar_id (meeting_calendar_start or _ical_uid) finds them.
    assert "Index Cond: (calendar_id = ANY (" in plan, plan
    assert "Seq Scan on meetings_meeting" not in plan, plan

"""Contract of the Recall V1 meeting endpoints."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bots.models import Bot
from calendars.models import CalendarUser
from tests.factories import BotFactory, CalendarFactory, MeetingFactory

from .conftest import token_client

LIST_URL = "/api/v1/calendar/meetings/"

FIELD_TYPES = {
    "id": str,
    "override_should_record": (bool, type(None)),
    "title": str,
    "will_record": bool,
    "will_record_reason": str,
    "start_time": str,
    "end_time": str,
    "platform": (str, type(None)),
    "platform_id": str,
    "meeting_platform": (str, type(None)),
    "calendar_platform": str,
    "zoom_invite": (dict, type(None)),
    "teams_invite": (dict, type(None)),
    "meet_invite": (dict, type(None)),
    "webex_invite": (dict, type(None)),
    "goto_meeting_invite": (dict, type(None)),
    "description": str,
    "bot_id": (str, type(None)),
    "is_external": bool,
    "is_hosted_by_me": bool,
    "is_recurring": bool,
    "organizer_email": (str, type(None)),
    "attendee_emails": list,
    "attendees": list,
    "ical_uid": str,
    "visibility": (str, type(None)),
}


def assert_meeting_shape(body: dict) -> None:
    assert set(body) == set(FIELD_TYPES)
    for name, kind in FIELD_TYPES.items():
        assert isinstance(body[name], kind), (name, body[name])
    for attendee in body["attendees"]:
        assert set(attendee) == {"name", "email", "is_organizer", "status"}


@pytest.fixture
def calendar(alice):
    return CalendarFactory(project=alice.project, calendar_user=alice, email="alice@acme.com")


def test_list_shape_order_and_invites(alice_client, calendar):
    now = timezone.now()
    later = MeetingFactory(
        calendar=calendar,
        start_time=now + timedelta(days=2),
        end_time=now + timedelta(days=2, hours=1),
        meeting_url="https://us02web.zoom.us/j/123456789?pwd=abc",
        meeting_platform="zoom",
        meeting_invite={"meeting_id": "123456789", "meeting_password": "abc"},
        attendees=[
            {
                "name": "Alice",
                "email": "alice@acme.com",
                "is_organizer": True,
                "status": "accepted",
            },
            {"name": None, "email": "bob@other.com", "is_organizer": False, "status": "tentative"},
        ],
        organizer_email="alice@acme.com",
        is_external=True,
        is_hosted_by_me=True,
        visibility="default",
    )
    sooner = MeetingFactory(
        calendar=calendar,
        start_time=now - timedelta(minutes=10),  # in progress: still listed
        end_time=now + timedelta(minutes=20),
        meeting_url=None,
        meeting_platform=None,
    )
    MeetingFactory(calendar=calendar, is_deleted=True)
    response = alice_client.get(LIST_URL)
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert [m["id"] for m in body] == [str(sooner.pk), str(later.pk)]
    for meeting in body:
        assert_meeting_shape(meeting)
    zoom = body[1]
    assert zoom["platform"] == zoom["meeting_platform"] == "zoom"
    assert zoom["zoom_invite"] == {"meeting_id": "123456789", "meeting_password": "abc"}
    assert zoom["meet_invite"] is None and zoom["teams_invite"] is None
    assert zoom["attendee_emails"] == ["alice@acme.com", "bob@other.com"]
    assert zoom["calendar_platform"] == "google"
    assert zoom["platform_id"] == later.platform_event_id
    assert body[0]["platform"] is None


def test_only_own_meetings(alice_client, calendar, acme, globex):
    MeetingFactory(calendar=calendar)
    bob = CalendarUser.objects.create(project=acme.project, external_id="bob")
    bobs = MeetingFactory(calendar=CalendarFactory(project=acme.project, calendar_user=bob))
    foreign = MeetingFactory(calendar=CalendarFactory(project=globex.project))
    assert len(alice_client.get(LIST_URL).json()) == 1
    for other in (bobs, foreign):
        assert alice_client.get(f"{LIST_URL}{other.pk}/").status_code == 404
        response = alice_client.put(
            f"{LIST_URL}{other.pk}/", {"override_should_record": True}, format="json"
        )
        assert response.status_code == 404
        other.refresh_from_db()
        assert other.override_should_record is None


def test_filters(alice_client, calendar):
    now = timezone.now()
    a = MeetingFactory(
        calendar=calendar, ical_uid="abc123@google.com", start_time=now + timedelta(hours=1)
    )
    b = MeetingFactory(
        calendar=calendar, ical_uid="abd999@google.com", start_time=now + timedelta(days=3)
    )
    MeetingFactory(
        calendar=calendar, ical_uid="ABC000@google.com", start_time=now + timedelta(days=5)
    )

    def ids(**params):
        response = alice_client.get(LIST_URL, params)
        assert response.status_code == 200, response.json()
        return [m["id"] for m in response.json()]

    assert ids(ical_uid="ab") == [str(a.pk), str(b.pk)]  # case-sensitive prefix
    assert ids(ical_uid="abc") == [str(a.pk)]
    after = (now + timedelta(days=1)).isoformat()
    before = (now + timedelta(days=4)).isoformat()
    assert ids(start_time_after=after, start_time_before=before) == [str(b.pk)]


@pytest.mark.parametrize("param", ["start_time_after", "start_time_before"])
def test_bad_filter_is_400(alice_client, calendar, param):
    response = alice_client.get(LIST_URL, {param: "next tuesday"})
    assert response.status_code == 400
    assert param in response.json()["errors"]


def test_list_query_count_is_constant(alice_client, calendar, django_assert_max_num_queries):
    meeting = MeetingFactory(calendar=calendar)
    BotFactory(project=calendar.project).meetings.add(meeting)
    with django_assert_max_num_queries(10) as few:
        alice_client.get(LIST_URL)
    for _ in range(15):
        m = MeetingFactory(calendar=calendar)
        BotFactory(project=calendar.project).meetings.add(m)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = alice_client.get(LIST_URL).json()
    assert len(body) == 16
    assert all(m["bot_id"] for m in body)


def test_bot_id_is_the_live_bot(alice_client, calendar):
    meeting = MeetingFactory(calendar=calendar)
    old = BotFactory(project=calendar.project, status=Bot.Status.CANCELLED)
    live = BotFactory(project=calendar.project)
    old.meetings.add(meeting)
    live.meetings.add(meeting)
    assert alice_client.get(f"{LIST_URL}{meeting.pk}").json()["bot_id"] == str(live.pk)


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("value", [True, False, None])
def test_override(alice_client, calendar, method, value):
    meeting = MeetingFactory(
        calendar=calendar, override_should_record=not value if value is not None else True
    )
    response = getattr(alice_client, method)(
        f"{LIST_URL}{meeting.pk}/",
        {"override_should_record": value, "title": "ignored", "will_record": True},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert_meeting_shape(body)
    assert body["override_should_record"] is value
    meeting.refresh_from_db()
    assert meeting.override_should_record is value
    assert meeting.title == "Weekly sync"


@pytest.mark.parametrize("body", [{}, {"override_should_record": "perhaps"}, {"title": "x"}])
def test_bad_override_is_400(alice_client, calendar, body):
    meeting = MeetingFactory(calendar=calendar)
    response = alice_client.patch(f"{LIST_URL}{meeting.pk}/", body, format="json")
    assert response.status_code == 400
    assert "override_should_record" in response.json()["errors"]


def test_unknown_and_malformed_ids_are_404(alice_client, calendar):
    assert alice_client.get(f"{LIST_URL}00000000-0000-0000-0000-000000000000/").status_code == 404
    assert alice_client.get(f"{LIST_URL}not-a-uuid/").status_code == 404


def test_refresh_without_slash_returns_list(alice_client, calendar):
    MeetingFactory(calendar=calendar)
    response = alice_client.post(LIST_URL + "refresh")
    assert response.status_code == 200
    assert len(response.json()) == 1
    assert_meeting_shape(response.json()[0])
    calendar.refresh_from_db()
    assert calendar.last_attempted_sync_at is not None


def test_refresh_is_rate_limited_per_calendar_user(alice, calendar, settings, acme):
    settings.CALENDAR_REFRESH_RATE = "3/min"
    client = token_client(alice)
    statuses = [client.post(LIST_URL + "refresh/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.post(LIST_URL + "refresh/")
    assert limited.json()["code"] == "throttled"
    assert int(limited["Retry-After"]) > 0
    bob = CalendarUser.objects.create(project=acme.project, external_id="bob")
    assert token_client(bob).post(LIST_URL + "refresh/").status_code == 200

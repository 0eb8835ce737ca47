"""The bots API: Recall's bot fields, filters, pagination, tenancy and a constant query count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bots.models import Bot
from tests.factories import BotFactory, CalendarFactory, MeetingFactory

from .conftest import NOW, later

pytestmark = pytest.mark.usefixtures("clock")

FIELDS = {
    "id",
    "bot_name",
    "meeting_url",
    "meeting_platform",
    "join_at",
    "status",
    "status_changes",
    "calendar_meetings",
    "metadata",
    "deduplication_key",
    "dispatched_at",
    "backend",
    "created_at",
    "updated_at",
}


def shared_bot(project, *, users=("alice", "bob"), join_at=None, **kwargs) -> Bot:
    """A bot serving the same meeting seen through several users' calendars."""
    bot = BotFactory(project=project, join_at=join_at or later(hours=1), **kwargs)
    for external_id in users:
        calendar = CalendarFactory(project=project, calendar_user__external_id=external_id)
        bot.meetings.add(
            MeetingFactory(
                calendar=calendar, start_time=bot.join_at + timedelta(minutes=2), title="Standup"
            )
        )
    return bot


def test_detail_has_recall_fields(acme):
    bot = shared_bot(
        acme.project, metadata={"deal": "D-1"}, deduplication_key="key-1", name="Notes"
    )
    bot.set_status("dispatched", message="Handed over.")
    bot.save()
    body = acme.client.get(f"/api/v1/bots/{bot.pk}/").json()
    assert set(body) == FIELDS
    assert body["id"] == str(bot.pk)
    assert body["bot_name"] == "Notes"
    assert body["meeting_url"] == bot.meeting_url
    assert body["join_at"] == "2026-11-02T10:00:00Z"
    assert body["status"] == "dispatched"
    assert body["metadata"] == {"deal": "D-1"}
    assert body["deduplication_key"] == "key-1"
    assert body["status_changes"] == [
        {
            "code": "dispatched",
            "sub_code": None,
            "message": "Handed over.",
            "created_at": "2026-11-02T09:00:00Z",
        }
    ]
    meetings = body["calendar_meetings"]
    assert len(meetings) == 2
    assert set(meetings[0]) == {"id", "start_time", "end_time", "calendar_user"}
    assert meetings[0]["start_time"] == "2026-11-02T10:02:00Z"
    assert {m["calendar_user"]["external_id"] for m in meetings} == {"alice", "bob"}
    assert set(meetings[0]["calendar_user"]) == {"id", "external_id"}
    assert body["backend"] == {
        "name": "",
        "bot_id": None,
        "synced_at": None,
        "error": "",
        "retry_at": None,
    }
    # Both path forms answer.
    assert acme.client.get(f"/api/v1/bots/{bot.pk}").status_code == 200


def test_calendar_without_a_user(acme):
    bot = BotFactory(project=acme.project)
    bot.meetings.add(
        MeetingFactory(calendar=CalendarFactory(project=acme.project, calendar_user=None))
    )
    (meeting,) = acme.client.get(f"/api/v1/bots/{bot.pk}/").json()["calendar_meetings"]
    assert meeting["calendar_user"] is None


def test_list_filters(acme):
    first = shared_bot(acme.project, users=["alice"], join_at=later(hours=1))
    second = shared_bot(acme.project, users=["bob"], join_at=later(hours=3))
    done = BotFactory(project=acme.project, join_at=later(hours=-2), status="done")
    cancelled = BotFactory(project=acme.project, join_at=later(hours=5), status="cancelled")

    def ids(**params):
        response = acme.client.get("/api/v1/bots/", params)
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["results"]]

    assert ids() == [str(b.pk) for b in (done, first, second, cancelled)]  # by join time
    assert ids(status="scheduled") == [str(first.pk), str(second.pk)]
    assert ids(status="done,cancelled") == [str(done.pk), str(cancelled.pk)]
    assert ids(join_at_after=later(hours=1).isoformat()) == [
        str(first.pk),
        str(second.pk),
        str(cancelled.pk),
    ]
    assert ids(join_at_after=NOW.isoformat(), join_at_before=later(hours=3).isoformat()) == [
        str(first.pk)
    ]
    assert ids(calendar_user_external_id="bob") == [str(second.pk)]
    assert ids(calendar_user_external_id="nobody") == []
    assert ids(meeting_id=str(first.meetings.get().pk)) == [str(first.pk)]
    assert ids(deduplication_key=second.deduplication_key) == [str(second.pk)]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"status": "sleeping"}, "status"),
        ({"join_at_after": "tomorrow"}, "join_at_after"),
        ({"meeting_id": "not-a-uuid"}, "meeting_id"),
    ],
)
def test_bad_filters_are_a_clear_400(acme, params, field):
    response = acme.client.get("/api/v1/bots/", params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_request_data"
    assert field in body["errors"]


def test_cursor_pagination(acme):
    bots = [BotFactory(project=acme.project, join_at=later(minutes=n)) for n in range(5)]
    seen, url = [], "/api/v1/bots/?page_size=2"
    while url:
        body = acme.client.get(url).json()
        assert set(body) == {"next", "previous", "results"}
        seen += [item["id"] for item in body["results"]]
        url = body["next"]
    assert seen == [str(b.pk) for b in bots]


def test_other_projects_bots_are_invisible(acme, globex):
    mine = shared_bot(acme.project, users=["alice"])
    theirs = shared_bot(globex.project, users=["alice"])
    listed = acme.client.get("/api/v1/bots/", {"calendar_user_external_id": "alice"}).json()
    assert [item["id"] for item in listed["results"]] == [str(mine.pk)]
    response = acme.client.get(f"/api/v1/bots/{theirs.pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert acme.client.get(f"/api/v1/bots/{theirs.meetings.get().pk}/").status_code == 404


def test_authentication_is_required(anon, acme):
    bot = BotFactory(project=acme.project)
    for response in (
        anon.get("/api/v1/bots/"),
        anon.get(f"/api/v1/bots/{bot.pk}/"),
        anon.post(f"/api/v1/bots/{bot.pk}/status/", {"code": "done"}, format="json"),
        anon.post("/api/v1/bots/", {"calendar_event_id": str(bot.pk)}, format="json"),
        anon.delete(f"/api/v1/bots/{bot.pk}/"),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_writes_are_for_calendar_bots_only(acme):
    """Create and delete are Attendee's, for bots of calendar events
    (tests/server_api/test_attendee_compat.py); a bot made otherwise is not theirs to remove,
    and a bot is never edited through this route."""
    bot = BotFactory(project=acme.project)
    response = acme.client.delete(f"/api/v1/bots/{bot.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "bot_not_scheduled_by_api"
    bot.refresh_from_db()
    assert bot.status == Bot.Status.SCHEDULED
    response = acme.client.post("/api/v1/bots/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "calendar_event_id_required"
    assert acme.client.patch(f"/api/v1/bots/{bot.pk}/", {}, format="json").status_code == 405
    assert acme.client.put(f"/api/v1/bots/{bot.pk}/", {}, format="json").status_code == 405


def test_list_query_count_does_not_grow(acme, django_assert_num_queries):
    shared_bot(acme.project, users=["u0"])
    acme.client.get("/api/v1/bots/")  # the API key's last-use write happens once
    with CaptureQueriesContext(connection) as one_bot:
        assert len(acme.client.get("/api/v1/bots/").json()["results"]) == 1
    for n in range(1, 8):
        shared_bot(acme.project, users=[f"a{n}", f"b{n}", f"c{n}"])
    with django_assert_num_queries(len(one_bot.captured_queries)):
        assert len(acme.client.get("/api/v1/bots/").json()["results"]) == 8
    assert len(one_bot.captured_queries) <= 3  # API key, bots, meetings with users


def test_schema_documents_the_bots_api(acme):
    schema = acme.client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert {"/api/v1/bots/", "/api/v1/bots/{id}/", "/api/v1/bots/{id}/status/"} <= set(paths)
    parameters = {p["name"] for p in paths["/api/v1/bots/"]["get"]["parameters"]}
    assert {
        "status",
        "join_at_after",
        "join_at_before",
        "calendar_user_external_id",
        "meeting_id",
        "cursor",
    } <= parameters

"""Server API calendars: create, list, retrieve, patch, delete; secrets never leave."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bots.models import Bot
from calendars.models import Calendar, CalendarUser
from meetings.models import Meeting
from tests.factories import BotFactory, CalendarFactory, MeetingFactory

FIELDS = {
    "id",
    "platform",
    "client_id",
    "platform_uuid",
    "state",
    "metadata",
    "deduplication_key",
    "connection_failure_data",
    "created_at",
    "updated_at",
    "last_successful_sync_at",
    "last_attempted_sync_at",
    "email",
    "calendar_user",
}
BODY = {
    "platform": "google",
    "client_id": "123-abc.apps.googleusercontent.com",
    "client_secret": "s3cret-value",
    "refresh_token": "1//refresh-value",
}


def create(tenant, **fields):
    return tenant.client.post("/api/v1/calendars/", {**BODY, **fields}, format="json")


def assert_no_secrets(response):
    text = response.content.decode()
    assert "s3cret" not in text and "1//refresh" not in text and "new-secret" not in text


def test_create_returns_connecting_calendar(acme, django_capture_on_commit_callbacks):
    with (
        mock.patch("calendars.sync.due.enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = create(
            acme,
            platform_uuid="team@group.calendar.google.com",
            metadata={"team": "sales"},
            deduplication_key="user-abcd",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == FIELDS
    assert body["state"] == "connecting"
    assert body["platform_uuid"] == "team@group.calendar.google.com"
    assert body["client_id"] == BODY["client_id"]
    assert body["metadata"] == {"team": "sales"}
    assert body["calendar_user"] is None
    assert_no_secrets(response)
    calendar = Calendar.objects.get(pk=body["id"])
    assert calendar.oauth_client_secret == "s3cret-value"
    assert calendar.refresh_token == "1//refresh-value"
    enqueue.assert_called_once_with("calendars.jobs.sync_calendar", calendar.pk)


def test_create_attaches_calendar_user(acme):
    body = create(acme, external_id="user-7").json()
    assert body["calendar_user"]["external_id"] == "user-7"
    assert CalendarUser.objects.get(project=acme.project, external_id="user-7")


def test_create_second_calendar_for_user_same_platform_conflicts(acme):
    create(acme, external_id="user-7")
    response = create(acme, external_id="user-7")
    assert response.status_code == 409
    assert response.json()["code"] == "calendar_user_platform_taken"
    assert Calendar.objects.count() == 1


def test_duplicate_deduplication_key_is_400_with_field_and_existing_id(acme, globex):
    first = create(acme, deduplication_key="k1").json()
    response = create(acme, deduplication_key="k1", external_id="new-user")
    # 400 naming the field, as Attendee answers; our code and the other calendar's id too.
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "deduplication_key_conflict"
    assert body["errors"]["deduplication_key"] == [
        "A calendar with this deduplication key already exists in this project."
    ]
    assert body["errors"]["existing_id"] == first["id"]
    assert first["id"] in body["message"]
    # No partial state: the calendar user of the refused request was not created.
    assert not CalendarUser.objects.filter(external_id="new-user").exists()
    # Another project may use the same key.
    assert create(globex, deduplication_key="k1").status_code == 201


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"unknown": 1}, "unknown"),
        ({"platform": "yahoo"}, "platform"),
        ({"client_secret": ""}, "client_secret"),
        ({"metadata": [1, 2]}, "metadata"),
        ({"metadata": {"x": "y" * 9000}}, "metadata"),
        ({"state": "connected"}, "state"),
    ],
)
def test_create_rejects_bad_input(acme, fields, field):
    response = create(acme, **fields)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_request_data"
    assert field in body["errors"]
    assert Calendar.objects.count() == 0


def test_missing_fields(acme):
    response = acme.client.post("/api/v1/calendars/", {"platform": "google"}, format="json")
    assert response.status_code == 400
    assert {"client_id", "client_secret", "refresh_token"} <= set(response.json()["errors"])


def test_list_filters_and_pagination(acme, globex):
    user = CalendarFactory(project=acme.project, calendar_user__external_id="u1")
    standalone = CalendarFactory(
        project=acme.project,
        calendar_user=None,
        platform="microsoft",
        state="disconnected",
        deduplication_key="dk",
    )
    CalendarFactory(project=globex.project)

    def ids(query=""):
        response = acme.client.get(f"/api/v1/calendars/?{query}")
        assert response.status_code == 200, response.json()
        return [c["id"] for c in response.json()["results"]]

    assert set(ids()) == {str(user.pk), str(standalone.pk)}
    assert ids("state=disconnected") == [str(standalone.pk)]
    assert ids("platform=google") == [str(user.pk)]
    assert ids("deduplication_key=dk") == [str(standalone.pk)]
    assert ids("external_id=u1") == [str(user.pk)]
    future = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"created_at_gte={future}") == []
    assert len(ids(f"created_at_lte={future}")) == 2
    assert acme.client.get("/api/v1/calendars/?state=bogus").json()["code"] == (
        "invalid_request_data"
    )
    page = acme.client.get("/api/v1/calendars/?page_size=1").json()
    assert set(page) == {"next", "previous", "results"} and len(page["results"]) == 1
    second = acme.client.get(page["next"]).json()
    assert len(second["results"]) == 1 and second["results"][0]["id"] != page["results"][0]["id"]


def test_other_projects_calendar_is_404_everywhere(acme, globex):
    theirs = CalendarFactory(project=globex.project)
    base = f"/api/v1/calendars/{theirs.pk}/"
    assert acme.client.get(base).status_code == 404
    assert acme.client.patch(base, {"metadata": {}}, format="json").status_code == 404
    assert acme.client.delete(base).status_code == 404
    assert acme.client.post(base + "sync/").status_code == 404
    assert acme.client.get(f"/api/v1/calendar_events/?calendar_id={theirs.pk}").status_code == 404
    assert Calendar.objects.filter(pk=theirs.pk).exists()


def test_requires_api_key(anon):
    assert anon.get("/api/v1/calendars/").status_code == 401


def test_patch_metadata_only_keeps_sync_state(acme):
    calendar = CalendarFactory(project=acme.project, calendar_user=None, sync_cursor="tok")
    response = acme.client.patch(
        f"/api/v1/calendars/{calendar.pk}", {"metadata": {"a": 1}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["metadata"] == {"a": 1}
    assert response.json()["state"] == "connected"
    calendar.refresh_from_db()
    assert calendar.sync_cursor == "tok"


def test_patch_credentials_unschedules_swaps_and_resyncs(acme, django_capture_on_commit_callbacks):
    calendar = CalendarFactory(
        project=acme.project,
        calendar_user=None,
        oauth_client_id="cid",
        oauth_client_secret="old",
        sync_cursor="tok",
        state="disconnected",
    )
    meeting = MeetingFactory(calendar=calendar)
    bot = BotFactory(project=acme.project)
    bot.meetings.add(meeting)
    with (
        mock.patch("calendars.sync.due.enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = acme.client.patch(
            f"/api/v1/calendars/{calendar.pk}/",
            {"client_secret": "new-secret", "refresh_token": "1//05NewRefreshTokenHere"},
            format="json",
        )
    assert response.status_code == 200
    assert response.json()["state"] == "connecting"
    assert_no_secrets(response)
    calendar.refresh_from_db()
    assert (calendar.oauth_client_secret, calendar.refresh_token) == (
        "new-secret",
        "1//05NewRefreshTokenHere",
    )
    assert calendar.sync_cursor == ""
    assert calendar.connection_failure_data is None
    bot.refresh_from_db()
    assert bot.status == Bot.Status.CANCELLED
    enqueue.assert_called_once_with("calendars.jobs.sync_calendar", calendar.pk)


def test_patch_rejects_other_fields(acme):
    calendar = CalendarFactory(project=acme.project, calendar_user=None)
    response = acme.client.patch(
        f"/api/v1/calendars/{calendar.pk}/", {"platform": "microsoft"}, format="json"
    )
    assert response.status_code == 400
    assert "platform" in response.json()["errors"]


def test_delete_removes_calendar_meetings_and_bots(acme):
    calendar = CalendarFactory(project=acme.project, calendar_user=None)
    meeting = MeetingFactory(calendar=calendar)
    bot = BotFactory(project=acme.project)
    bot.meetings.add(meeting)
    url = f"/api/v1/calendars/{calendar.pk}/"
    assert acme.client.delete(url).status_code == 204
    assert acme.client.get(url).status_code == 404
    assert acme.client.delete(url).status_code == 404
    assert not Meeting.objects.filter(pk=meeting.pk).exists()
    bot.refresh_from_db()
    assert bot.status == Bot.Status.CANCELLED


def test_list_query_count_is_constant(acme):
    for n in range(3):
        CalendarFactory(project=acme.project, calendar_user__external_id=f"u{n}")
    acme.client.get("/api/v1/calendars/")  # the API key's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        acme.client.get("/api/v1/calendars/")
    for n in range(3, 20):
        CalendarFactory(project=acme.project, calendar_user__external_id=f"u{n}")
    with CaptureQueriesContext(connection) as many:
        assert len(acme.client.get("/api/v1/calendars/").json()["results"]) == 20
    assert len(many) == len(few)

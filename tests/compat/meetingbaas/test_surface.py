"""The Meeting BaaS v1 surface's edges: authentication, errors that are never HTML, tenant
isolation, strict validation (nothing stored on a 400), how our objects read in Meeting BaaS'
words, and that it is the server API's services behind both surfaces."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from bots.params import PORTABLE_KEYS
from calendars import meeting_services, services
from calendars.meetingbaas_v1.serializers import (
    MeetingBaasBotParam2Serializer,
    MeetingBaasBotParam3Serializer,
)
from calendars.models import Calendar
from meetings.models import BotSchedule, Meeting
from projects.models import ApiKey
from tests.config.test_bad_input import TAMPERED_CURSORS
from tests.config.test_errors import assert_envelope
from tests.factories import CalendarFactory, MeetingFactory

from .contract import BASE_URL, component, validate

CREDENTIALS = {
    "oauth_client_id": "client-id",
    "oauth_client_secret": "client-secret",
    "oauth_refresh_token": "1//refresh",
    "platform": "Google",
}


@pytest.fixture
def calendar(acme):
    return CalendarFactory(project=acme.project, calendar_user=None, oauth_client_id="client-id")


def attendee(email, name) -> dict:
    """An attendee as sync stores it."""
    return {"email": email, "name": name, "is_organizer": False, "status": "accepted"}


@pytest.fixture
def event(calendar):
    return MeetingFactory(calendar=calendar, attendees=[attendee("lee@globex.com", "Lee")])


def url(path: str) -> str:
    return BASE_URL + path


# --- authentication ----------------------------------------------------------------------------


def test_no_key_is_401_in_the_envelope(anon, db):
    response = anon.get(url("/calendars/"))
    assert_envelope(response, 401, "not_authenticated")
    assert "x-meeting-baas-api-key" in response["WWW-Authenticate"]


@pytest.mark.parametrize("key", ["csk_not-a-key", "  ", "Token abc"])
def test_a_bad_key_is_401(anon, acme, key):
    response = anon.get(url("/calendars/"), HTTP_X_MEETING_BAAS_API_KEY=key)
    assert_envelope(response, 401, "authentication_failed")


def test_a_revoked_key_is_401(anon, acme):
    ApiKey.objects.filter(pk=acme.api_key.pk).update(revoked_at=timezone.now())
    response = anon.get(url("/calendars/"), HTTP_X_MEETING_BAAS_API_KEY=acme.raw_key)
    assert_envelope(response, 401, "authentication_failed")


def test_our_authorization_header_works_too(acme, calendar):
    response = acme.client.get(url("/calendars/"))
    assert response.status_code == 200
    assert [item["uuid"] for item in response.json()] == [str(calendar.pk)]


def test_the_meeting_baas_header_names_the_project(anon, acme, globex, calendar):
    # Both headers: the Meeting BaaS one decides.
    anon.credentials(HTTP_AUTHORIZATION=f"Token {acme.raw_key}")
    response = anon.get(url("/calendars/"), HTTP_X_MEETING_BAAS_API_KEY=globex.raw_key)
    assert response.json() == []


# --- errors are never HTML ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/bots/", 404, "not_found"),
        ("get", "/calendars/not-a-uuid", 404, "not_found"),
        ("get", "/nothing/here/", 404, "not_found"),
        ("put", "/calendars/{calendar}", 405, "method_not_allowed"),
        ("get", "/calendars/raw", 405, "method_not_allowed"),
        ("get", "/calendar_events/{event}/bot", 405, "method_not_allowed"),
    ],
)
def test_errors_are_the_json_envelope(mb, calendar, event, method, path, status, code):
    path = path.format(calendar=calendar.pk, event=event.pk)
    response = getattr(mb.api, method)(url(path), HTTP_X_MEETING_BAAS_API_KEY=mb.api_key)
    assert_envelope(response, status, code)


def test_a_body_that_is_not_json_is_400(mb, db):
    response = mb.api.post(
        url("/calendars/"),
        "{not json",
        content_type="application/json",
        HTTP_X_MEETING_BAAS_API_KEY=mb.api_key,
    )
    assert_envelope(response, 400, "parse_error")


# --- tenant isolation --------------------------------------------------------------------------


def test_another_projects_key_sees_nothing(mb_globex, acme, calendar, event):
    assert mb_globex.call("list_calendars") == []
    for operation, uuid in (("get_calendar", calendar.pk), ("get_event", event.pk)):
        assert_envelope(mb_globex.request(operation, uuid=uuid), 404, "not_found")
    assert_envelope(
        mb_globex.request("list_events", query={"calendar_id": calendar.pk}), 404, "not_found"
    )
    assert_envelope(
        mb_globex.request("update_calendar", uuid=calendar.pk, body=CREDENTIALS), 404, "not_found"
    )
    assert_envelope(mb_globex.request("delete_calendar", uuid=calendar.pk), 404, "not_found")
    for operation, body in (
        ("schedule_record_event", {"bot_name": "Spy", "extra": None}),
        ("patch_bot", {"bot_name": "Spy"}),
        ("unschedule_record_event", None),
    ):
        response = mb_globex.request(operation, uuid=event.pk, body=body)
        assert_envelope(response, 404, "not_found")
    assert mb_globex.call("resync_all") == {"synced_calendars": [], "errors": []}
    # Acme's objects are as they were.
    calendar.refresh_from_db()
    assert calendar.refresh_token.startswith("1//refresh-token-")
    assert not BotSchedule.objects.exists()
    assert Meeting.objects.filter(pk=event.pk).exists()


# --- strict validation: a 400 with a code, nothing stored --------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CREDENTIALS, "platform": "google"}, "platform"),
        ({**CREDENTIALS, "platform": "Zoom"}, "platform"),
        (
            {k: v for k, v in CREDENTIALS.items() if k != "oauth_refresh_token"},
            "oauth_refresh_token",
        ),
        ({**CREDENTIALS, "oauth_client_id": ""}, "oauth_client_id"),
        ({**CREDENTIALS, "refresh_token": "1//x"}, "refresh_token"),  # unknown (ours) field
        ({**CREDENTIALS, "raw_calendar_id": ["primary"]}, "raw_calendar_id"),
    ],
)
def test_create_refuses_bad_input_and_stores_nothing(acme, body, field):
    response = APIClient().post(
        url("/calendars/"), body, format="json", HTTP_X_MEETING_BAAS_API_KEY=acme.raw_key
    )
    body = assert_envelope(response, 400, "invalid_request_data")
    assert field in body["errors"]
    assert not Calendar.objects.exists()


def test_unknown_fields_are_named(mb, db):
    response = mb.api.post(
        url("/calendars/raw"),
        {**CREDENTIALS, "colour": "red"},
        format="json",
        HTTP_X_MEETING_BAAS_API_KEY=mb.api_key,
    )
    body = assert_envelope(response, 400, "invalid_request_data")
    assert body["errors"] == {"colour": ["Unknown field."]}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "calendar_id"),
        ({"calendar_id": "not-a-uuid"}, "calendar_id"),
        ({"calendar_id": "{calendar}", "status": "soon"}, "status"),
        ({"calendar_id": "{calendar}", "start_date_gte": "yesterday"}, "start_date_gte"),
        ({"calendar_id": "{calendar}", "limit": "10"}, "limit"),
    ],
)
def test_list_events_refuses_bad_queries(mb, calendar, query, field):
    query = {key: value.format(calendar=calendar.pk) for key, value in query.items()}
    response = mb.request("list_events", query=query)
    assert field in assert_envelope(response, 400, "invalid_request_data")["errors"]


@pytest.mark.parametrize("tampered", TAMPERED_CURSORS.values(), ids=TAMPERED_CURSORS.keys())
def test_a_cursor_we_did_not_make_is_400(mb, calendar, event, tampered):
    response = mb.request("list_events", query={"calendar_id": calendar.pk, "cursor": tampered})
    assert_envelope(response, 400, "invalid_cursor")


@pytest.mark.parametrize(
    "body",
    [
        {"extra": {}},  # no bot_name
        {"bot_name": "B", "bot_nmae": "x"},
        {"bot_name": "B", "bot_config": {}},  # the server API's field, not Meeting BaaS'
        {"bot_name": "B", "recording_mode": "full_hd"},
        {"bot_name": "B", "speech_to_text": "Whisper"},
        {"bot_name": "B", "speech_to_text": {"api_key": "k"}},
        {"bot_name": "B", "webhook_url": "ftp://hooks.acme.com/"},
        {"bot_name": "B", "streaming_input": "https://not-a-websocket.acme.com/"},
        {"bot_name": "B", "noone_joined_timeout": 10**7},
        {"bot_name": "B", "noone_joined_timeout": "soon"},
        {"bot_name": "B", "bot_image": {"type": "image/png", "data": "iVBORw0"}},
        {"bot_name": "B", "extra": "not an object"},
        {"bot_name": "B", "streaming_audio_frequency": "48khz"},
    ],
)
def test_schedule_refuses_bad_bot_params_and_stores_nothing(mb, event, body):
    response = mb.api.post(
        url(f"/calendar_events/{event.pk}/bot"),
        body,
        format="json",
        HTTP_X_MEETING_BAAS_API_KEY=mb.api_key,
    )
    assert_envelope(response, 400, "invalid_request_data")
    assert not BotSchedule.objects.exists()


def test_schedule_takes_a_body_without_extra(mb, event):
    # Meeting BaaS requires `extra`; we do not (a client that leaves it out still works).
    response = mb.api.post(
        url(f"/calendar_events/{event.pk}/bot"),
        {"bot_name": "B"},
        format="json",
        HTTP_X_MEETING_BAAS_API_KEY=mb.api_key,
    )
    assert response.status_code == 200
    [body] = response.json()
    validate(component("Event"), body)
    assert body["bot_param"]["extra"] is None and body["bot_param"]["webhook_url"] == ""


def test_schedule_errors_of_the_core(mb, calendar):
    past = MeetingFactory(
        calendar=calendar, start_time=timezone.now() - timezone.timedelta(hours=2)
    )
    past.end_time = past.start_time + timezone.timedelta(minutes=30)
    past.save()
    no_link = MeetingFactory(calendar=calendar, meeting_url=None)
    for meeting, code in ((past, "event_ended"), (no_link, "event_has_no_meeting_url")):
        response = mb.request(
            "schedule_record_event", uuid=meeting.pk, body={"bot_name": "B", "extra": None}
        )
        assert_envelope(response, 400, code)
    response = mb.request("patch_bot", uuid=no_link.pk, body={"bot_name": "B"})
    assert_envelope(response, 400, "bot_not_scheduled")


def test_a_taken_deduplication_key_is_refused(mb, calendar):
    first, second = MeetingFactory(calendar=calendar), MeetingFactory(calendar=calendar)
    body = {"bot_name": "B", "extra": None, "deduplication_key": "dana-1"}
    mb.call("schedule_record_event", uuid=first.pk, body=body)
    response = mb.request("schedule_record_event", uuid=second.pk, body=body)
    # The core's answer (its status is the core's: 409, or 400 naming the field as Attendee).
    assert response.status_code in (400, 409)
    assert_envelope(response, response.status_code, "deduplication_key_conflict")
    assert BotSchedule.objects.count() == 1


@pytest.mark.parametrize("days", ["0", "366", "week"])
def test_resync_all_refuses_bad_days(mb, db, days):
    response = mb.request("resync_all", query={"days": days})
    assert "days" in assert_envelope(response, 400, "invalid_request_data")["errors"]


def test_patch_refuses_another_platform_and_changes_nothing(mb, calendar):
    response = mb.request(
        "update_calendar",
        uuid=calendar.pk,
        body={**CREDENTIALS, "platform": "Microsoft", "oauth_refresh_token": "1//new"},
    )
    body = assert_envelope(response, 400, "platform_change_unsupported")
    assert "platform" in body["errors"]
    stored = Calendar.objects.get(pk=calendar.pk)
    assert (stored.platform, stored.refresh_token, stored.state) == (
        "google",
        calendar.refresh_token,
        Calendar.State.CONNECTED,
    )


def test_patch_with_the_same_credentials_changes_nothing(mb, acme):
    calendar = CalendarFactory(
        project=acme.project,
        calendar_user=None,
        oauth_client_id=CREDENTIALS["oauth_client_id"],
        oauth_client_secret=CREDENTIALS["oauth_client_secret"],
        refresh_token=CREDENTIALS["oauth_refresh_token"],
    )
    body = mb.call("update_calendar", uuid=calendar.pk, body=CREDENTIALS)
    assert body["calendar"]["uuid"] == str(calendar.pk)
    assert Calendar.objects.get(pk=calendar.pk).state == Calendar.State.CONNECTED


def test_patch_needs_the_whole_body(mb, calendar):
    # Not through the client: it would refuse to send a body its schema refuses.
    response = mb.api.patch(
        url(f"/calendars/{calendar.pk}"),
        {"oauth_refresh_token": "1//new"},
        format="json",
        HTTP_X_MEETING_BAAS_API_KEY=mb.api_key,
    )
    errors = assert_envelope(response, 400, "invalid_request_data")["errors"]
    assert {"oauth_client_id", "oauth_client_secret", "platform"} <= set(errors)
    assert Calendar.objects.get(pk=calendar.pk).refresh_token == calendar.refresh_token


# --- our objects in Meeting BaaS' words ----------------------------------------------------------


def test_calendar_ids_and_names(mb, acme):
    primary_unknown = CalendarFactory(project=acme.project, email="", platform_calendar_id="")
    primary = CalendarFactory(project=acme.project, email="dana@acme.com", push_channel_id="ch-1")
    chosen = CalendarFactory(
        project=acme.project, email="dana@acme.com", platform_calendar_id="team@group.calendar"
    )
    read = {item["uuid"]: item for item in mb.call("list_calendars")}
    assert read[str(primary_unknown.pk)] | {"uuid": None} == {
        "uuid": None,
        "name": "primary",
        "email": "",
        "google_id": "primary",
        "resource_id": None,
    }
    assert read[str(primary.pk)]["google_id"] == "dana@acme.com"
    assert read[str(primary.pk)]["resource_id"] == "ch-1"
    assert read[str(chosen.pk)]["google_id"] == "team@group.calendar"
    assert read[str(chosen.pk)]["name"] == "dana@acme.com"


def test_event_fields(mb, calendar):
    meeting = MeetingFactory(
        calendar=calendar,
        meeting_url=None,
        attendees=[attendee(None, "Room 4"), attendee("lee@globex.com", "")],
        series_id="series-1",
        is_recurring=True,
        raw={"id": "abc", "summary": "Weekly sync"},
    )
    body = mb.call("get_event", uuid=meeting.pk)
    assert body["meeting_url"] == ""
    assert body["attendees"] == [{"email": "lee@globex.com", "name": None}]
    assert body["recurring_event_id"] == "series-1"
    assert body["google_id"] == meeting.platform_event_id
    assert body["raw"] == {"id": "abc", "summary": "Weekly sync"}
    assert body["bot_param"] is None


def test_a_bot_scheduled_through_the_server_api_reads_as_a_bot_param(acme, mb, event):
    config = {
        "recording_mode": "gallery_view",
        "speech_to_text": "Default",
        "bot_image": {"type": "image/png", "data": "iVBORw0KGgo="},  # Attendee's own form
        "transcription_settings": {"deepgram": {"language": "en"}},  # backend-specific
    }
    acme.project.bot_dispatch_backend = "attendee"
    acme.project.save(update_fields=["bot_dispatch_backend"])
    response = acme.client.post(
        f"/api/v1/calendar_events/{event.pk}/bot/",
        {"bot_name": "Server", "bot_config": config},
        format="json",
    )
    assert response.status_code == 200, response.content
    bot_param = mb.call("get_event", uuid=event.pk)["bot_param"]
    assert bot_param["bot_name"] == "Server"
    assert bot_param["recording_mode"] == "gallery_view"
    assert (bot_param["speech_to_text_provider"], bot_param["speech_to_text_api_key"]) == (
        "Default",
        None,
    )
    assert bot_param["bot_image"] is None  # Meeting BaaS' form holds a URL only
    assert "transcription_settings" not in bot_param


def test_settings_stored_before_they_were_checked_read_as_null(mb, event):
    BotSchedule.objects.create(
        project=event.project,
        calendar=event.calendar,
        meeting=event,
        bot_name="Old",
        bot_config={"noone_joined_timeout": "soon", "recording_mode": 4, "enter_message": 1},
    )
    bot_param = mb.call("get_event", uuid=event.pk)["bot_param"]
    assert bot_param["bot_name"] == "Old"
    assert [bot_param[k] for k in ("noone_joined_timeout", "recording_mode", "enter_message")] == [
        None,
        None,
        None,
    ]


def test_patch_bot_keeps_what_is_not_sent(mb, event):
    mb.call(
        "schedule_record_event",
        uuid=event.pk,
        body={"bot_name": "B", "extra": {"a": 1}, "recording_mode": "audio_only"},
    )
    [body] = mb.call("patch_bot", uuid=event.pk, body={"extra": None, "enter_message": "Hi"})
    assert body["bot_param"]["bot_name"] == "B"
    assert body["bot_param"]["extra"] == {"a": 1}
    assert body["bot_param"]["recording_mode"] == "audio_only"
    assert body["bot_param"]["enter_message"] == "Hi"
    [body] = mb.call("patch_bot", uuid=event.pk, body={"deduplication_key": "k-1"})
    assert body["bot_param"]["deduplication_key"] == "k-1"
    assert BotSchedule.objects.get().bot_config == {
        "extra": {"a": 1},
        "recording_mode": "audio_only",
        "enter_message": "Hi",
    }


def test_the_wire_takes_every_portable_bot_setting():
    """BotParam2/3 take bot_name, deduplication_key and exactly the portable settings
    (bots/params.py), so nothing on this surface is missing from the core or unknown to it."""
    for serializer in (MeetingBaasBotParam2Serializer, MeetingBaasBotParam3Serializer):
        assert set(serializer().fields) == {"bot_name", "deduplication_key", *PORTABLE_KEYS}


# --- the same services behind both surfaces ----------------------------------------------------


def spy(monkeypatch, module, name) -> list:
    calls = []
    real = getattr(module, name)

    def wrapper(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def test_both_surfaces_call_the_same_services(acme, mb, monkeypatch, calendar):
    created = spy(monkeypatch, services, "calendar_create")
    scheduled = spy(monkeypatch, meeting_services, "meeting_schedule_bot")
    deleted = spy(monkeypatch, services, "calendar_delete")

    server = acme.client.post(
        "/api/v1/calendars/",
        {"platform": "google", "client_id": "c", "client_secret": "s", "refresh_token": "r"},
        format="json",
    )
    assert server.status_code == 201
    mb.call("create_calendar", body=CREDENTIALS)
    assert [call["platform"] for call in created] == ["google", "google"]
    assert [call["client_id"] for call in created] == ["c", "client-id"]

    first, second = MeetingFactory(calendar=calendar), MeetingFactory(calendar=calendar)
    response = acme.client.post(
        f"/api/v1/calendar_events/{first.pk}/bot/",
        {"bot_name": "B", "bot_config": {"recording_mode": "audio_only"}},
        format="json",
    )
    assert response.status_code == 200
    mb.call(
        "schedule_record_event",
        uuid=second.pk,
        body={"bot_name": "B", "extra": None, "recording_mode": "audio_only"},
    )
    assert [(call["meeting"].pk, call["bot_config"]) for call in scheduled] == [
        (first.pk, {"recording_mode": "audio_only"}),
        (second.pk, {"extra": None, "recording_mode": "audio_only"}),
    ]

    assert acme.client.delete(f"/api/v1/calendars/{server.json()['id']}/").status_code == 204
    mb.call("delete_calendar", uuid=calendar.pk)
    assert [str(call["calendar"].pk) for call in deleted] == [
        server.json()["id"],
        str(calendar.pk),
    ]

"""`GET /api/v1/calendar_events/{id}/decision/` (API key) and
`GET /api/v1/calendar/meetings/{id}/decision/` (calendar token): the decision step by step and
the bot, from the same code reconciliation decides with; tenant isolation; bounded queries."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from bots.models import Bot
from bots.reconcile import reconcile_meetings
from meetings.models import AutoJoinRule, BotSchedule
from tests.calendars.conftest import token_client
from tests.factories import CalendarFactory, MeetingFactory

STEP_NAMES = [
    "calendar",
    "join_link",
    "all_day",
    "deleted",
    "cancelled",
    "ended",
    "override",
    "api_schedule",
    "calendar_user",
    "rules",
    "preferences",
    "decision",
]


def server_url(meeting) -> str:
    return f"/api/v1/calendar_events/{meeting.pk}/decision/"


def v1_url(meeting) -> str:
    return f"/api/v1/calendar/meetings/{meeting.pk}/decision/"


@pytest.fixture
def calendar(acme):
    calendar = CalendarFactory(project=acme.project, email="alice@acme.com")
    calendar.calendar_user.record_external = True
    calendar.calendar_user.save()
    return calendar


def zoom_meeting(calendar, **fields):
    fields.setdefault("meeting_url", "https://zoom.us/j/81234567890")
    fields.setdefault("meeting_platform", "zoom")
    fields.setdefault("raw", {"id": "e1", "location": fields["meeting_url"]})
    return MeetingFactory(calendar=calendar, **fields)


def steps_of(body) -> dict:
    return {step["step"]: step for step in body["steps"]}


def test_a_meeting_without_bot_says_why(acme, calendar):
    meeting = zoom_meeting(calendar, is_external=False)
    reconcile_meetings(meeting_ids=[meeting.pk])
    response = acme.client.get(server_url(meeting))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "meeting_id",
        "will_record",
        "will_record_reason",
        "code",
        "steps",
        "bot",
    }
    assert body["meeting_id"] == str(meeting.pk)
    assert body["will_record"] is False
    assert body["code"] == "not_external"
    meeting.refresh_from_db()
    assert body["will_record_reason"] == meeting.will_record_reason
    assert [s["step"] for s in body["steps"]] == STEP_NAMES
    steps = steps_of(body)
    assert steps["join_link"]["detail"] == (
        "Zoom link https://zoom.us/j/81234567890 (found in the event's location)"
    )
    assert steps["preferences"]["outcome"] == "decided"
    assert "record_external decided" in steps["preferences"]["detail"]
    assert steps["decision"]["detail"] == body["will_record_reason"]
    assert body["bot"] is None


def test_a_recorded_meeting_shows_its_bot_and_status_history(acme, calendar):
    meeting = zoom_meeting(calendar, is_external=True)
    reconcile_meetings(meeting_ids=[meeting.pk])
    bot = Bot.objects.get(meetings=meeting)
    body = acme.client.get(server_url(meeting)).json()
    assert body["will_record"] is True and body["code"] == "preferences"
    assert body["bot"]["id"] == str(bot.pk)
    assert body["bot"]["status"] == "scheduled"
    assert body["bot"]["status_changes"][0]["code"] == "scheduled"
    assert set(body["bot"]) == {"id", "status", "join_at", "status_changes"}


def test_the_rule_and_the_api_schedule_are_named(acme, calendar):
    rule = AutoJoinRule.objects.create(
        project=acme.project,
        calendar_user=calendar.calendar_user,
        name="Skip stand-ups",
        action="skip",
        match_mode="keyword",
        keywords=["standup"],
    )
    meeting = zoom_meeting(calendar, is_external=True, title="Daily standup")
    body = acme.client.get(server_url(meeting)).json()
    assert body["code"] == "rule_skip"
    assert f'rule:{rule.pk} "Skip stand-ups"' in steps_of(body)["rules"]["detail"]
    assert steps_of(body)["preferences"]["outcome"] == "skipped"

    BotSchedule.objects.create(project=acme.project, calendar=calendar, meeting=meeting)
    body = acme.client.get(server_url(meeting)).json()
    assert body["code"] == "scheduled_by_api"
    assert steps_of(body)["api_schedule"]["outcome"] == "decided"
    assert steps_of(body)["rules"]["outcome"] == "skipped"


def test_a_calendar_without_calendar_user(acme):
    calendar = CalendarFactory(project=acme.project, calendar_user=None)
    meeting = zoom_meeting(calendar, raw=[])  # a payload that is not an object: no source
    body = acme.client.get(server_url(meeting)).json()
    assert body["code"] == "no_calendar_user"
    assert steps_of(body)["calendar_user"]["outcome"] == "decided"
    assert steps_of(body)["join_link"]["detail"] == "Zoom link https://zoom.us/j/81234567890"


def test_a_change_not_reconciled_yet_already_shows(acme, calendar):
    meeting = zoom_meeting(calendar, is_external=True)
    reconcile_meetings(meeting_ids=[meeting.pk])
    meeting.__class__.objects.filter(pk=meeting.pk).update(
        end_time=timezone.now() - timedelta(minutes=1),
        start_time=timezone.now() - timedelta(hours=1),
    )
    body = acme.client.get(server_url(meeting)).json()
    assert body["code"] == "ended"
    assert steps_of(body)["ended"]["outcome"] == "fail"


def test_the_v1_surface_answers_for_the_token_user_only(acme, calendar):
    meeting = zoom_meeting(calendar, is_external=False)
    client = token_client(calendar.calendar_user)
    body = client.get(v1_url(meeting)).json()
    assert body["meeting_id"] == str(meeting.pk)
    assert body["code"] == "not_external"
    assert client.get(v1_url(meeting).rstrip("/")).status_code == 200
    # Another user of the same project: not theirs.
    other = CalendarFactory(project=acme.project)
    assert token_client(other.calendar_user).get(v1_url(meeting)).status_code == 404
    # A deleted meeting is gone from V1, as from its meetings list.
    meeting.__class__.objects.filter(pk=meeting.pk).update(is_deleted=True)
    assert client.get(v1_url(meeting)).status_code == 404


def test_tenant_isolation(acme, globex, calendar):
    meeting = zoom_meeting(calendar)
    response = globex.client.get(server_url(meeting))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert globex.client.get(f"/api/v1/calendar_events/{uuid.uuid4()}/decision/").status_code == 404
    globex_calendar = CalendarFactory(project=globex.project)
    assert token_client(globex_calendar.calendar_user).get(v1_url(meeting)).status_code == 404
    assert acme.client.get(v1_url(meeting)).status_code in (401, 403)  # an API key is no token


def test_the_calendar_token_is_required(anon, calendar):
    meeting = zoom_meeting(calendar)
    assert anon.get(server_url(meeting)).status_code in (401, 403)
    assert anon.get(v1_url(meeting)).status_code in (401, 403)


def test_queries_are_bounded(acme, calendar, django_assert_max_num_queries):
    meeting = zoom_meeting(calendar, is_external=True, series_id="series-1", is_recurring=True)
    reconcile_meetings(meeting_ids=[meeting.pk])
    bot = Bot.objects.get(meetings=meeting)
    for n in range(5):
        bot.set_status(Bot.Status.SCHEDULED, message=f"again {n}")
    bot.save()
    for n in range(5):
        AutoJoinRule.objects.create(
            project=acme.project,
            calendar_user=calendar.calendar_user,
            name=f"rule {n}",
            keywords=[f"word{n}"],
            match_mode="keyword",
        )
    with django_assert_max_num_queries(10):
        response = acme.client.get(server_url(meeting))
    assert response.status_code == 200
    assert len(response.json()["bot"]["status_changes"]) == 6


def test_answers_and_examples_match_the_openapi_schema(acme, calendar):
    import io
    import json

    import schemathesis
    from django.core.management import call_command

    from tests.test_schema import assert_documented

    out = io.StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    raw = json.loads(out.getvalue())
    schema = schemathesis.openapi.from_dict(raw)
    meeting = zoom_meeting(calendar, is_external=True)
    reconcile_meetings(meeting_ids=[meeting.pk])
    client = token_client(calendar.calendar_user)
    for path, url, caller in (
        ("/api/v1/calendar_events/{id}/decision/", server_url(meeting), acme.client),
        ("/api/v1/calendar/meetings/{meeting_id}/decision/", v1_url(meeting), client),
    ):
        response = caller.get(url)
        assert response.status_code == 200
        assert_documented(schema, path, "get", response)
        missing = caller.get(url.replace(str(meeting.pk), str(uuid.uuid4())))
        assert missing.status_code == 404
        assert_documented(schema, path, "get", missing)
        examples = raw["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert len(examples["examples"]) == 2
        for example in examples["examples"].values():
            assert [s["step"] for s in example["value"]["steps"]] == STEP_NAMES

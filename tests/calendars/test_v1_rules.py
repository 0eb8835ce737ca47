"""Auto-join rules on the calendar-token surface (`/api/v1/calendar/rules/`, calsync's extension
of Recall's V1): the token's user manages their own rules, and only theirs."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from bots.models import Bot
from calendars import tokens
from calendars.models import CalendarUser
from meetings.decisions import REASONS
from meetings.models import AutoJoinRule, Meeting
from tests.calendars.conftest import token_client
from tests.config.test_errors import assert_envelope
from tests.factories import CalendarFactory, MeetingFactory, WebhookEndpointFactory
from webhooks.models import WebhookDelivery

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
INTERVIEWS = {"name": "Interviews", "match_mode": "keyword", "keywords": ["interview"]}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: None)


@pytest.fixture
def bob(acme) -> CalendarUser:
    return CalendarUser.objects.create(project=acme.project, external_id="bob")


def test_the_token_user_manages_their_rules(alice, alice_client):
    created = alice_client.post("/api/v1/calendar/rules", INTERVIEWS, format="json")
    assert created.status_code == 201
    rule = created.json()
    assert (rule["calendar_user"], rule["keywords"]) == ("alice", ["interview"])
    assert AutoJoinRule.objects.get().calendar_user == alice

    for path in ("/api/v1/calendar/rules/", "/api/v1/calendar/rules"):
        assert [r["id"] for r in alice_client.get(path).json()] == [rule["id"]]
    one = f"/api/v1/calendar/rules/{rule['id']}"
    assert alice_client.get(one).json() == rule
    assert alice_client.get(f"{one}/").json() == rule
    patched = alice_client.patch(f"{one}/", {"whole_word": True}, format="json").json()
    assert (patched["whole_word"], patched["name"]) == (True, "Interviews")
    assert alice_client.delete(one).status_code == 204
    assert_envelope(alice_client.get(one), 404, "not_found")
    assert not AutoJoinRule.objects.exists()


def test_bearer_works_too(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.mint(alice)}")
    assert client.post("/api/v1/calendar/rules/", INTERVIEWS, format="json").status_code == 201


def test_a_token_only_reaches_its_users_rules(acme, globex, alice, alice_client, bob):
    bobs = AutoJoinRule.objects.create(project=acme.project, calendar_user=bob, name="Bob's")
    default = AutoJoinRule.objects.create(project=acme.project, name="Project default")
    carol = CalendarUser.objects.create(project=globex.project, external_id="alice")
    theirs = AutoJoinRule.objects.create(project=globex.project, calendar_user=carol, name="G")
    mine = alice_client.post("/api/v1/calendar/rules/", INTERVIEWS, format="json").json()

    assert [r["id"] for r in alice_client.get("/api/v1/calendar/rules/").json()] == [mine["id"]]
    for rule in (bobs, default, theirs):
        url = f"/api/v1/calendar/rules/{rule.pk}/"
        assert_envelope(alice_client.get(url), 404, "not_found")
        assert alice_client.patch(url, {"name": "mine"}, format="json").status_code == 404
        assert alice_client.delete(url).status_code == 404
        dry_run = alice_client.post(
            "/api/v1/calendar/rules/dry_run/", {"remove": str(rule.pk)}, format="json"
        )
        assert_envelope(dry_run, 404, "not_found")
        upsert = alice_client.post(
            "/api/v1/calendar/rules/dry_run/",
            {"upsert": {"id": str(rule.pk), "name": "x"}},
            format="json",
        )
        assert_envelope(upsert, 404, "not_found")
        rule.refresh_from_db()
        assert rule.name != "mine"
    # Bob's token sees Bob's rule only.
    assert [r["id"] for r in token_client(bob).get("/api/v1/calendar/rules/").json()] == [
        str(bobs.pk)
    ]


def test_an_api_key_or_no_token_is_refused(acme, alice):
    assert_envelope(acme.client.get("/api/v1/calendar/rules/"), 401, "not_authenticated")
    key_as_token = APIClient()
    key_as_token.credentials(HTTP_AUTHORIZATION=f"Bearer {acme.raw_key}")
    assert_envelope(key_as_token.get("/api/v1/calendar/rules/"), 401, "authentication_failed")
    anonymous = APIClient().post("/api/v1/calendar/rules/", INTERVIEWS, format="json")
    assert_envelope(anonymous, 401, "not_authenticated")
    assert not AutoJoinRule.objects.exists()


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"timezone": "Europe/Atlantis"}, "invalid_timezone", "timezone"),
        (
            {"time_window_start": "17:00", "time_window_end": "08:00"},
            "window_end_before_start",
            "time_window_end",
        ),
        ({"days_of_week": [-1]}, "unknown_weekday", "days_of_week"),
        ({"exclude_patterns": [r"(?<=x)y"]}, "regex_too_expensive", "exclude_patterns"),
        ({"colour": "red"}, "invalid_request_data", "colour"),
    ],
)
def test_refusals_have_codes_and_store_nothing(alice_client, fields, code, field):
    response = alice_client.post("/api/v1/calendar/rules/", {"name": "x", **fields}, format="json")
    assert field in assert_envelope(response, 400, code)["errors"]
    assert not AutoJoinRule.objects.exists()


def test_dry_run_then_create_changes_exactly_the_predicted_meetings(acme, alice, alice_client):
    alice.record_external = True
    alice.save()
    calendar = CalendarFactory(project=acme.project, calendar_user=alice)
    start = NOW + timedelta(days=1)
    internal = MeetingFactory(calendar=calendar, title="Interview debrief", start_time=start)
    other = MeetingFactory(
        calendar=calendar,
        title="Weekly sync",
        start_time=start + timedelta(hours=2),
        meeting_url="https://meet.google.com/xyz-wxyz-xyz",
    )
    WebhookEndpointFactory(project=acme.project, event_types=["bot.*"])
    # Stored decisions as reconciliation leaves them: internal meetings are not recorded.
    assert alice_client.post("/api/v1/calendar/rules/dry_run/", {}, format="json").json() == {
        "changes": [
            {
                "meeting_id": str(meeting.pk),
                "title": meeting.title,
                "start_time": meeting.start_time.isoformat().replace("+00:00", "Z"),
                "will_record_before": False,
                "will_record_after": False,
                "reason_before": "",
                "reason_after": REASONS["not_external"],
                "rule_id": None,
            }
            for meeting in (internal, other)
        ],
        "proposed_rule": None,
    }
    Meeting.objects.update(will_record_reason=REASONS["not_external"])

    with CaptureQueriesContext(connection) as queries:
        dry = alice_client.post(
            "/api/v1/calendar/rules/dry_run/", {"upsert": INTERVIEWS}, format="json"
        ).json()
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)
    assert not AutoJoinRule.objects.exists() and not Bot.objects.exists()
    flips = [c for c in dry["changes"] if c["will_record_after"] != c["will_record_before"]]
    assert [c["meeting_id"] for c in flips] == [str(internal.pk)]

    rule = alice_client.post("/api/v1/calendar/rules/", INTERVIEWS, format="json").json()
    internal.refresh_from_db()
    assert internal.will_record is True
    assert (
        internal.will_record_reason
        == f'Recorded: rule:{rule["id"]} "Interviews" joins this meeting.'
    )
    (bot,) = Bot.objects.all()
    assert list(bot.meetings.all()) == [internal]
    assert [d.event_type for d in WebhookDelivery.objects.all()] == ["bot.scheduled"]
    other.refresh_from_db()
    assert other.will_record is False
    assert {c["meeting_id"] for c in dry["changes"]} == {str(internal.pk), str(other.pk)}

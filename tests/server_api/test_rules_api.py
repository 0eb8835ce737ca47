"""Auto-join rules over the server API: a calendar user's rules
(`/api/v1/calendar_users/{external_id}/rules/`), the project's defaults (`/api/v1/project/rules/`)
and the dry run. The rules themselves are tested in tests/meetings/; here: the wire, strict
refusals that store nothing, tenant isolation, and rules created over the API changing which
synced meetings get bots exactly as the dry run said."""

import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from uuid import UUID

import pytest
import schemathesis
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bots.models import Bot
from calendars import providers
from calendars.models import Calendar, CalendarUser
from calendars.rule_services import MAX_RULES
from calendars.sync import sync_calendar_by_id
from meetings.models import AutoJoinRule, Meeting
from tests.calendars.scripted import ScriptedCalendar, ScriptedProvider, google_event
from tests.config.test_errors import assert_envelope
from tests.factories import (
    CalendarFactory,
    MeetingFactory,
    OAuthAppFactory,
    WebhookEndpointFactory,
)
from tests.test_schema import assert_documented
from webhooks.models import WebhookDelivery

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TOMORROW = NOW + timedelta(days=1)

INTERVIEWS = {
    "name": "Interviews",
    "match_mode": "keyword",
    "keywords": ["interview"],
    "bot_name": "Acme Interviewer",
}
NO_STANDUPS = {
    "name": "No standups",
    "action": "skip",
    "priority": 10,
    "match_mode": "keyword",
    "keywords": ["standup"],
}
RULE_KEYS = {
    "id",
    "calendar_user",
    "name",
    "is_enabled",
    "priority",
    "action",
    "bot_name",
    "bot_config",
    "calendar_provider",
    "match_mode",
    "keywords",
    "whole_word",
    "exclude_patterns",
    "organizer_emails",
    "attendee_emails",
    "min_attendees",
    "max_attendees",
    "audience",
    "recurring",
    "meeting_platforms",
    "days_of_week",
    "time_window_start",
    "time_window_end",
    "timezone",
    "created_at",
    "updated_at",
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: calls.append(args))
    return calls


def rules_url(external_id: str, suffix: str = "") -> str:
    return f"/api/v1/calendar_users/{quote(external_id, safe='')}/rules/{suffix}"


@pytest.fixture
def alice(acme) -> CalendarUser:
    return CalendarUser.objects.create(project=acme.project, external_id="alice")


# --- CRUD ---------------------------------------------------------------------------------------


def test_a_calendar_users_rules_crud(acme, alice):
    created = acme.client.post(
        rules_url("alice"),
        {
            **INTERVIEWS,
            "organizer_emails": [" Boss@ACME.com ", "@Globex.COM"],
            "days_of_week": [3, 0, 3],
            "time_window_start": "09:00",
            "time_window_end": "18:00",
            "timezone": "Europe/Berlin",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    rule = created.json()
    assert set(rule) == RULE_KEYS
    # Stored as the model normalises it; defaults for what was not sent.
    assert rule["calendar_user"] == "alice"
    assert rule["organizer_emails"] == ["boss@acme.com", "@globex.com"]
    assert rule["days_of_week"] == [0, 3]
    assert (rule["time_window_start"], rule["time_window_end"]) == ("09:00", "18:00")
    assert (rule["action"], rule["priority"], rule["is_enabled"]) == ("join", 0, True)
    assert (rule["audience"], rule["recurring"], rule["max_attendees"]) == ("any", None, None)

    skip = acme.client.post(rules_url("alice"), NO_STANDUPS, format="json").json()
    listed = acme.client.get(rules_url("alice")).json()
    assert [r["id"] for r in listed] == [skip["id"], rule["id"]]  # priority 10 is tried first

    one = rules_url("alice", f"{rule['id']}/")
    assert acme.client.get(one).json() == rule
    assert acme.client.get(one.rstrip("/")).json() == rule  # no trailing slash either

    patched = acme.client.patch(one, {"priority": 20, "is_enabled": False}, format="json")
    assert patched.status_code == 200
    body = patched.json()
    assert (body["priority"], body["is_enabled"], body["keywords"]) == (20, False, ["interview"])
    assert body["updated_at"] >= rule["updated_at"] and body["created_at"] == rule["created_at"]
    # What GET returned can be sent back as it is (read-only keys are ignored).
    assert acme.client.patch(one, body, format="json").json() == {
        **body,
        "updated_at": acme.client.get(one).json()["updated_at"],
    }

    assert acme.client.delete(one).status_code == 204
    assert acme.client.get(one).status_code == 404
    assert acme.client.delete(one).status_code == 404
    assert [r["id"] for r in acme.client.get(rules_url("alice")).json()] == [skip["id"]]


def test_project_defaults_are_their_own_list(acme, alice):
    default = acme.client.post("/api/v1/project/rules/", NO_STANDUPS, format="json")
    assert default.status_code == 201
    default = default.json()
    assert default["calendar_user"] is None
    own = acme.client.post(rules_url("alice"), INTERVIEWS, format="json").json()

    assert [r["id"] for r in acme.client.get("/api/v1/project/rules").json()] == [default["id"]]
    assert [r["id"] for r in acme.client.get(rules_url("alice")).json()] == [own["id"]]
    # Each route reaches its own owner's rules only.
    assert acme.client.get(f"/api/v1/project/rules/{own['id']}/").status_code == 404
    assert acme.client.get(rules_url("alice", f"{default['id']}/")).status_code == 404

    url = f"/api/v1/project/rules/{default['id']}/"
    assert acme.client.patch(url, {"keywords": ["daily"]}, format="json").json()["keywords"] == [
        "daily"
    ]
    assert acme.client.delete(url).status_code == 204
    assert not AutoJoinRule.objects.filter(calendar_user=None).exists()


@pytest.mark.parametrize("external_id", ["org/1", "a/b/c", "org/", "x/rules", "50% off", "a b"])
def test_external_ids_with_slashes_reach_their_rules(acme, external_id):
    CalendarUser.objects.create(project=acme.project, external_id=external_id)
    CalendarUser.objects.create(project=acme.project, external_id="org")
    created = acme.client.post(rules_url(external_id), INTERVIEWS, format="json")
    assert created.status_code == 201, created.json()
    rule = created.json()
    assert rule["calendar_user"] == external_id
    assert acme.client.get(rules_url(external_id, rule["id"])).json()["id"] == rule["id"]
    dry_run = acme.client.post(rules_url(external_id, "dry_run/"), {}, format="json")
    assert dry_run.status_code == 200
    assert acme.client.get(rules_url("org")).json() == []
    # The user itself is still reachable by the calendar users route, unless its id ends with
    # `/rules`: that path reads as the rules of the user before it (README, Auto-join rules).
    user = acme.client.get(f"/api/v1/calendar_users/{quote(external_id, safe='')}/")
    if external_id.endswith("/rules"):
        assert_envelope(user, 404, "not_found")  # no user "x": not a rule list
    else:
        assert user.json()["external_id"] == external_id


def test_an_unknown_calendar_user_is_a_404_and_creates_nobody(acme):
    response = acme.client.post(rules_url("nobody"), INTERVIEWS, format="json")
    assert_envelope(response, 404, "not_found")
    assert not CalendarUser.objects.exists() and not AutoJoinRule.objects.exists()


@pytest.mark.parametrize("rule_id", ["not-a-uuid", "%C2%84", "a%2Fb", "a/b", "x/rules/y"])
def test_malformed_rule_ids_are_404s_for_every_method(acme, alice, rule_id):
    # Not the calendar user route's 405: the rules route takes the path whatever the id.
    for method in ("get", "patch", "delete"):
        for url in (rules_url("alice", f"{rule_id}/"), f"/api/v1/project/rules/{rule_id}/"):
            response = getattr(acme.client, method)(url, {"name": "x"}, format="json")
            assert_envelope(response, 404, "not_found")


def test_put_is_not_allowed(acme, alice):
    rule = acme.client.post(rules_url("alice"), INTERVIEWS, format="json").json()
    response = acme.client.put(rules_url("alice", rule["id"]), INTERVIEWS, format="json")
    assert_envelope(response, 405, "method_not_allowed")


# --- strict validation --------------------------------------------------------------------------

REFUSALS = [
    ({"timezone": "Nowhere/City"}, "invalid_timezone", "timezone"),
    (
        {"time_window_start": "18:00", "time_window_end": "09:00"},
        "window_end_before_start",
        "time_window_end",
    ),
    (
        {"time_window_start": "09:00:30", "time_window_end": "10:00"},
        "whole_minutes",
        "time_window_start",
    ),
    ({"days_of_week": [7]}, "unknown_weekday", "days_of_week"),
    ({"exclude_patterns": [r"(a)\1"]}, "regex_too_expensive", "exclude_patterns"),
    ({"exclude_patterns": ["standup(?!s)"]}, "regex_too_expensive", "exclude_patterns"),
    ({"exclude_patterns": [".*"]}, "invalid_regex", "exclude_patterns"),
    ({"exclude_patterns": ["(unclosed"]}, "invalid_regex", "exclude_patterns"),
    ({"organizer_emails": ["not an address"]}, "invalid_address", "organizer_emails"),
    ({"meeting_platforms": ["skype"]}, "unknown_platform", "meeting_platforms"),
    ({"action": "maybe"}, "invalid_choice", "action"),
    ({"match_mode": "keyword"}, "required", "keywords"),
    ({"min_attendees": 5, "max_attendees": 2}, "max_below_min", "max_attendees"),
    ({"action": "skip", "bot_name": "Rec"}, "only_for_join", "bot_name"),
    ({"keywords": ["x"] * 51}, "too_many_items", "keywords"),
    ({"bot_config": ["not", "an", "object"]}, "not_an_object", "bot_config"),
    ({"priority": 10**12}, None, "priority"),
]


@pytest.mark.parametrize(("fields", "code", "field"), REFUSALS)
def test_refused_rules_name_the_code_and_store_nothing(acme, alice, fields, code, field):
    response = acme.client.post(rules_url("alice"), {"name": "x", **fields}, format="json")
    assert response.status_code == 400
    body = response.json()
    if code is not None:
        assert body["code"] == code
    assert field in body["errors"]
    assert not AutoJoinRule.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "colour": "red"},
        {"name": "x", "days_of_week": ["monday"]},
        {"name": "x", "keywords": "interview"},
        {"name": "x", "priority": "high"},
        {"keywords": ["x"]},
        ["not", "an", "object"],
    ],
)
def test_wrong_shapes_are_invalid_request_data(acme, alice, body):
    response = acme.client.post(rules_url("alice"), body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request_data"
    assert not AutoJoinRule.objects.exists()


def test_an_unknown_field_is_named(acme, alice):
    response = acme.client.post(rules_url("alice"), {"name": "x", "colour": "red"}, format="json")
    body = assert_envelope(response, 400, "invalid_request_data")
    assert body["errors"] == {"colour": ["Unknown field."]}


def test_a_refused_update_leaves_the_rule_and_the_meetings_as_they_were(acme, alice):
    meeting = MeetingFactory(
        calendar=CalendarFactory(project=acme.project, calendar_user=alice), title="Standup"
    )
    rule = acme.client.post(rules_url("alice"), NO_STANDUPS, format="json").json()
    meeting.refresh_from_db()
    before = (meeting.will_record, meeting.will_record_reason)
    response = acme.client.patch(
        rules_url("alice", rule["id"]),
        {"keywords": ["daily"], "timezone": "Mars/Olympus"},
        format="json",
    )
    assert_envelope(response, 400, "invalid_timezone")
    stored = AutoJoinRule.objects.get(pk=rule["id"])
    assert (stored.keywords, stored.timezone) == (["standup"], "UTC")
    meeting.refresh_from_db()
    assert (meeting.will_record, meeting.will_record_reason) == before


def test_rules_per_calendar_user_are_limited(acme, alice):
    AutoJoinRule.objects.bulk_create(
        AutoJoinRule(project=acme.project, calendar_user=alice, name=f"r{n}")
        for n in range(MAX_RULES)
    )
    response = acme.client.post(rules_url("alice"), {"name": "one more"}, format="json")
    assert_envelope(response, 400, "too_many_rules")
    assert AutoJoinRule.objects.count() == MAX_RULES


# --- tenant isolation ---------------------------------------------------------------------------


def test_another_projects_rules_and_users_are_404s(acme, globex, alice):
    own = acme.client.post(rules_url("alice"), INTERVIEWS, format="json").json()
    default = acme.client.post("/api/v1/project/rules/", NO_STANDUPS, format="json").json()
    # globex has a user with the same external id: its own, with no rules.
    CalendarUser.objects.create(project=globex.project, external_id="alice")

    assert globex.client.get(rules_url("alice")).json() == []
    assert globex.client.get("/api/v1/project/rules/").json() == []
    for url in (rules_url("alice", own["id"]), f"/api/v1/project/rules/{default['id']}/"):
        assert_envelope(globex.client.get(url), 404, "not_found")
        assert globex.client.patch(url, {"name": "mine"}, format="json").status_code == 404
        assert globex.client.delete(url).status_code == 404
    # Naming acme's rule in a dry run of globex's user is a 404 too.
    dry_run = globex.client.post(
        rules_url("alice", "dry_run/"), {"remove": own["id"]}, format="json"
    )
    assert_envelope(dry_run, 404, "not_found")
    assert set(AutoJoinRule.objects.values_list("name", flat=True)) == {"Interviews", "No standups"}


def test_another_users_rule_is_a_404_on_this_users_routes(acme, alice):
    CalendarUser.objects.create(project=acme.project, external_id="bob")
    bobs = acme.client.post(rules_url("bob"), INTERVIEWS, format="json").json()
    assert acme.client.get(rules_url("alice", bobs["id"])).status_code == 404
    assert acme.client.delete(rules_url("alice", bobs["id"])).status_code == 404
    assert AutoJoinRule.objects.filter(pk=bobs["id"]).exists()


def test_without_an_api_key_nothing_is_reachable(anon, acme, alice):
    for url in (rules_url("alice"), "/api/v1/project/rules/"):
        assert_envelope(anon.get(url), 401, "not_authenticated")
    assert anon.post(rules_url("alice", "dry_run/"), {}, format="json").status_code == 401


# --- the dry run --------------------------------------------------------------------------------


NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"


def test_dry_run_refusals(acme, alice):
    url = rules_url("alice", "dry_run/")
    rule = acme.client.post(rules_url("alice"), INTERVIEWS, format="json").json()
    both = acme.client.post(url, {"upsert": {"name": "x"}, "remove": rule["id"]}, format="json")
    assert_envelope(both, 400, "invalid_request_data")
    bad = acme.client.post(url, {"upsert": {"name": "x", "days_of_week": [9]}}, format="json")
    assert_envelope(bad, 400, "unknown_weekday")
    nameless = acme.client.post(url, {"upsert": {"keywords": ["x"]}}, format="json")
    assert_envelope(nameless, 400, "blank")
    unknown = acme.client.post(url, {"upsert": {"id": NO_SUCH_ID, "name": "x"}}, format="json")
    assert "upsert" in assert_envelope(unknown, 404, "not_found")["errors"]
    gone = acme.client.post(url, {"remove": NO_SUCH_ID}, format="json")
    assert "remove" in assert_envelope(gone, 404, "not_found")["errors"]
    stray = acme.client.post(url, {"upsert": {"name": "x", "colour": "red"}}, format="json")
    assert assert_envelope(stray, 400, "invalid_request_data")["errors"] == {
        "upsert": {"colour": ["Unknown field."]}
    }
    assert list(AutoJoinRule.objects.values_list("pk", flat=True)) == [UUID(rule["id"])]


# --- a scenario through the provider fakes ------------------------------------------------------


@pytest.fixture
def store(monkeypatch):
    store = ScriptedCalendar()
    store.page_size = 50
    monkeypatch.setitem(providers._instances, "google", ScriptedProvider(store))
    return store


def people(*emails):
    return [{"email": "dana@acme.com", "responseStatus": "accepted"}] + [
        {"email": email, "responseStatus": "accepted"} for email in emails
    ]


@pytest.fixture
def dana(acme, store):
    """Dana (`team/dana`, an id with a slash) records external meetings; four upcoming ones
    are synced from her Google calendar."""
    OAuthAppFactory(project=acme.project, platform="google")
    user = CalendarUser.objects.create(
        project=acme.project, external_id="team/dana", record_external=True
    )
    calendar = CalendarFactory(
        project=acme.project, calendar_user=user, state=Calendar.State.CONNECTED
    )
    events = {
        "ext-interview": ("Interview: Sam", people("sam@globex.com")),
        "ext-standup": ("Standup with Globex", people("kim@globex.com")),
        "int-interview": ("Interview debrief", people("bob@acme.com")),
        "int-planning": ("Planning", people("bob@acme.com")),
    }
    for hour, (event_id, (summary, attendees)) in enumerate(events.items()):
        store.put(
            google_event(
                event_id, TOMORROW + timedelta(hours=hour), summary=summary, attendees=attendees
            )
        )
    WebhookEndpointFactory(project=acme.project, event_types=["bot.*"])
    assert sync_calendar_by_id(calendar.pk).status == "synced"
    WebhookDelivery.objects.all().delete()
    return user


def state(calendar_user) -> dict:
    """{meeting id: (will_record, reason, names of its live bots)}."""
    meetings = Meeting.objects.filter(calendar__calendar_user=calendar_user)
    return {
        str(m.pk): (
            m.will_record,
            m.will_record_reason,
            sorted(b.name for b in m.bots.all() if b.status not in Bot.TERMINAL_STATUSES),
        )
        for m in meetings.prefetch_related("bots")
    }


def event_ids(meeting_ids) -> set[str]:
    return set(
        Meeting.objects.filter(pk__in=list(meeting_ids)).values_list("platform_event_id", flat=True)
    )


def deliveries() -> list[tuple[str, str]]:
    names = {str(pk): name for pk, name in Bot.objects.values_list("pk", "name")}
    return sorted(
        (d.event_type, names[d.payload["data"]["bot"]["id"]]) for d in WebhookDelivery.objects.all()
    )


ALL_EVENTS = {"ext-interview", "ext-standup", "int-interview", "int-planning"}


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]


def test_rules_over_the_api_change_the_bots_as_the_dry_run_predicted(acme, dana):
    recorded = {e for e, (will, _, _) in state(dana).items() if will}
    assert event_ids(recorded) == {"ext-interview", "ext-standup"}
    before = state(dana)
    url = rules_url("team/dana", "dry_run/")

    # The saved rules (none) change nothing.
    assert acme.client.post(url, {}, format="json").json() == {"changes": [], "proposed_rule": None}

    # 1. A joining rule for interviews: the dry run first, which writes nothing.
    with CaptureQueriesContext(connection) as queries:
        predicted = acme.client.post(url, {"upsert": INTERVIEWS}, format="json")
    assert predicted.status_code == 200
    assert writes(queries.captured_queries) == []
    assert state(dana) == before and not AutoJoinRule.objects.exists()
    assert not WebhookDelivery.objects.exists()
    dry = predicted.json()
    provisional = dry["proposed_rule"]["id"]
    assert dry["proposed_rule"]["created_at"] is None
    assert dry["proposed_rule"]["bot_name"] == "Acme Interviewer"

    created = acme.client.post(rules_url("team/dana"), INTERVIEWS, format="json").json()
    after = state(dana)
    changed = {m for m in after if after[m][:2] != before[m][:2]}
    # Every reason changes (the rule's, or "no rule matched" added to the preferences'); only
    # the internal interview changes its will_record. The external one keeps its bot, renamed.
    assert event_ids(changed) == ALL_EVENTS
    assert event_ids(m for m in changed if after[m][0] != before[m][0]) == {"int-interview"}
    assert {c["meeting_id"] for c in dry["changes"]} == changed
    for change in dry["changes"]:
        meeting_id = change["meeting_id"]
        assert (change["will_record_before"], change["reason_before"]) == before[meeting_id][:2]
        reason = change["reason_after"].replace(provisional, created["id"])
        assert (change["will_record_after"], reason) == after[meeting_id][:2]
        assert change["rule_id"] == (provisional if reason != change["reason_after"] else None)
    assert {event_ids([m]).pop(): bots for m, (_, _, bots) in after.items()} == {
        "ext-interview": ["Acme Interviewer"],
        "int-interview": ["Acme Interviewer"],
        "ext-standup": ["Meeting Notetaker"],
        "int-planning": [],
    }
    assert deliveries() == [
        ("bot.rescheduled", "Acme Interviewer"),
        ("bot.scheduled", "Acme Interviewer"),
    ]

    # 2. A higher-priority skip for standups: predicted, then applied.
    WebhookDelivery.objects.all().delete()
    before = after
    dry = acme.client.post(url, {"upsert": NO_STANDUPS}, format="json").json()
    assert event_ids(c["meeting_id"] for c in dry["changes"]) == {"ext-standup"}
    (change,) = dry["changes"]
    assert (change["will_record_before"], change["will_record_after"]) == (True, False)
    skip = acme.client.post(rules_url("team/dana"), NO_STANDUPS, format="json").json()
    after = state(dana)
    assert {m for m in after if after[m][:2] != before[m][:2]} == {change["meeting_id"]}
    assert after[change["meeting_id"]] == (
        False,
        f'Not recorded: rule:{skip["id"]} "No standups" skips this meeting.',
        [],
    )
    assert deliveries() == [("bot.cancelled", "Meeting Notetaker")]

    # 3. A change to a saved rule (by id) and a removal, predicted and applied.
    before = after
    dry = acme.client.post(
        url, {"upsert": {"id": created["id"], "is_enabled": False}}, format="json"
    ).json()
    assert dry["proposed_rule"]["id"] == created["id"]
    acme.client.patch(rules_url("team/dana", created["id"]), {"is_enabled": False}, format="json")
    after = state(dana)
    assert {c["meeting_id"] for c in dry["changes"]} == {
        m for m in after if after[m][:2] != before[m][:2]
    }
    assert event_ids(c["meeting_id"] for c in dry["changes"]) == {"ext-interview", "int-interview"}

    before = after
    dry = acme.client.post(url, {"remove": skip["id"]}, format="json").json()
    assert acme.client.delete(rules_url("team/dana", skip["id"])).status_code == 204
    after = state(dana)
    assert {c["meeting_id"] for c in dry["changes"]} == {
        m for m in after if after[m][:2] != before[m][:2]
    }
    # The only rule left is disabled: the preferences' own reasons again, everywhere.
    assert event_ids(c["meeting_id"] for c in dry["changes"]) == ALL_EVENTS
    assert event_ids(m for m, (will, _, _) in after.items() if will) == {
        "ext-interview",
        "ext-standup",
    }
    assert not Meeting.objects.filter(needs_reconcile=True).exists()


def test_a_project_default_over_the_api_reaches_every_user(acme, dana):
    recorded = {e for e, (will, _, _) in state(dana).items() if will}
    response = acme.client.post(
        "/api/v1/project/rules/", {"name": "Skip all", "action": "skip"}, format="json"
    )
    assert response.status_code == 201
    assert not any(will for will, _, _ in state(dana).values())
    assert sorted(deliveries()) == [("bot.cancelled", "Meeting Notetaker")] * len(recorded)
    # Dana's own joining rule is tried before the project's default.
    acme.client.post(rules_url("team/dana"), INTERVIEWS, format="json")
    assert event_ids(m for m, (will, _, _) in state(dana).items() if will) == {
        "ext-interview",
        "int-interview",
    }


# --- the OpenAPI document -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    out = io.StringIO()
    with django_db_blocker.unblock():
        call_command("spectacular", "--format", "openapi-json", stdout=out)
    return schemathesis.openapi.from_dict(json.loads(out.getvalue()))


def test_answers_match_the_openapi_document(schema, acme, alice):
    """Real answers of every rules operation, a full rule and the errors included, validate
    against /api/schema/ (as the fuzz step checks them)."""
    full = {
        **INTERVIEWS,
        "time_window_start": "09:00",
        "time_window_end": "18:00",
        "timezone": "Europe/Berlin",
        "days_of_week": [0, 4],
        "calendar_provider": "google",
        "meeting_platforms": ["zoom"],
        "recurring": False,
        "max_attendees": 8,
        "bot_config": {"recording_mode": "audio_only"},
    }
    user = "/api/v1/calendar_users/{external_id}/rules/"
    created = acme.client.post(rules_url("alice"), full, format="json")
    assert_documented(schema, user, "post", created)
    rule_id = created.json()["id"]
    checks = [
        (user, "get", acme.client.get(rules_url("alice"))),
        (user + "{id}/", "get", acme.client.get(rules_url("alice", rule_id))),
        (
            user + "{id}/",
            "patch",
            acme.client.patch(rules_url("alice", rule_id), {"priority": 3}, format="json"),
        ),
        (
            user + "dry_run/",
            "post",
            acme.client.post(rules_url("alice", "dry_run/"), {"upsert": full}, format="json"),
        ),
        (user, "post", acme.client.post(rules_url("alice"), {"name": "x", "days_of_week": [9]})),
        (
            "/api/v1/project/rules/",
            "post",
            acme.client.post("/api/v1/project/rules/", NO_STANDUPS, format="json"),
        ),
        ("/api/v1/project/rules/", "get", acme.client.get("/api/v1/project/rules/")),
        (user + "{id}/", "delete", acme.client.delete(rules_url("alice", rule_id))),
        (user + "{id}/", "get", acme.client.get(rules_url("alice", rule_id))),
    ]
    for path, method, response in checks:
        assert_documented(schema, path, method, response)

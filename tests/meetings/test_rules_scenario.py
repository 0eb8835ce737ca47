"""Auto-join rules end to end: meetings synced through the scripted provider, rules created,
changed and deleted through the services (calendars/rule_services.py), bots and `bot.*`
webhooks following, and the dry run predicting exactly what the services then change."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bots.models import Bot
from calendars import providers
from calendars.models import Calendar, CalendarUser
from calendars.rule_services import (
    MAX_RULES,
    RuleError,
    proposed_rules,
    rule_build,
    rule_create,
    rule_delete,
    rule_update,
    rules_dry_run,
)
from calendars.sync import sync_calendar_by_id
from meetings.decisions import REASONS
from meetings.models import AutoJoinRule, Meeting
from tests.calendars.scripted import ScriptedCalendar, ScriptedProvider, google_event
from tests.factories import CalendarFactory, MeetingFactory, OAuthAppFactory, WebhookEndpointFactory
from webhooks.models import WebhookDelivery

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TOMORROW = NOW + timedelta(days=1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: calls.append(args))
    return calls


@pytest.fixture
def store(monkeypatch):
    store = ScriptedCalendar()
    store.page_size = 50
    monkeypatch.setitem(providers._instances, "google", ScriptedProvider(store))
    return store


def people(*emails):
    return [{"email": "alice@acme.com", "responseStatus": "accepted"}] + [
        {"email": email, "responseStatus": "accepted"} for email in emails
    ]


@pytest.fixture
def alice(acme, store):
    """Alice records external meetings (a preference); her calendar has five upcoming ones."""
    OAuthAppFactory(project=acme.project, platform="google")
    user = CalendarUser.objects.create(
        project=acme.project, external_id="alice", record_external=True
    )
    calendar = CalendarFactory(
        project=acme.project,
        calendar_user=user,
        state=Calendar.State.CONNECTED,
        email="alice@acme.com",
    )
    events = {
        "ext-interview": ("Interview: Sam", people("sam@globex.com")),
        "ext-standup": ("Standup with Globex", people("kim@globex.com")),
        "int-interview": ("Interview debrief", people("bob@acme.com")),
        "int-planning": ("Planning", people("bob@acme.com")),
        "ext-board": ("Board call", people("x@initech.com", "y@initech.com")),
    }
    for hour, (event_id, (summary, attendees)) in enumerate(events.items()):
        start = TOMORROW + timedelta(hours=hour)
        store.put(google_event(event_id, start, summary=summary, attendees=attendees))
    WebhookEndpointFactory(project=acme.project, event_types=["bot.*"])
    assert sync_calendar_by_id(calendar.pk).status == "synced"
    return user


def state(calendar_user) -> dict:
    meetings = Meeting.objects.filter(calendar__calendar_user=calendar_user)
    return {
        m.platform_event_id: (m.will_record, m.will_record_reason, bot_names(m))
        for m in meetings.prefetch_related("bots")
    }


def bot_names(meeting) -> list[str]:
    return sorted(b.name for b in meeting.bots.all() if b.status not in Bot.TERMINAL_STATUSES)


def recorded(calendar_user) -> set[str]:
    return {event_id for event_id, (will, _, _) in state(calendar_user).items() if will}


def deliveries() -> list[tuple[str, str]]:
    """The queued webhook events, with their bot's name."""
    names = {str(pk): name for pk, name in Bot.objects.values_list("pk", "name")}
    return sorted(
        (d.event_type, names[d.payload["data"]["bot"]["id"]]) for d in WebhookDelivery.objects.all()
    )


INTERVIEWS = {
    "name": "Interviews",
    "action": "join",
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


def test_rules_change_which_meetings_get_bots_as_the_dry_run_predicted(alice, acme):
    assert recorded(alice) == {"ext-interview", "ext-standup", "ext-board"}
    WebhookDelivery.objects.all().delete()
    before = state(alice)

    # The dry run of the two rules, proposed one after the other, writes nothing.
    first = rule_build(project=acme.project, calendar_user=alice, data=INTERVIEWS)
    second = rule_build(project=acme.project, calendar_user=alice, data=NO_STANDUPS)
    with CaptureQueriesContext(connection) as queries:
        predicted = rules_dry_run(
            calendar_user=alice, rules=[*proposed_rules(calendar_user=alice), first, second]
        )
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)
    assert state(alice) == before and not AutoJoinRule.objects.exists()

    interviews = rule_create(project=acme.project, calendar_user=alice, data=INTERVIEWS)
    standups = rule_create(project=acme.project, calendar_user=alice, data=NO_STANDUPS)

    after = state(alice)
    changed = {e for e in after if after[e][:2] != before[e][:2]}
    assert {c.meeting_id for c in predicted} == {
        str(Meeting.objects.get(platform_event_id=e).pk) for e in changed
    }
    # The same decisions; the proposed rules had ids of their own until they were saved.
    saved_ids = {str(first.pk): str(interviews.pk), str(second.pk): str(standups.pk)}
    for change in predicted:
        event_id = Meeting.objects.get(pk=change.meeting_id).platform_event_id
        reason_after = change.reason_after
        for proposed_id, saved_id in saved_ids.items():
            reason_after = reason_after.replace(proposed_id, saved_id)
        assert (change.will_record_before, change.reason_before) == before[event_id][:2]
        assert (change.will_record_after, reason_after) == after[event_id][:2]

    assert recorded(alice) == {"ext-interview", "int-interview", "ext-board"}
    assert after["int-interview"] == (
        True,
        f'Recorded: rule:{interviews.pk} "Interviews" joins this meeting.',
        ["Acme Interviewer"],
    )
    assert after["ext-interview"][2] == ["Acme Interviewer"]  # its bot follows the rule's name
    assert after["ext-standup"] == (
        False,
        f'Not recorded: rule:{standups.pk} "No standups" skips this meeting.',
        [],
    )
    # No rule matched: the preferences decide, and the reason says so.
    assert after["ext-board"][:2] == (True, REASONS["preferences"] + " No auto-join rule matched.")
    assert after["int-planning"][:2] == (
        False,
        REASONS["not_external"] + " No auto-join rule matched.",
    )
    assert deliveries() == [
        ("bot.cancelled", "Meeting Notetaker"),  # the standup's
        ("bot.rescheduled", "Acme Interviewer"),  # the external interview's bot, renamed
        ("bot.scheduled", "Acme Interviewer"),  # the debrief's new bot
    ]
    assert not Meeting.objects.filter(needs_reconcile=True).exists()


def test_changing_and_deleting_rules_re_decides_again(alice, acme):
    skip = rule_create(project=acme.project, calendar_user=alice, data=NO_STANDUPS)
    assert "ext-standup" not in recorded(alice)
    predicted = rules_dry_run(
        calendar_user=alice, rules=proposed_rules(calendar_user=alice, remove=skip)
    )
    rule_update(rule=skip, data={"is_enabled": False})
    assert "ext-standup" in recorded(alice)
    rule_update(rule=skip, data={"is_enabled": True, "keywords": ["board"]})
    assert recorded(alice) == {"ext-interview", "ext-standup"}
    rule_delete(rule=skip)
    assert recorded(alice) == {"ext-interview", "ext-standup", "ext-board"}
    # With no rule left, the reasons are the preferences' own again.
    assert {reason for _, reason, _ in state(alice).values()} <= set(REASONS.values())
    assert {c.meeting_id for c in predicted} == {
        str(m.pk) for m in Meeting.objects.filter(calendar__calendar_user=alice)
    }


def test_new_meetings_are_decided_by_rules_as_they_are_synced(alice, acme, store):
    interviews = rule_create(project=acme.project, calendar_user=alice, data=INTERVIEWS)
    store.put(
        google_event(
            "int-interview-2",
            TOMORROW + timedelta(hours=9),
            summary="Interview: Kim",
            attendees=people("bob@acme.com"),
        )
    )
    calendar = Calendar.objects.get(calendar_user=alice)
    assert sync_calendar_by_id(calendar.pk).status == "synced"
    will, reason, bots = state(alice)["int-interview-2"]
    assert (will, bots) == (True, ["Acme Interviewer"])
    assert reason == f'Recorded: rule:{interviews.pk} "Interviews" joins this meeting.'


def test_a_project_default_applies_to_every_user_after_their_own_rules(alice, acme):
    bob = CalendarUser.objects.create(project=acme.project, external_id="bob", record_internal=True)
    bob_meeting = MeetingFactory(
        calendar=CalendarFactory(project=acme.project, calendar_user=bob, email="bob@acme.com"),
        title="Standup",
        start_time=TOMORROW,
        end_time=TOMORROW + timedelta(minutes=30),
    )
    rule_create(project=acme.project, calendar_user=alice, data=INTERVIEWS)
    default = rule_create(
        project=acme.project, data={"name": "Skip everything", "action": "skip", "priority": 99}
    )
    assert recorded(alice) == {"ext-interview", "int-interview"}  # her own rule still wins
    bob_meeting.refresh_from_db()
    assert bob_meeting.will_record is False
    assert bob_meeting.will_record_reason.startswith(f"Not recorded: rule:{default.pk}")
    rule_delete(rule=default)
    bob_meeting.refresh_from_db()
    assert bob_meeting.will_record is True


def test_another_tenants_meetings_are_not_touched(alice, acme, globex):
    theirs = MeetingFactory(
        calendar=CalendarFactory(
            project=globex.project,
            calendar_user=CalendarUser.objects.create(project=globex.project, external_id="x"),
        )
    )
    rule_create(project=acme.project, data={"name": "Skip all", "action": "skip"})
    theirs.refresh_from_db()
    assert (theirs.will_record_reason, theirs.needs_reconcile) == ("", False)
    with pytest.raises(RuleError) as refused:
        rule_create(project=globex.project, calendar_user=alice, data={"name": "x"})
    assert refused.value.code == "wrong_project"


@pytest.mark.parametrize(
    "data,code,field",
    [
        ({"name": "x", "timezone": "Nowhere/City"}, "invalid_timezone", "timezone"),
        (
            {"name": "x", "time_window_start": "18:00", "time_window_end": "09:00"},
            "window_end_before_start",
            "time_window_end",
        ),
        ({"name": "x", "days_of_week": [8]}, "unknown_weekday", "days_of_week"),
        ({"name": "x", "exclude_patterns": [r"(a)\1"]}, "regex_too_expensive", "exclude_patterns"),
        ({"name": "x", "colour": "red"}, "unknown_field", "colour"),
    ],
)
def test_refusals_have_a_code_and_change_nothing(alice, acme, data, code, field):
    before = state(alice)
    with pytest.raises(RuleError) as refused:
        rule_create(project=acme.project, calendar_user=alice, data=data)
    assert (refused.value.code, refused.value.status) == (code, 400)
    assert field in refused.value.errors
    assert not AutoJoinRule.objects.exists() and state(alice) == before


def test_an_update_refused_leaves_the_rule_as_it_was(alice, acme):
    rule = rule_create(project=acme.project, calendar_user=alice, data=INTERVIEWS)
    with pytest.raises(RuleError):
        rule_update(rule=rule, data={"keywords": [], "name": "changed"})
    rule.refresh_from_db()
    assert (rule.name, rule.keywords) == ("Interviews", ["interview"])


def test_rules_per_owner_are_limited(alice, acme):
    AutoJoinRule.objects.bulk_create(
        AutoJoinRule(project=acme.project, calendar_user=alice, name=f"r{n}")
        for n in range(MAX_RULES)
    )
    with pytest.raises(RuleError) as refused:
        rule_create(project=acme.project, calendar_user=alice, data={"name": "one more"})
    assert refused.value.code == "too_many_rules"

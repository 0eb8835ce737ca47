"""Rules in the recording decision (meetings/decisions.py): where they sit in the order, what
their reasons say, and that without rules nothing changes. Pure: no database."""

import itertools
import uuid
from types import SimpleNamespace

import pytest

from meetings.decisions import MAX_REASON_CHARS, REASONS, decide
from meetings.models import AutoJoinRule
from meetings.rules import compile_rule_set

from .test_decisions import FLAGS, MEETING_KINDS, NOW, meeting, oracle

USER = uuid.uuid4()


def rule(**fields):
    fields.setdefault("name", "rule")
    fields.setdefault("calendar_user_id", USER)
    return AutoJoinRule(**fields)


def rules(*items):
    return compile_rule_set(items)


def prefs(**on):
    return SimpleNamespace(**{**dict.fromkeys(FLAGS, False), **on})


def event(**overrides):
    return meeting(
        **{"title": "Interview: Sam", "description": "", "organizer_email": "", **overrides}
    )


def run(m, preferences, rule_set, **kw):
    return decide(m, preferences, account_email="me@acme.com", now=NOW, rules=rule_set, **kw)


@pytest.mark.parametrize("empty", [None, "no rules", "only disabled rules"])
def test_without_rules_the_preferences_decide_exactly_as_before(empty):
    rule_set = {
        None: None,
        "no rules": rules(),
        "only disabled rules": rules(rule(is_enabled=False, action="skip")),
    }[empty]
    for values in itertools.product((False, True), repeat=len(FLAGS)):
        preferences = dict(zip(FLAGS, values, strict=True))
        for kind in MEETING_KINDS:
            m = event(**kind)
            plain = decide(m, SimpleNamespace(**preferences), account_email="me@acme.com", now=NOW)
            with_rules = run(m, SimpleNamespace(**preferences), rule_set)
            assert with_rules == plain
            assert with_rules.reason == plain.reason in REASONS.values()
            assert plain.will_record is oracle(m, preferences)


def test_a_joining_rule_records_and_names_itself():
    join = rule(name="Interviews", action="join", match_mode="keyword", keywords=["interview"])
    decision = run(event(), prefs(), rules(join))
    assert (decision.will_record, decision.code) == (True, "rule_join")
    assert decision.rule_id == str(join.pk) and decision.rule_name == "Interviews"
    assert decision.reason == f'Recorded: rule:{join.pk} "Interviews" joins this meeting.'


def test_a_skipping_rule_beats_the_preferences():
    skip = rule(name="Never legal", action="skip")
    decision = run(event(), prefs(record_internal=True, record_external=True), rules(skip))
    assert (decision.will_record, decision.code) == (False, "rule_skip")
    assert decision.reason == f'Not recorded: rule:{skip.pk} "Never legal" skips this meeting.'


@pytest.mark.parametrize(
    "preferences,will_record,code",
    [(prefs(), False, "no_preferences"), (prefs(record_internal=True), True, "preferences")],
)
def test_no_rule_matched_falls_back_to_the_preferences_and_says_so(preferences, will_record, code):
    picky = rule(match_mode="keyword", keywords=["board"])
    decision = run(event(), preferences, rules(picky))
    assert (decision.will_record, decision.code, decision.rule_id) == (will_record, code, None)
    assert decision.reason == REASONS[code] + " No auto-join rule matched."


def test_override_beats_rules():
    skip, join = rules(rule(action="skip")), rules(rule(action="join"))
    assert run(event(override_should_record=True), prefs(), skip).code == "override_on"
    assert run(event(override_should_record=False), prefs(), join).code == "override_off"


def test_api_schedule_beats_rules():
    skip, join = rules(rule(action="skip")), rules(rule(action="join"))
    on, off = SimpleNamespace(enabled=True), SimpleNamespace(enabled=False)
    assert run(event(), prefs(), skip, schedule=on).code == "scheduled_by_api"
    assert run(event(), prefs(), join, schedule=off).code == "unscheduled_by_api"


@pytest.mark.parametrize(
    "broken,code",
    [({"meeting_url": None}, "no_link"), ({"status": "cancelled"}, "cancelled")],
)
def test_prerequisites_and_calendar_state_beat_rules(broken, code):
    join = rules(rule(action="join"))
    assert run(event(**broken), prefs(), join).code == code
    assert run(event(), prefs(), join, calendar_connected=False).code == "calendar_disconnected"


def test_a_calendar_without_user_ignores_rules():
    assert run(event(), None, rules(rule(action="join"))).code == "no_calendar_user"


def test_project_defaults_apply_after_the_users_own_rules():
    default_skip = rule(name="default", calendar_user_id=None, action="skip", priority=100)
    own_join = rule(name="own", action="join", match_mode="keyword", keywords=["interview"])
    both = rules(default_skip, own_join)
    assert run(event(), prefs(), both).rule_name == "own"
    assert run(event(title="Standup"), prefs(), both).rule_name == "default"
    assert run(event(title="Standup"), prefs(), both).code == "rule_skip"


def test_the_provider_is_a_condition_of_the_decision():
    google_only = rules(rule(action="join", calendar_provider="google"))
    assert run(event(), prefs(), google_only, provider="google").code == "rule_join"
    assert run(event(), prefs(), google_only, provider="microsoft").code == "no_preferences"


def test_a_joining_rule_carries_its_bot_settings():
    join = rule(action="join", bot_name="Acme Notetaker", bot_config={"recording": "audio"})
    decision = run(event(), prefs(), rules(join))
    assert (decision.bot_name, decision.bot_config) == ("Acme Notetaker", {"recording": "audio"})


def test_a_long_rule_name_is_shortened_to_fit_the_stored_reason():
    long = rule(name="N" * 255, action="skip")
    reason = run(event(), prefs(), rules(long)).reason
    assert len(reason) == MAX_REASON_CHARS
    assert reason.startswith(f'Not recorded: rule:{long.pk} "NNN') and "…" in reason
    assert reason.endswith('" skips this meeting.')

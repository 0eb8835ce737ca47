"""The decision trace (meetings/decisions.py: `decide(..., steps=...)`, `trace`): it names the
step that decided - the first unmet prerequisite, the override, the API schedule, the matching
rule, the deciding preference - and its decision is always decide's own. Pure: no database."""

import uuid
from datetime import timedelta
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from meetings.decisions import (
    DECIDED,
    DECISION_STEP,
    FAIL,
    PASS,
    SKIPPED,
    STEPS,
    Trace,
    decide,
    trace,
)
from meetings.models import AutoJoinRule
from meetings.rules import compile_rule_set

from .test_decisions import FLAGS, NOW, meeting

USER = uuid.uuid4()
ORDER = [*STEPS, DECISION_STEP]


def prefs(**on):
    return SimpleNamespace(external_id="alice", **{**dict.fromkeys(FLAGS, False), **on})


def run(m, preferences=None, **inputs):
    inputs.setdefault("account_email", "me@acme.com")
    inputs.setdefault("now", NOW)
    preferences = prefs(record_internal=True) if preferences is None else preferences
    return trace(m, preferences, **inputs)


def by_step(result: Trace) -> dict:
    return {step.step: step for step in result.steps}


def assert_well_formed(result: Trace) -> None:
    names = [step.step for step in result.steps]
    assert names == ORDER
    deciding = [s for s in result.steps[:-1] if s.outcome in (FAIL, DECIDED)]
    assert deciding, "a step decided"
    first = result.steps.index(deciding[0])
    # Nothing after the deciding step was evaluated, except further unmet prerequisites
    # (unmet_prerequisites checks them all).
    for step in result.steps[first + 1 : -1]:
        assert step.outcome in (SKIPPED, FAIL, PASS)
        if step.step not in ("all_day", "deleted", "cancelled", "ended", "join_link"):
            assert step.outcome == SKIPPED, step
    final = result.steps[-1]
    assert final.outcome == DECIDED and final.detail == result.decision.reason
    for step in result.steps:
        assert step.label and step.detail
        assert set(step.as_dict()) == {"step", "label", "outcome", "detail"}


def test_a_recorded_meeting_passes_every_step_to_the_deciding_preference():
    result = run(meeting(meeting_platform="zoom"), link_source="conferenceData.entryPoints")
    assert_well_formed(result)
    steps = by_step(result)
    assert result.decision.code == "preferences"
    assert [steps[name].outcome for name in ORDER[:-2]] == [PASS] * (len(ORDER) - 2)
    assert steps["join_link"].detail == (
        "Zoom link https://zoom.us/j/123 (found in the event's conferenceData.entryPoints)"
    )
    assert steps["preferences"].outcome == DECIDED
    assert "record_internal" in steps["preferences"].detail
    assert steps["rules"].detail.startswith("No rules")


def test_the_first_unmet_prerequisite_decides_and_later_ones_show():
    result = run(meeting(meeting_url=None, meeting_platform=None, is_all_day=True))
    assert_well_formed(result)
    steps = by_step(result)
    assert result.decision.code == "no_link"
    assert result.deciding_step.step == "join_link"
    assert steps["join_link"].outcome == FAIL
    assert steps["all_day"].outcome == FAIL  # also unmet, shown
    assert steps["ended"].outcome == PASS
    assert steps["override"].outcome == SKIPPED

    ended = run(meeting(end_time=NOW - timedelta(minutes=1), start_time=NOW - timedelta(hours=1)))
    assert ended.deciding_step.step == "ended" and ended.decision.code == "ended"
    assert by_step(ended)["ended"].detail.startswith("Ended 2026-11-02 08:59 UTC")


def test_a_disconnected_calendar_decides_before_anything_else():
    result = run(meeting(meeting_url=None), calendar_connected=False)
    assert_well_formed(result)
    assert result.deciding_step.step == "calendar"
    assert result.decision.code == "calendar_disconnected"
    # decide does not look at the link then: the trace says it was not evaluated.
    assert by_step(result)["join_link"].outcome == SKIPPED
    connecting = run(meeting(), calendar_connecting=True)
    assert connecting.decision.code == "calendar_connecting"
    assert "connecting" in connecting.deciding_step.detail


def test_the_override_decides_even_against_the_preferences():
    result = run(meeting(override_should_record=True), prefs())
    assert_well_formed(result)
    assert result.deciding_step.step == "override"
    assert "override_should_record = true" in result.deciding_step.detail
    assert result.decision.code == "override_on"
    off = run(meeting(override_should_record=False))
    assert off.deciding_step.step == "override" and not off.decision.will_record


def test_the_api_schedule_decides():
    schedule = SimpleNamespace(enabled=True, meeting_id=uuid.uuid4())
    result = run(meeting(), prefs(), schedule=schedule)
    assert_well_formed(result)
    assert result.deciding_step.step == "api_schedule"
    assert result.decision.code == "scheduled_by_api"
    assert "this meeting" in result.deciding_step.detail
    series = run(meeting(), schedule=SimpleNamespace(enabled=True, meeting_id=None))
    assert "recurring series" in series.deciding_step.detail
    removed = run(meeting(), schedule=SimpleNamespace(enabled=False, meeting_id=uuid.uuid4()))
    assert removed.decision.code == "unscheduled_by_api"
    assert "removed" in removed.deciding_step.detail


def test_a_calendar_without_user_is_decided_there():
    result = trace(meeting(), None, account_email="", now=NOW)
    assert_well_formed(result)
    assert result.deciding_step.step == "calendar_user"
    assert result.decision.code == "no_calendar_user"


def rule(**fields):
    fields.setdefault("calendar_user_id", USER)
    return AutoJoinRule(id=uuid.uuid4(), **fields)


def test_the_matching_rule_is_named_and_no_match_falls_to_the_preferences():
    standup = rule(name="Stand-ups", keywords=["standup"], match_mode="keyword", action="skip")
    other = rule(name="Board", keywords=["board"], match_mode="keyword", priority=5)
    rules = compile_rule_set([standup, other])
    result = run(meeting(title="Daily standup", description=""), rules=rules)
    assert_well_formed(result)
    assert result.deciding_step.step == "rules"
    assert result.decision.code == "rule_skip"
    assert f'rule:{standup.id} "Stand-ups"' in result.deciding_step.detail
    assert "the user's own rule" in result.deciding_step.detail
    assert by_step(result)["preferences"].outcome == SKIPPED

    none = run(meeting(title="Lunch", description=""), rules=rules)
    assert by_step(none)["rules"].outcome == PASS
    assert by_step(none)["rules"].detail == "No rule matched (2 enabled rule(s) tried)."
    assert none.deciding_step.step == "preferences"
    assert none.decision.no_rule_matched


def test_the_deciding_preference_is_named():
    result = run(meeting(is_external=False), prefs(record_external=True, record_confirmed=True))
    assert result.decision.code == "not_external"
    detail = result.deciding_step.detail
    assert detail.startswith("On: record_external, record_confirmed; record_external decided")
    nothing = run(meeting(), prefs())
    assert nothing.decision.code == "no_preferences"
    assert nothing.deciding_step.detail == "None is on."
    unconfirmed = run(meeting(), prefs(record_confirmed=True))
    assert "record_confirmed decided" in unconfirmed.deciding_step.detail


def test_without_a_list_decide_builds_no_steps():
    # The sync's path: nothing recorded, the same decision.
    steps = []
    assert decide(meeting(), prefs(record_internal=True), account_email="", now=NOW) == decide(
        meeting(), prefs(record_internal=True), account_email="", now=NOW, steps=steps
    )
    assert steps


# --- the trace's decision is decide's, whatever the inputs -------------------------------------

RULES = [
    rule(name="skip standups", keywords=["standup"], match_mode="keyword", action="skip"),
    rule(name="join externals", audience="external", priority=3),
    rule(name="join zoom", meeting_platforms=["zoom"], calendar_user_id=None),
    rule(name="skip acme", organizer_emails=["@acme.com"], match_mode="organizer", action="skip"),
    rule(name="join big", min_attendees=3),
]

meetings = st.builds(
    meeting,
    meeting_url=st.sampled_from([None, "https://zoom.us/j/123", "https://meet.google.com/x"]),
    meeting_platform=st.sampled_from([None, "zoom", "google_meet"]),
    is_all_day=st.booleans(),
    is_deleted=st.booleans(),
    status=st.sampled_from(["confirmed", "tentative", "cancelled"]),
    start_time=st.just(NOW + timedelta(hours=1)),
    end_time=st.sampled_from([NOW - timedelta(hours=1), NOW, NOW + timedelta(hours=2)]),
    override_should_record=st.sampled_from([None, True, False]),
    is_external=st.booleans(),
    is_recurring=st.booleans(),
    is_hosted_by_me=st.booleans(),
    attendees=st.lists(
        st.fixed_dictionaries(
            {
                "email": st.sampled_from(["me@acme.com", "x@other.com", "y@acme.com"]),
                "status": st.sampled_from(["accepted", "declined"]),
            }
        ),
        max_size=4,
    ),
    title=st.sampled_from(["Daily standup", "Board review", "Lunch"]),
    description=st.just(""),
    organizer_email=st.sampled_from(["", "boss@acme.com", "ext@other.com"]),
)
preferences = st.one_of(
    st.none(),
    st.fixed_dictionaries({name: st.booleans() for name in FLAGS}).map(lambda on: prefs(**on)),
)
schedules = st.one_of(
    st.none(),
    st.builds(
        SimpleNamespace,
        enabled=st.booleans(),
        meeting_id=st.sampled_from([None, uuid.uuid4()]),
    ),
)
rule_sets = st.lists(st.sampled_from(RULES), unique_by=id, max_size=4).map(compile_rule_set)


@settings(max_examples=400, deadline=None)
@given(
    m=meetings,
    p=preferences,
    schedule=schedules,
    rules=st.one_of(st.none(), rule_sets),
    connected=st.booleans(),
    connecting=st.booleans(),
)
def test_the_trace_decides_exactly_as_decide(m, p, schedule, rules, connected, connecting):
    inputs = dict(
        account_email="me@acme.com",
        now=NOW,
        calendar_connected=connected,
        calendar_connecting=connecting,
        schedule=schedule,
        rules=rules,
        provider="google",
    )
    plain = decide(m, p, **inputs)
    traced = trace(m, p, **inputs)
    assert traced.decision == plain
    assert traced.decision.reason == plain.reason
    assert_well_formed(traced)

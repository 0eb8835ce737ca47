"""The recording decision over every combination of the six preferences, the override and the
prerequisites, against an oracle written from Recall's documentation (spec §2.7)."""

import itertools
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from meetings.decisions import REASONS, decide, unmet_prerequisites

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FLAGS = (
    "record_external",
    "record_internal",
    "record_recurring",
    "record_non_host",
    "record_only_host",
    "record_confirmed",
)


def meeting(**overrides):
    base = dict(
        meeting_url="https://zoom.us/j/123",
        is_all_day=False,
        is_deleted=False,
        status="confirmed",
        start_time=NOW + timedelta(hours=1),
        end_time=NOW + timedelta(hours=2),
        override_should_record=None,
        is_external=False,
        is_recurring=False,
        is_hosted_by_me=False,
        attendees=[],
    )
    return SimpleNamespace(**{**base, **overrides})


def oracle(m, prefs: dict) -> bool:
    """ "Only preferences set to true are evaluated; all evaluated must hold", with
    external/internal read as one OR group (so that both on means "record all")."""
    if m.override_should_record is not None:
        return m.override_should_record
    enabled = {name for name, on in prefs.items() if on}
    if not enabled:
        return False
    holds = {
        "record_recurring": m.is_recurring,
        "record_non_host": not m.is_hosted_by_me,
        "record_only_host": m.is_hosted_by_me,
        "record_confirmed": m.is_hosted_by_me
        or any(a["email"] == "me@acme.com" and a["status"] == "accepted" for a in m.attendees),
    }
    group = enabled & {"record_external", "record_internal"}
    if group and not (
        ("record_external" in group and m.is_external)
        or ("record_internal" in group and not m.is_external)
    ):
        return False
    return all(holds[name] for name in enabled - group)


MEETING_KINDS = [
    dict(is_external=e, is_recurring=r, is_hosted_by_me=h, attendees=a)
    for e, r, h, a in itertools.product(
        (False, True),
        (False, True),
        (False, True),
        (
            [],
            [{"email": "me@acme.com", "status": "accepted"}],
            [{"email": "me@acme.com", "status": "declined"}],
        ),
    )
]


@pytest.mark.parametrize("override", [None, True, False])
def test_every_preference_combination(override):
    checked = 0
    for values in itertools.product((False, True), repeat=len(FLAGS)):
        prefs = dict(zip(FLAGS, values, strict=True))
        user = SimpleNamespace(**prefs)
        for kind in MEETING_KINDS:
            m = meeting(override_should_record=override, **kind)
            decision = decide(m, user, account_email="me@acme.com", now=NOW)
            assert decision.will_record is oracle(m, prefs), (prefs, kind, override, decision)
            assert decision.reason in REASONS.values()
            assert decision.reason.startswith(
                "Recorded" if decision.will_record else "Not recorded"
            )
            checked += 1
    assert checked == 64 * len(MEETING_KINDS)


PREREQUISITES = [
    (dict(meeting_url=None), "no_link"),
    (dict(meeting_url=""), "no_link"),
    (dict(is_all_day=True), "all_day"),
    (dict(is_deleted=True), "deleted"),
    (dict(status="cancelled"), "cancelled"),
    (dict(end_time=NOW), "ended"),
    (dict(start_time=NOW - timedelta(hours=2), end_time=NOW - timedelta(hours=1)), "ended"),
]


@pytest.mark.parametrize("override", [None, True, False])
@pytest.mark.parametrize("broken,code", PREREQUISITES)
def test_prerequisites_beat_everything(broken, code, override):
    everything_on = SimpleNamespace(
        **{**dict.fromkeys(FLAGS, True), "record_non_host": False, "record_only_host": False}
    )
    decision = decide(
        meeting(override_should_record=override, **broken),
        everything_on,
        account_email="me@acme.com",
        now=NOW,
    )
    assert (decision.will_record, decision.code) == (False, code)


def test_every_unmet_prerequisite_is_listed_and_the_first_decides():
    """One list serves the decision (its first entry) and the API's refusal of a bot request
    (calendars.meeting_services, which reports them in its own order)."""
    broken = meeting(meeting_url=None, status="cancelled", end_time=NOW)
    assert unmet_prerequisites(broken, now=NOW) == ["no_link", "cancelled", "ended"]
    assert unmet_prerequisites(meeting(), now=NOW) == []
    assert decide(broken, None, account_email="me@acme.com", now=NOW).code == "no_link"


def test_running_meeting_still_records():
    prefs = SimpleNamespace(**{**dict.fromkeys(FLAGS, False), "record_internal": True})
    m = meeting(start_time=NOW - timedelta(minutes=10), end_time=NOW + timedelta(minutes=20))
    assert decide(m, prefs, account_email="me@acme.com", now=NOW).will_record


def test_without_calendar_user_nothing_is_recorded_automatically():
    decision = decide(meeting(), None, account_email="x@y.z", now=NOW)
    assert (decision.will_record, decision.code) == (False, "no_calendar_user")
    assert decide(meeting(override_should_record=True), None, account_email="", now=NOW).will_record


def test_disconnected_calendar_records_nothing():
    decision = decide(
        meeting(override_should_record=True),
        None,
        account_email="",
        now=NOW,
        calendar_connected=False,
    )
    assert (decision.will_record, decision.code) == (False, "calendar_disconnected")


@pytest.mark.parametrize(
    "prefs,kind,code",
    [
        ({"record_external": True}, {}, "not_external"),
        ({"record_internal": True}, {"is_external": True}, "not_internal"),
        ({"record_recurring": True}, {}, "not_recurring"),
        ({"record_non_host": True}, {"is_hosted_by_me": True}, "hosted_by_me"),
        ({"record_only_host": True}, {}, "not_hosted_by_me"),
        ({"record_confirmed": True}, {}, "not_accepted"),
        ({}, {}, "no_preferences"),
        ({"record_internal": True, "record_external": True}, {}, "preferences"),
    ],
)
def test_reasons_name_the_deciding_rule(prefs, kind, code):
    user = SimpleNamespace(**{**dict.fromkeys(FLAGS, False), **prefs})
    assert decide(meeting(**kind), user, account_email="me@acme.com", now=NOW).code == code

"""The auto-join rules engine (meetings/rules.py), table-driven: every condition, the match
modes, which rule wins, and time windows across daylight-saving changes. Pure: no database."""

import uuid
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest

from meetings.models import AutoJoinRule
from meetings.rules import compile_rule_set, match

USER = uuid.uuid4()
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday


def meeting(**overrides):
    base = dict(
        title="Weekly sync",
        description="",
        organizer_email="boss@acme.com",
        attendees=[
            {"email": "boss@acme.com", "status": "accepted"},
            {"email": "me@acme.com", "status": "accepted"},
        ],
        is_external=False,
        is_recurring=False,
        meeting_platform="zoom",
        start_time=MONDAY,
    )
    return SimpleNamespace(**{**base, **overrides})


def rule(**fields):
    fields.setdefault("name", "rule")
    fields.setdefault("calendar_user_id", USER)
    return AutoJoinRule(**fields)


def people(*emails):
    return [{"email": e, "status": "accepted"} for e in emails]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (rule fields, meeting fields, calendar provider, matches?)
CASES = {
    # match modes
    "all matches anything": ({}, {}, "google", True),
    "all ignores keywords": ({"keywords": ["nope"]}, {}, "google", True),
    "all ignores organizers": ({"organizer_emails": ["x@y.com"]}, {}, "google", True),
    "keyword in title": (
        {"match_mode": "keyword", "keywords": ["interview"]},
        {"title": "Interview: Sam"},
        "google",
        True,
    ),
    "keyword in description": (
        {"match_mode": "keyword", "keywords": ["interview"]},
        {"description": "second INTERVIEW round"},
        "google",
        True,
    ),
    "keyword missing": (
        {"match_mode": "keyword", "keywords": ["interview"]},
        {"title": "Standup"},
        "google",
        False,
    ),
    "any keyword is enough": (
        {"match_mode": "keyword", "keywords": ["demo", "standup"]},
        {"title": "Daily standup"},
        "google",
        True,
    ),
    "keyword case folding": (
        {"match_mode": "keyword", "keywords": ["STRASSE"]},
        {"title": "Meeting Straße 5"},
        "google",
        True,
    ),
    "keyword substring without whole_word": (
        {"match_mode": "keyword", "keywords": ["view"]},
        {"title": "Interview"},
        "google",
        True,
    ),
    "whole_word refuses a part of a word": (
        {"match_mode": "keyword", "keywords": ["view"], "whole_word": True},
        {"title": "Interview"},
        "google",
        False,
    ),
    "whole_word accepts the word": (
        {"match_mode": "keyword", "keywords": ["view"], "whole_word": True},
        {"title": "Design (view) review"},
        "google",
        True,
    ),
    "whole_word phrase": (
        {"match_mode": "keyword", "keywords": ["board meeting"], "whole_word": True},
        {"title": "Q3 Board Meeting."},
        "google",
        True,
    ),
    "keyword mode ignores organizers": (
        {"match_mode": "keyword", "keywords": ["sync"], "organizer_emails": ["x@y.com"]},
        {},
        "google",
        True,
    ),
    "organizer exact": (
        {"match_mode": "organizer", "organizer_emails": ["boss@acme.com"]},
        {},
        "google",
        True,
    ),
    "organizer case-insensitive": (
        {"match_mode": "organizer", "organizer_emails": ["boss@acme.com"]},
        {"organizer_email": "Boss@ACME.com"},
        "google",
        True,
    ),
    "organizer other": (
        {"match_mode": "organizer", "organizer_emails": ["legal@acme.com"]},
        {},
        "google",
        False,
    ),
    "organizer domain": (
        {"match_mode": "organizer", "organizer_emails": ["@acme.com"]},
        {},
        "google",
        True,
    ),
    "organizer subdomain": (
        {"match_mode": "organizer", "organizer_emails": ["@acme.com"]},
        {"organizer_email": "eu@eu.acme.com"},
        "google",
        True,
    ),
    "organizer lookalike domain": (
        {"match_mode": "organizer", "organizer_emails": ["@acme.com"]},
        {"organizer_email": "x@notacme.com"},
        "google",
        False,
    ),
    "organizer missing": (
        {"match_mode": "organizer", "organizer_emails": ["@acme.com"]},
        {"organizer_email": ""},
        "google",
        False,
    ),
    "organizer mode ignores keywords": (
        {"match_mode": "organizer", "organizer_emails": ["@acme.com"], "keywords": ["zzz"]},
        {},
        "google",
        True,
    ),
    "custom needs both": (
        {"match_mode": "custom", "organizer_emails": ["@acme.com"], "keywords": ["zzz"]},
        {},
        "google",
        False,
    ),
    "custom both hold": (
        {"match_mode": "custom", "organizer_emails": ["@acme.com"], "keywords": ["sync"]},
        {},
        "google",
        True,
    ),
    "custom with nothing set matches": ({"match_mode": "custom"}, {}, "google", True),
    # exclude patterns
    "exclude plain word": ({"exclude_patterns": ["sync"]}, {}, "google", False),
    "exclude case-insensitive": ({"exclude_patterns": ["WEEKLY"]}, {}, "google", False),
    "exclude in description": (
        {"exclude_patterns": ["confidential"]},
        {"description": "Strictly Confidential"},
        "google",
        False,
    ),
    "exclude not found": ({"exclude_patterns": ["1:1", "private"]}, {}, "google", True),
    "exclude regex": (
        {"exclude_patterns": [r"^\[internal\]"]},
        {"title": "[Internal] planning"},
        "google",
        False,
    ),
    "exclude anchored regex elsewhere": (
        {"exclude_patterns": [r"^\[internal\]"]},
        {"title": "planning [internal]"},
        "google",
        True,
    ),
    "exclude leading and trailing .*": (
        {"exclude_patterns": [".*lunch.*"]},
        {"title": "Team lunch"},
        "google",
        False,
    ),
    "exclude bounded gap": (
        {"exclude_patterns": [r"1.{0,3}1"]},
        {"title": "1 : 1 with Sam"},
        "google",
        False,
    ),
    "exclude beats keyword": (
        {"match_mode": "keyword", "keywords": ["interview"], "exclude_patterns": ["1:1"]},
        {"title": "Interview 1:1"},
        "google",
        False,
    ),
    # attendees
    "attendee exact": ({"attendee_emails": ["me@acme.com"]}, {}, "google", True),
    "attendee domain": (
        {"attendee_emails": ["@globex.com"]},
        {"attendees": people("me@acme.com", "sam@globex.com")},
        "google",
        True,
    ),
    "attendee absent": ({"attendee_emails": ["@globex.com"]}, {}, "google", False),
    "attendee list empty": ({"attendee_emails": ["@acme.com"]}, {"attendees": []}, "google", False),
    "min attendees met": ({"min_attendees": 2}, {}, "google", True),
    "min attendees not met (1:1 excluded)": ({"min_attendees": 3}, {}, "google", False),
    "max attendees met": ({"max_attendees": 2}, {}, "google", True),
    "max attendees exceeded": (
        {"max_attendees": 2},
        {"attendees": people("a@x.com", "b@x.com", "c@x.com")},
        "google",
        False,
    ),
    "zero attendees with min 0": ({"max_attendees": 0}, {"attendees": []}, "google", True),
    # audience, recurrence, platform, provider
    "internal only, internal": ({"audience": "internal"}, {}, "google", True),
    "internal only, external": ({"audience": "internal"}, {"is_external": True}, "google", False),
    "external only, external": ({"audience": "external"}, {"is_external": True}, "google", True),
    "external only, internal": ({"audience": "external"}, {}, "google", False),
    "recurring wanted, recurring": ({"recurring": True}, {"is_recurring": True}, "google", True),
    "recurring wanted, single": ({"recurring": True}, {}, "google", False),
    "single wanted, recurring": ({"recurring": False}, {"is_recurring": True}, "google", False),
    "single wanted, single": ({"recurring": False}, {}, "google", True),
    "platform listed": ({"meeting_platforms": ["zoom", "webex"]}, {}, "google", True),
    "platform not listed": ({"meeting_platforms": ["google_meet"]}, {}, "google", False),
    "no platform on meeting": (
        {"meeting_platforms": ["zoom"]},
        {"meeting_platform": None},
        "x",
        False,
    ),
    "provider google": ({"calendar_provider": "google"}, {}, "google", True),
    "provider other": ({"calendar_provider": "microsoft"}, {}, "google", False),
    # days and windows (UTC unless said)
    "weekday listed": ({"days_of_week": [0, 1, 2, 3]}, {}, "google", True),
    "weekday not listed": ({"days_of_week": [4, 5, 6]}, {}, "google", False),
    "window includes start": (
        {"time_window_start": time(10), "time_window_end": time(11)},
        {},
        "google",
        True,
    ),
    "window excludes end": (
        {"time_window_start": time(9), "time_window_end": time(10)},
        {},
        "google",
        False,
    ),
    "window before": (
        {"time_window_start": time(11), "time_window_end": time(18)},
        {},
        "google",
        False,
    ),
    "weekday in the rule's zone, not UTC": (
        # Monday 03:00 UTC is Sunday 22:00 in New York.
        {"days_of_week": [0], "timezone": "America/New_York"},
        {"start_time": at("2026-11-02T03:00")},
        "google",
        False,
    ),
    "same instant, UTC weekday": (
        {"days_of_week": [0]},
        {"start_time": at("2026-11-02T03:00")},
        "google",
        True,
    ),
    "window across midnight UTC in the zone": (
        {
            "time_window_start": time(9),
            "time_window_end": time(10),
            "timezone": "Asia/Tokyo",
        },
        {"start_time": at("2026-11-02T00:30")},  # 09:30 in Tokyo
        "google",
        True,
    ),
}

# A 09:00-18:00 working-hours window on weekdays, around the daylight-saving switches.
BERLIN = {
    "time_window_start": time(9),
    "time_window_end": time(18),
    "days_of_week": [0, 1, 2, 3, 4],
    "timezone": "Europe/Berlin",
}
NEW_YORK = {**BERLIN, "timezone": "America/New_York"}
DST_CASES = {
    # Europe/Berlin: CET (+1) until 2026-03-29, CEST (+2) until 2026-10-25.
    "berlin 07:30Z on Fri before March switch is 08:30": (BERLIN, "2026-03-27T07:30", False),
    "berlin 07:30Z on Mon after March switch is 09:30": (BERLIN, "2026-03-30T07:30", True),
    "berlin 16:30Z on Fri before March switch is 17:30": (BERLIN, "2026-03-27T16:30", True),
    "berlin 16:30Z on Mon after March switch is 18:30": (BERLIN, "2026-03-30T16:30", False),
    "berlin 07:30Z on Fri before October switch is 09:30": (BERLIN, "2026-10-23T07:30", True),
    "berlin 07:30Z on Mon after October switch is 08:30": (BERLIN, "2026-10-26T07:30", False),
    "berlin 16:30Z on Mon after October switch is 17:30": (BERLIN, "2026-10-26T16:30", True),
    "berlin Sunday of the switch is no weekday": (BERLIN, "2026-03-29T10:00", False),
    # America/New_York: EST (-5) until 2026-03-08, EDT (-4) until 2026-11-01.
    "new york 13:30Z before March switch is 08:30": (NEW_YORK, "2026-03-06T13:30", False),
    "new york 13:30Z after March switch is 09:30": (NEW_YORK, "2026-03-09T13:30", True),
    "new york 22:30Z before March switch is 17:30": (NEW_YORK, "2026-03-06T22:30", True),
    "new york 22:30Z after March switch is 18:30": (NEW_YORK, "2026-03-09T22:30", False),
    "new york 13:30Z before November switch is 09:30": (NEW_YORK, "2026-10-30T13:30", True),
    "new york 13:30Z after November switch is 08:30": (NEW_YORK, "2026-11-02T13:30", False),
    "new york 22:30Z after November switch is 17:30": (NEW_YORK, "2026-11-02T22:30", True),
}
# The repeated and the skipped hour.
EDGE_CASES = {
    "first 01:30 of the repeated NY hour": (
        {"time_window_start": time(1), "time_window_end": time(2), "timezone": "America/New_York"},
        "2026-11-01T05:30",
        True,
    ),
    "second 01:30 of the repeated NY hour": (
        {"time_window_start": time(1), "time_window_end": time(2), "timezone": "America/New_York"},
        "2026-11-01T06:30",
        True,
    ),
    "Berlin's skipped 02:xx hour never matches": (
        {"time_window_start": time(2), "time_window_end": time(3), "timezone": "Europe/Berlin"},
        "2026-03-29T01:30",  # 03:30 CEST
        False,
    ),
    "the instant after the skipped hour": (
        {"time_window_start": time(3), "time_window_end": time(4), "timezone": "Europe/Berlin"},
        "2026-03-29T01:30",
        True,
    ),
}


def test_case_dates_are_what_they_say():
    assert at("2026-03-27T00:00").weekday() == 4 and at("2026-03-30T00:00").weekday() == 0
    assert at("2026-10-23T00:00").weekday() == 4 and at("2026-10-26T00:00").weekday() == 0
    assert at("2026-03-06T00:00").weekday() == 4 and at("2026-03-09T00:00").weekday() == 0
    assert at("2026-10-30T00:00").weekday() == 4 and at("2026-03-29T00:00").weekday() == 6


@pytest.mark.parametrize("fields,changes,provider,expected", CASES.values(), ids=CASES.keys())
def test_condition(fields, changes, provider, expected):
    found = match(meeting(**changes), compile_rule_set([rule(**fields)]), provider)
    assert (found is not None) is expected


@pytest.mark.parametrize(
    "fields,start,expected",
    [*DST_CASES.values(), *EDGE_CASES.values()],
    ids=[*DST_CASES, *EDGE_CASES],
)
def test_time_window_in_the_rules_zone(fields, start, expected):
    found = match(meeting(start_time=at(start)), compile_rule_set([rule(**fields)]), "google")
    assert (found is not None) is expected


def test_every_condition_must_hold():
    both = rule(audience="external", min_attendees=3)
    external_pair = meeting(is_external=True)
    assert match(external_pair, compile_rule_set([both]), "google") is None
    crowd = meeting(is_external=True, attendees=people("a@x.com", "b@y.com", "c@z.com"))
    assert match(crowd, compile_rule_set([both]), "google") is not None


# --- which rule wins ----------------------------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_highest_priority_wins_whatever_the_order():
    low = rule(name="low", priority=1, action="join")
    high = rule(name="high", priority=5, action="skip")
    for order in ([low, high], [high, low]):
        assert match(meeting(), compile_rule_set(order), "google").name == "high"


def test_a_higher_rule_that_does_not_match_is_passed_over():
    high = rule(name="high", priority=9, match_mode="keyword", keywords=["zzz"])
    low = rule(name="low", priority=1)
    assert match(meeting(), compile_rule_set([high, low]), "google").name == "low"


def test_ties_go_to_the_older_rule_then_the_smaller_id():
    older = rule(name="older", priority=3, created_at=T0)
    newer = rule(name="newer", priority=3, created_at=T0 + timedelta(seconds=1))
    assert match(meeting(), compile_rule_set([newer, older]), "google").name == "older"
    a = rule(name="a", priority=3, created_at=T0, id=uuid.UUID(int=1))
    b = rule(name="b", priority=3, created_at=T0, id=uuid.UUID(int=2))
    for order in ([a, b], [b, a]):
        assert match(meeting(), compile_rule_set(order), "google").name == "a"
    proposed = rule(name="proposed", priority=3)  # not saved: the newest
    assert match(meeting(), compile_rule_set([proposed, a]), "google").name == "a"


def test_disabled_rules_take_no_part():
    off = rule(name="off", priority=9, is_enabled=False)
    assert not compile_rule_set([off])
    on = rule(name="on", priority=1)
    assert match(meeting(), compile_rule_set([off, on]), "google").name == "on"


def test_user_rules_come_before_project_defaults_whatever_the_priority():
    default = rule(name="default", calendar_user_id=None, priority=100)
    own = rule(name="own", priority=-5)
    assert match(meeting(), compile_rule_set([default, own]), "google").name == "own"
    picky = rule(name="own", priority=-5, match_mode="keyword", keywords=["zzz"])
    assert match(meeting(), compile_rule_set([default, picky]), "google").name == "default"


def test_empty_rule_set_matches_nothing():
    assert match(meeting(), compile_rule_set([]), "google") is None
    assert match(meeting(), None, "google") is None


def test_ten_thousand_meetings_against_ten_rules():
    """Correctness at the size of bench/bench_rules.py's engine figure (its speed is measured
    there, not here)."""
    rules = [
        rule(name=f"r{n}", priority=n, match_mode="keyword", keywords=[f"kw{n}", "zzz"])
        for n in range(7)
    ] + [
        rule(name="hours", priority=1, **BERLIN, audience="external", min_attendees=3),
        rule(name="legal", priority=50, match_mode="organizer", organizer_emails=["@legal.com"]),
        rule(name="no 1:1", priority=0, exclude_patterns=["1:1", r"^\[private\]"]),
    ]
    compiled = compile_rule_set(rules)
    meetings = [
        meeting(
            title=f"Meeting {n}",
            description="Agenda: numbers and plans. " * 20,
            start_time=MONDAY + timedelta(minutes=17 * n),
            is_external=n % 2 == 0,
            attendees=people("a@acme.com", "b@acme.com", "c@globex.com")[: 3 - n % 2],
        )
        for n in range(10_000)
    ]
    found = [match(m, compiled, "google") for m in meetings]
    assert {rule.name for rule in found if rule} == {"no 1:1", "hours"}

"""Seeded calendar generators: deterministic, varied, and loadable into both fakes."""

import dataclasses
import datetime as dt
from collections import Counter

import pytest
import requests

from tests.fakes import Person
from tests.fakes.generators import generate_calendar, populate

UTC = dt.UTC
START = dt.datetime(2024, 6, 1, tzinfo=UTC)
END = dt.datetime(2024, 7, 1, tzinfo=UTC)
OWNER = Person("dana@acme.test", "Dana Lee")


def generate(seed=5, n=400, provider="google", **options):
    return generate_calendar(
        seed=seed,
        n=n,
        owner=OWNER,
        window_start=START,
        window_end=END,
        provider=provider,
        **options,
    )


def as_data(calendar):
    return [(dataclasses.asdict(e), e.extra) for e in calendar.events], calendar.exceptions


def test_same_seed_same_calendar_different_seed_different_calendar():
    assert as_data(generate(seed=5)) == as_data(generate(seed=5))
    assert as_data(generate(seed=5)) != as_data(generate(seed=6))
    assert as_data(generate(provider="microsoft")) == as_data(generate(provider="microsoft"))


def link_kind(event):
    text = f"{event.location} {event.description} {event.conference.join_url if event.conference else ''}"
    for kind, marker in (
        ("meet", "meet.google.com"),
        ("zoom", "zoom.us"),
        ("teams", "teams.microsoft.com"),
        ("webex", "webex.com"),
    ):
        if marker in text:
            return kind
    return None


def test_google_calendar_has_the_realistic_mix():
    calendar = generate(provider="google")
    events = calendar.events
    kinds = Counter(link_kind(e) for e in events)
    assert set(kinds) == {"meet", "zoom", "teams", "webex", None}
    assert all(e.conference for e in events if link_kind(e) == "meet")
    assert any(e.location.startswith("https://") for e in events if link_kind(e) == "zoom")
    assert any(e.conference for e in events if link_kind(e) == "zoom")
    assert not any(e.conference for e in events if link_kind(e) == "teams")
    assert any(e.all_day for e in events)
    assert any(e.recurrence for e in events)
    assert any(x.cancelled for x in calendar.exceptions)
    assert any(not x.cancelled for x in calendar.exceptions)
    assert any(e.organizer is None for e in events)  # owner organises
    assert any(e.organizer and not e.organizer.email.endswith("@acme.test") for e in events)
    responses = {a.response for e in events for a in e.attendees if a.email == OWNER.email}
    assert responses == {"accepted", "declined", "tentative", "needsAction"}
    assert any(a.resource for e in events for a in e.attendees)
    assert {e.visibility for e in events} >= {"default", "private"}
    for event in events:
        start = event.start if event.all_day else event.start.astimezone(UTC)
        assert (
            (START.date() if event.all_day else START)
            <= start
            < (END.date() if event.all_day else END)
        )


def test_microsoft_calendar_puts_teams_in_online_meeting_and_others_in_the_body():
    events = generate(provider="microsoft").events
    assert all(e.conference.provider == "teams" for e in events if e.conference)
    assert any(link_kind(e) == "zoom" and "zoom.us" in e.description for e in events)
    assert any(e.sensitivity == "personal" for e in events)
    assert all(e.id.startswith("AAMkAG") for e in events)


@pytest.mark.parametrize("fixture", ["fake_google", "fake_microsoft"])
def test_populate_loads_into_the_fake(request, fixture):
    fake = request.getfixturevalue(fixture)
    fake.add_account(OWNER.email, name=OWNER.name)
    generated = populate(fake, OWNER.email, seed=9, n=120, window_start=START, window_end=END)
    token = fake.issue_access_token(OWNER.email)
    headers = {"Authorization": f"Bearer {token}"}
    if fixture == "fake_google":
        url = f"{fake.calendar_api_url}calendars/primary/events"
        params = {"singleEvents": "true", "maxResults": "2500", "timeMin": START.isoformat()}
        items = requests.get(url, params=params, headers=headers, timeout=10).json()["items"]
    else:
        headers["Prefer"] = "odata.maxpagesize=1000"
        url = f"{fake.graph_url}me/calendarView/delta"
        params = {"startDateTime": START.isoformat(), "endDateTime": END.isoformat()}
        items = requests.get(url, params=params, headers=headers, timeout=10).json()["value"]
    singles = [e for e in generated.events if e.recurrence is None]
    assert len(items) > len(singles)  # series expand into instances
    assert len(fake.event_ids(OWNER.email)) == 120

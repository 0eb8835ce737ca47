"""Auto-join rules through the Aitronos surface: the §4.4 rule object and our extensions, CRUD
(`{items, total}`), refusals with the core's codes that store nothing, and rules changing which
of the user's meetings get bots - the same core as every other surface."""

from datetime import timedelta

import pytest

from bots.models import Bot
from meetings.models import AutoJoinRule
from tests.factories import MeetingFactory

from .conftest import BASE, assert_aitronos_error, soon

RULES = f"{BASE}/auto-join/rules"

INTERVIEWS = {
    "name": "Interviews",
    "match_mode": "keyword",
    "keywords": ["interview"],
    "bot_name": "Acme Interviewer",
}
RULE_KEYS = {
    "id",
    "name",
    "is_enabled",
    "calendar_provider",
    "match_mode",
    "keywords",
    "organizer_emails",
    "exclude_patterns",
    "min_attendees",
    "max_attendees",
    "time_window_start",
    "time_window_end",
    "days_of_week",
    "timezone",
    "bot_name",
    "priority",
    "created_at",
    "updated_at",
    "action",
    "whole_word",
    "attendee_emails",
    "audience",
    "recurring",
    "meeting_platforms",
    "bot_config",
}


def create(buddy, body) -> dict:
    response = buddy.post(RULES, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_crud(buddy, dana):
    created = create(buddy, {"name": "Everything"})
    assert set(created) == RULE_KEYS
    assert {k: v for k, v in created.items() if k not in ("id", "created_at", "updated_at")} == {
        "name": "Everything",
        "is_enabled": True,
        "calendar_provider": None,
        "match_mode": "all",
        "keywords": [],
        "organizer_emails": [],
        "exclude_patterns": [],
        "min_attendees": 0,
        "max_attendees": None,
        "time_window_start": None,
        "time_window_end": None,
        "days_of_week": [],
        "timezone": "UTC",
        "bot_name": "",
        "priority": 0,
        "action": "join",
        "whole_word": False,
        "attendee_emails": [],
        "audience": "any",
        "recurring": None,
        "meeting_platforms": [],
        "bot_config": {},
    }
    rule = AutoJoinRule.objects.get(pk=created["id"])
    assert (rule.calendar_user_id, rule.project_id) == (dana.pk, dana.project_id)

    second = create(buddy, {**INTERVIEWS, "priority": 5})
    listed = buddy.get(RULES).json()
    assert listed == {"items": [second, created], "total": 2}  # highest priority first
    assert buddy.get(f"{RULES}/{created['id']}").json() == created

    changed = buddy.patch(f"{RULES}/{created['id']}", {"priority": 9}, format="json")
    assert changed.status_code == 200
    assert changed.json()["priority"] == 9
    assert changed.json()["name"] == "Everything"  # a PATCH changes what it sends
    assert [r["id"] for r in buddy.get(RULES).json()["items"]] == [created["id"], second["id"]]

    deleted = buddy.delete(f"{RULES}/{created['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert_aitronos_error(buddy.get(f"{RULES}/{created['id']}"), 404, "NOT_FOUND")
    assert_aitronos_error(buddy.delete(f"{RULES}/{created['id']}"), 404, "NOT_FOUND")
    assert buddy.get(RULES).json()["total"] == 1


def test_every_field_and_its_mapping(buddy):
    body = {
        "name": "Customer calls",
        "is_enabled": True,
        "calendar_provider": "outlook_calendar",
        "match_mode": "custom",
        "keywords": ["customer", "demo"],
        "organizer_emails": ["@acme.com"],
        "exclude_patterns": ["^internal"],
        "min_attendees": 2,
        "max_attendees": 12,
        "time_window_start": "09:00",
        "time_window_end": "18:30",
        "days_of_week": [4, 0, 1],
        "timezone": "Europe/Berlin",
        "bot_name": "Acme Notetaker",
        "priority": 10,
        "action": "join",
        "whole_word": True,
        "attendee_emails": ["lee@globex.com"],
        "audience": "external",
        "recurring": False,
        "meeting_platforms": ["teams", "zoom"],
        "bot_config": {"recording_mode": "audio_only"},
    }
    created = create(buddy, body)
    assert {k: created[k] for k in body} == {**body, "days_of_week": [0, 1, 4]}
    rule = AutoJoinRule.objects.get(pk=created["id"])
    # Stored in the core's names: our provider and platform ids, times.
    assert rule.calendar_provider == "microsoft"
    assert rule.meeting_platforms == ["microsoft_teams", "zoom"]
    assert (rule.time_window_start.isoformat(), rule.time_window_end.isoformat()) == (
        "09:00:00",
        "18:30:00",
    )
    # What GET returns can be sent back as it is (read-only keys are ignored).
    again = buddy.patch(f"{RULES}/{created['id']}", created, format="json")
    assert again.status_code == 200, again.json()
    assert {k: again.json()[k] for k in body} == {k: created[k] for k in body}
    cleared = buddy.patch(
        f"{RULES}/{created['id']}",
        {"calendar_provider": None, "time_window_start": None, "time_window_end": None},
        format="json",
    ).json()
    assert (cleared["calendar_provider"], cleared["time_window_start"]) == (None, None)


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({"name": "x", "timezone": "Mars/Olympus"}, "INVALID_TIMEZONE", {"timezone"}),
        (
            {"name": "x", "time_window_start": "18:00", "time_window_end": "09:00"},
            "WINDOW_END_BEFORE_START",
            {"time_window_end"},
        ),
        ({"name": "x", "days_of_week": [7]}, "UNKNOWN_WEEKDAY", {"days_of_week"}),
        ({"name": "x", "match_mode": "keyword"}, "REQUIRED", {"keywords"}),
        ({"name": "x", "exclude_patterns": ["(a)\\1"]}, None, {"exclude_patterns"}),
        ({"name": "x", "min_attendees": 5, "max_attendees": 2}, "MAX_BELOW_MIN", None),
        ({"name": "x", "organizer_emails": ["not an address"]}, None, {"organizer_emails"}),
        ({"name": "x", "action": "skip", "bot_name": "B"}, "ONLY_FOR_JOIN", {"bot_name"}),
        ({"name": "x", "calendar_provider": "zoom"}, "VALIDATION_ERROR", {"calendar_provider"}),
        ({"name": "x", "time_window_start": "9am"}, "VALIDATION_ERROR", {"time_window_start"}),
        ({"name": "x", "time_window_start": "09:00:30"}, "VALIDATION_ERROR", None),
        ({"name": "x", "keywords": "interview"}, "VALIDATION_ERROR", {"keywords"}),
        ({"name": "x", "match_mode": "regex"}, "VALIDATION_ERROR", {"match_mode"}),
        ({"name": "x", "bot_config": []}, "NOT_AN_OBJECT", {"bot_config"}),
        ({"name": ""}, "VALIDATION_ERROR", {"name"}),
        ({"name": "x" * 256}, "VALIDATION_ERROR", {"name"}),
        ({"keywords": ["a"]}, "VALIDATION_ERROR", {"name"}),
        ({"name": "x", "project": "other"}, "VALIDATION_ERROR", {"project"}),
    ],
)
def test_refusals_store_nothing(buddy, body, code, fields):
    response = buddy.post(RULES, body, format="json")
    error = assert_aitronos_error(response, 400, code or response.json()["error"]["code"])
    assert error["code"] not in ("", "INVALID")
    if fields is not None:
        assert set(error["details"]) == fields
    assert not AutoJoinRule.objects.exists()


def test_a_refused_patch_changes_nothing(buddy):
    created = create(buddy, INTERVIEWS)
    response = buddy.patch(
        f"{RULES}/{created['id']}", {"priority": 3, "timezone": "Nowhere/Land"}, format="json"
    )
    assert_aitronos_error(response, 400, "INVALID_TIMEZONE")
    assert buddy.get(f"{RULES}/{created['id']}").json() == created


def test_too_many_rules(buddy, dana, monkeypatch):
    monkeypatch.setattr("calendars.rule_services.MAX_RULES", 2)
    create(buddy, {"name": "one"})
    create(buddy, {"name": "two"})
    assert_aitronos_error(
        buddy.post(RULES, {"name": "three"}, format="json"), 400, "TOO_MANY_RULES"
    )


def statuses(buddy) -> dict[str, tuple[str, str | None]]:
    items = buddy.get(f"{BASE}/calendar/events").json()["items"]
    return {e["title"]: (e["auto_join_status"], e["session_id"]) for e in items}


def test_rules_decide_which_meetings_get_bots(buddy, google_calendar):
    """No preference is on: nothing is joined until a rule says so."""
    for hour, title in enumerate(["Interview: Sam", "Standup", "Interview debrief"], start=1):
        MeetingFactory(
            calendar=google_calendar,
            title=title,
            start_time=soon(hour),
            end_time=soon(hour) + timedelta(minutes=30),
            meeting_url=f"https://meet.google.com/abc-defg-hi{hour}",
        )
    assert {status for status, _ in statuses(buddy).values()} == {"skipped"}

    rule = create(buddy, INTERVIEWS)
    now = statuses(buddy)
    assert now["Standup"] == ("skipped", None)
    for title in ("Interview: Sam", "Interview debrief"):
        status, session_id = now[title]
        assert status == "scheduled"
        bot = Bot.objects.get(pk=session_id)
        assert (bot.name, bot.status) == ("Acme Interviewer", Bot.Status.SCHEDULED)
    body = buddy.get(f"{BASE}/calendar/events", {"auto_join_status": "scheduled"}).json()
    assert [e["title"] for e in body["items"]] == ["Interview: Sam", "Interview debrief"]
    assert body["items"][0]["auto_join_reason"].startswith(f"Recorded: rule:{rule['id']}")

    # A higher skipping rule for debriefs wins over the interviews rule.
    skip = create(
        buddy,
        {
            "name": "No debriefs",
            "action": "skip",
            "priority": 10,
            "match_mode": "keyword",
            "keywords": ["debrief"],
        },
    )
    assert statuses(buddy)["Interview debrief"] == ("skipped", None)
    assert statuses(buddy)["Interview: Sam"][0] == "scheduled"

    # Disabling a rule re-decides at once; deleting the other too.
    buddy.patch(f"{RULES}/{skip['id']}", {"is_enabled": False}, format="json")
    assert statuses(buddy)["Interview debrief"][0] == "scheduled"
    buddy.delete(f"{RULES}/{rule['id']}")
    assert {status for status, _ in statuses(buddy).values()} == {"skipped"}
    assert not Bot.objects.live().exists()

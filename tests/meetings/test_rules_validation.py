"""AutoJoinRule.clean: every bad input is a field error with a code, the same for the admin's
form and the services behind the APIs; good input is normalised."""

from datetime import time

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from meetings.models import AutoJoinRule, Meeting
from meetings.rules import check_pattern
from tests.admin_forms import admin_form
from tests.factories import CalendarFactory, CalendarUserFactory, MeetingFactory


@pytest.fixture
def user(acme):
    return CalendarUserFactory(project=acme.project)


def errors_of(user, **fields) -> dict[str, list[str]]:
    rule = AutoJoinRule(project=user.project, calendar_user=user, **{"name": "r", **fields})
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    return {name: [e.code for e in errs] for name, errs in refused.value.error_dict.items()}


BAD = [
    ({"timezone": "Mars/Olympus"}, "timezone", "invalid_timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone", "invalid_timezone"),
    ({"timezone": ""}, "timezone", "blank"),
    (
        {"time_window_start": time(18), "time_window_end": time(9)},
        "time_window_end",
        "window_end_before_start",
    ),
    (
        {"time_window_start": time(9), "time_window_end": time(9)},
        "time_window_end",
        "window_end_before_start",
    ),
    ({"time_window_start": time(9)}, "time_window_end", "required"),
    ({"time_window_end": time(9)}, "time_window_start", "required"),
    (
        {"time_window_start": "25:00", "time_window_end": "26:00"},
        "time_window_start",
        "invalid_time",
    ),
    (
        {"time_window_start": time(9, 0, 30), "time_window_end": time(10)},
        "time_window_start",
        "whole_minutes",
    ),
    ({"days_of_week": [7]}, "days_of_week", "unknown_weekday"),
    ({"days_of_week": [-1]}, "days_of_week", "unknown_weekday"),
    ({"days_of_week": ["1"]}, "days_of_week", "unknown_weekday"),
    ({"days_of_week": [True]}, "days_of_week", "unknown_weekday"),
    ({"days_of_week": "0,1"}, "days_of_week", "not_a_list"),
    ({"organizer_emails": ["not-an-email"]}, "organizer_emails", "invalid_address"),
    ({"organizer_emails": ["@localhost"]}, "organizer_emails", "invalid_address"),
    ({"organizer_emails": ["@"]}, "organizer_emails", "invalid_address"),
    ({"organizer_emails": [42]}, "organizer_emails", "invalid_address"),
    ({"attendee_emails": ["a@b@c.com"]}, "attendee_emails", "invalid_address"),
    (
        {"attendee_emails": [f"p{n}@acme.com" for n in range(51)]},
        "attendee_emails",
        "too_many_items",
    ),
    ({"keywords": [""]}, "keywords", "invalid_keyword"),
    ({"keywords": ["x" * 101]}, "keywords", "invalid_keyword"),
    ({"keywords": [f"k{n}" for n in range(51)]}, "keywords", "too_many_items"),
    ({"match_mode": "keyword"}, "keywords", "required"),
    ({"match_mode": "organizer"}, "organizer_emails", "required"),
    ({"exclude_patterns": [r"(a|b)\1"]}, "exclude_patterns", "regex_too_expensive"),
    ({"exclude_patterns": ["(?<=a)b"]}, "exclude_patterns", "regex_too_expensive"),
    ({"exclude_patterns": ["x(?!y)"]}, "exclude_patterns", "regex_too_expensive"),
    ({"exclude_patterns": ["(a{1,100}){1,100}"]}, "exclude_patterns", "regex_too_expensive"),
    (
        {"exclude_patterns": ["((a|b|c|d){1,1000}x){1,1000}"]},
        "exclude_patterns",
        "regex_too_expensive",
    ),
    ({"exclude_patterns": ["x" * 201]}, "exclude_patterns", "regex_too_expensive"),
    ({"exclude_patterns": ["(unclosed"]}, "exclude_patterns", "invalid_regex"),
    ({"exclude_patterns": ["x{2,1}"]}, "exclude_patterns", "invalid_regex"),
    ({"exclude_patterns": [".*"]}, "exclude_patterns", "invalid_regex"),
    ({"exclude_patterns": ["a?|b*"]}, "exclude_patterns", "invalid_regex"),
    ({"exclude_patterns": [f"p{n}" for n in range(21)]}, "exclude_patterns", "too_many_items"),
    ({"meeting_platforms": ["skype"]}, "meeting_platforms", "unknown_platform"),
    ({"min_attendees": 5, "max_attendees": 2}, "max_attendees", "max_below_min"),
    ({"max_attendees": 10_001}, "max_attendees", "range"),
    ({"min_attendees": -1}, "min_attendees", "min_value"),
    ({"priority": 10**7}, "priority", "range"),
    ({"action": "maybe"}, "action", "invalid_choice"),
    ({"match_mode": "fuzzy"}, "match_mode", "invalid_choice"),
    ({"audience": "everyone"}, "audience", "invalid_choice"),
    ({"calendar_provider": "apple"}, "calendar_provider", "invalid_choice"),
    ({"name": ""}, "name", "blank"),
    ({"name": "   "}, "name", "blank"),
    ({"name": "x" * 256}, "name", "max_length"),
    ({"action": "skip", "bot_name": "Acme"}, "bot_name", "only_for_join"),
    ({"action": "skip", "bot_config": {"a": 1}}, "bot_config", "only_for_join"),
    ({"bot_config": ["a"]}, "bot_config", "not_an_object"),
    ({"bot_config": {"blob": "x" * 40_000}}, "bot_config", "invalid_bot_config"),
]


@pytest.mark.parametrize("fields,field,code", BAD, ids=[f"{f}:{c}" for _, f, c in BAD])
def test_bad_input_is_a_field_error(user, fields, field, code):
    assert code in errors_of(user, **fields).get(field, []), errors_of(user, **fields)


def test_bot_config_is_checked_against_the_projects_backend(user):
    """The bots app's registered project checks run on the rule's config merged over the
    project's: a key the backend sets itself is refused."""
    project = user.project
    project.bot_dispatch_backend = "attendee"
    project.save(update_fields=["bot_dispatch_backend"])
    assert errors_of(user, bot_config={"meeting_url": "x"}) == {
        "bot_config": ["invalid_bot_config"]
    }


def test_a_calendar_user_of_another_project_is_refused(user, globex):
    rule = AutoJoinRule(project=globex.project, calendar_user=user, name="r")
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert refused.value.error_dict["calendar_user"][0].code == "wrong_project"


def test_good_input_is_normalised(user):
    rule = AutoJoinRule(
        project=user.project,
        calendar_user=user,
        name="  Customer calls ",
        organizer_emails=[" Sales@Acme.COM", "@Globex.com", "sales@acme.com"],
        attendee_emails=None,
        keywords=[" demo ", "demo"],
        days_of_week=[4, 0, 2, 0],
        time_window_start=time(9),
        time_window_end=time(18),
        timezone="America/New_York",
        exclude_patterns=[r"^\[private\]", ".*1:1.*"],
        meeting_platforms=["zoom"],
        bot_name="Acme Notetaker",
        bot_config={"recording": "audio"},
    )
    rule.full_clean()
    assert rule.name == "Customer calls"
    assert rule.organizer_emails == ["sales@acme.com", "@globex.com"]
    assert rule.attendee_emails == []
    assert rule.keywords == ["demo"]
    assert rule.days_of_week == [0, 2, 4]


def test_the_admin_form_refuses_what_the_model_refuses(user):
    new = AutoJoinRule(project=user.project, calendar_user=user)
    form = admin_form(
        new,
        name="Hours",
        timezone="Mars/Olympus",
        time_window_start="18:00",
        time_window_end="09:00",
        days_of_week=[9],
    )
    assert not form.is_valid()
    assert set(form.errors) == {"timezone", "time_window_end", "days_of_week"}


def test_saving_in_the_admin_marks_the_users_upcoming_meetings(user, staff_client):
    calendar = CalendarFactory(project=user.project, calendar_user=user)
    upcoming = MeetingFactory(calendar=calendar)
    other = MeetingFactory()  # another project's user
    response = staff_client.post(
        "/admin/meetings/autojoinrule/add/",
        {
            "project": user.project_id,
            "calendar_user": user.pk,
            "name": "Skip all",
            "is_enabled": "on",
            "priority": "0",
            "action": "skip",
            "bot_config": "{}",
            "match_mode": "all",
            "keywords": "[]",
            "exclude_patterns": "[]",
            "organizer_emails": "[]",
            "attendee_emails": "[]",
            "min_attendees": "0",
            "audience": "any",
            "recurring": "unknown",
            "meeting_platforms": "[]",
            "days_of_week": "[]",
            "timezone": "UTC",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert AutoJoinRule.objects.get(calendar_user=user).action == "skip"
    assert Meeting.objects.get(pk=upcoming.pk).needs_reconcile
    assert not Meeting.objects.get(pk=other.pk).needs_reconcile


@pytest.fixture
def staff_client(client, django_user_model):
    staff = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-123456")
    client.force_login(staff)
    return client


REGEX_ALPHABET = st.sampled_from(list("ab.*+?|()[]{}0123456789,^$\\dws-=<!:"))


@settings(max_examples=400, deadline=None)
@given(st.text(REGEX_ALPHABET, max_size=40))
def test_any_pattern_is_accepted_or_refused_with_a_code(pattern):
    """Whatever a client sends, the check answers with a field error, never a crash; what it
    accepts compiles and searches a long text of the worst kind quickly (RE2: no backtracking
    blow-up)."""
    try:
        compiled = check_pattern(pattern)
    except ValidationError as exc:
        assert exc.code in {"invalid_regex", "regex_too_expensive"}
    else:
        compiled.search("a" * 5_000 + "b")


def test_patterns_that_backtrack_in_python_run_on_re2():
    """The classic catastrophic patterns are fine: RE2 searches in linear time, so they are
    accepted and run by RE2, not by Python's backtracking `re`."""
    for pattern in ("(a+)+b", "(x|x)*y", "^(\\w+\\s?)*#$"):
        compiled = check_pattern(pattern)
        assert type(compiled).__module__ == "re2"
        assert compiled.search("a" * 30_000 + "!") is None

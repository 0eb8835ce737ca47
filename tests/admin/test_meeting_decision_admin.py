"""The meeting and bot admin pages (issue 17): "Why?" on a meeting (the decision step by step,
its bot and back), sync-owned fields that a POST cannot change, the override, re-decide and
dispatch-now actions through the services with a LogEntry, and lists that stay fast."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from bots import dispatch
from bots.models import Bot
from bots.reconcile import reconcile_meetings
from calendars import meeting_admin
from meetings.decisions import STEPS
from meetings.models import Meeting
from tests.factories import BotFactory, CalendarFactory, MeetingFactory


@pytest.fixture
def support(client, django_user_model):
    user = django_user_model.objects.create_superuser("support", "s@example.com", "pw-123456")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def calendar(acme):
    calendar = CalendarFactory(project=acme.project, email="alice@acme.com")
    calendar.calendar_user.external_id = "alice-42"
    calendar.calendar_user.record_external = True
    calendar.calendar_user.save()
    return calendar


def change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def zoom_meeting(calendar, **fields):
    fields.setdefault("meeting_url", "https://zoom.us/j/81234567890")
    fields.setdefault("meeting_platform", "zoom")
    fields.setdefault("raw", {"id": "e1", "location": fields["meeting_url"]})
    meeting = MeetingFactory(calendar=calendar, **fields)
    reconcile_meetings(meeting_ids=[meeting.pk])
    meeting.refresh_from_db()
    return meeting


def trace_steps(html: str) -> dict:
    return dict(re.findall(r'data-step="(\w+)" data-outcome="(\w+)"', html))


def test_a_meeting_without_bot_says_why_step_by_step(support, calendar):
    meeting = zoom_meeting(calendar, is_external=False)
    html = support.get(change_url(meeting)).content.decode()
    assert 'id="decision-trace"' in html
    steps = trace_steps(html)
    assert list(steps) == [*STEPS, "decision"]
    assert steps["preferences"] == "decided"
    assert steps["join_link"] == "pass"
    assert "Zoom link https://zoom.us/j/81234567890 (found in the event&#x27;s location)" in html
    assert "record_external decided" in html
    assert "Not recorded: internal meeting, and only external meetings are recorded." in html
    assert 'id="meeting-no-bot"' in html
    assert 'id="decision-pending"' not in html


def test_the_trace_names_the_first_unmet_prerequisite(support, calendar):
    meeting = zoom_meeting(calendar, meeting_url=None, meeting_platform=None, raw={})
    html = support.get(change_url(meeting)).content.decode()
    assert trace_steps(html)["join_link"] == "fail"
    assert trace_steps(html)["override"] == "skipped"
    assert "No join link was found in the event." in html


def test_a_pending_change_shows_against_the_stored_decision(support, calendar):
    meeting = zoom_meeting(calendar, is_external=True)
    Meeting.objects.filter(pk=meeting.pk).update(override_should_record=False)
    html = support.get(change_url(meeting)).content.decode()
    assert 'id="decision-pending"' in html
    assert trace_steps(html)["override"] == "decided"


def test_meeting_links_to_its_bot_and_the_bot_back(support, calendar):
    meeting = zoom_meeting(calendar, is_external=True)
    bot = Bot.objects.get(meetings=meeting)
    bot.set_status(Bot.Status.DISPATCHED, message="Handed to the local backend.")
    bot.save()
    html = support.get(change_url(meeting)).content.decode()
    assert f'id="meeting-bot-link" href="{change_url(bot)}"' in html
    assert "Handed to the local backend." in html
    assert html.count('class="bot-status-change"') == 2

    bot_html = support.get(change_url(bot)).content.decode()
    assert f'class="bot-meeting-link" href="{change_url(meeting)}"' in bot_html
    assert bot_html.count('class="bot-status-change"') == 2
    assert '"created_at":' not in bot_html  # a timeline, not the raw JSON
    assert "Dispatched" in bot_html


def form_data(meeting, **changes) -> dict:
    data = {"override_should_record": "unknown"}
    data.update(changes)
    return data


def test_sync_owned_fields_cannot_be_changed_by_posting_the_form(support, calendar):
    meeting = zoom_meeting(calendar, is_external=False, title="Board meeting")
    before = Meeting.objects.values().get(pk=meeting.pk)
    response = support.post(
        change_url(meeting),
        form_data(
            meeting,
            title="Hacked",
            will_record="on",
            will_record_reason="Recorded: because I said so",
            meeting_url="https://evil.example/j/1",
            start_time="2030-01-01 00:00",
            attendees='[{"email": "x@y.z"}]',
            raw="{}",
            is_deleted="on",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    after = Meeting.objects.values().get(pk=meeting.pk)
    after.pop("updated_at"), before.pop("updated_at")
    assert after == before
    html = support.get(change_url(meeting)).content.decode()
    for name in ("title", "will_record", "will_record_reason", "meeting_url", "attendees", "raw"):
        assert f'name="{name}"' not in html, name
    assert 'name="override_should_record"' in html
    assert "Not set: the preferences and rules decide" in html


def test_the_override_goes_through_the_service_and_is_logged(support, calendar, monkeypatch):
    meeting = zoom_meeting(calendar, is_external=False)
    calls = []
    real = meeting_admin.meeting_set_override

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(meeting_admin, "meeting_set_override", spy)
    response = support.post(change_url(meeting), form_data(meeting, override_should_record="true"))
    assert response.status_code == 302
    assert [call["value"] for call in calls] == [True]
    meeting.refresh_from_db()
    assert meeting.will_record and meeting.override_should_record is True
    assert Bot.objects.filter(meetings=meeting, status="scheduled").exists()  # reconciled
    entry = LogEntry.objects.get(object_id=str(meeting.pk))
    assert entry.user == support.user
    assert "preferences decide → record" in entry.get_change_message()
    assert "Recorded: recording was turned on" in entry.get_change_message()


def test_redecide_calls_reconciliation_and_logs(support, calendar, monkeypatch):
    meeting = zoom_meeting(calendar, is_external=True)
    Meeting.objects.filter(pk=meeting.pk).update(override_should_record=False)
    calls = []
    real = meeting_admin.reconcile_meetings
    monkeypatch.setattr(
        meeting_admin, "reconcile_meetings", lambda **kw: calls.append(kw) or real(**kw)
    )
    url = reverse("admin:meetings_meeting_redecide", args=[meeting.pk])
    assert support.get(url).status_code == 302  # GET does nothing
    assert calls == []
    assert support.post(url).status_code == 302
    assert calls == [{"meeting_ids": [meeting.pk]}]
    meeting.refresh_from_db()
    assert meeting.will_record is False
    assert not Bot.objects.filter(meetings=meeting).live().exists()
    entry = LogEntry.objects.get(object_id=str(meeting.pk))
    assert entry.user == support.user
    assert "Re-decided in the admin (was: Recorded" in entry.get_change_message()
    # The changelist action does the same for a selection.
    other = zoom_meeting(calendar, is_external=True)
    response = support.post(
        changelist(Meeting), {"action": "redecide", "_selected_action": [str(other.pk)]}
    )
    assert response.status_code == 302
    assert LogEntry.objects.filter(object_id=str(other.pk)).count() == 1


def test_dispatch_now_uses_the_dispatch_service_and_logs(support, acme, monkeypatch):
    now = timezone.now()
    due = BotFactory(project=acme.project, join_at=now - timedelta(seconds=30))
    early = BotFactory(project=acme.project, join_at=now + timedelta(hours=2))
    calls = []
    real = dispatch.dispatch_bot
    monkeypatch.setattr(
        dispatch, "dispatch_bot", lambda **kw: calls.append(kw["bot_id"]) or real(**kw)
    )
    response = support.post(
        changelist(Bot),
        {"action": "dispatch_now", "_selected_action": [str(due.pk), str(early.pk)]},
    )
    assert response.status_code == 302
    assert set(calls) == {due.pk, early.pk}
    due.refresh_from_db(), early.refresh_from_db()
    assert due.status == Bot.Status.DISPATCHED
    assert early.status == Bot.Status.SCHEDULED
    assert "dispatched" in LogEntry.objects.get(object_id=str(due.pk)).get_change_message()
    early_log = LogEntry.objects.get(object_id=str(early.pk)).get_change_message()
    assert "early" in early_log and "has not come" in early_log


def test_changelist_shows_reason_bot_and_zone_newest_first(support, calendar):
    skipped = zoom_meeting(calendar, is_external=False, title="Internal")
    recorded = zoom_meeting(
        calendar,
        is_external=True,
        title="Customer call",
        start_time=timezone.now() + timedelta(days=3),
        end_time=timezone.now() + timedelta(days=3, minutes=30),
    )
    bot = Bot.objects.get(meetings=recorded)
    html = support.get(changelist(Meeting)).content.decode()
    assert html.index("Customer call") < html.index("Internal")  # upcoming first
    assert f'title="{skipped.will_record_reason}"' in html  # full reason on hover
    assert f'href="{change_url(bot)}"' in html
    assert "UTC" in html  # times carry their zone
    assert ">Zoom<" in html  # the platform's name, not its id


@pytest.mark.parametrize(
    "term",
    ["guest@customer.example", "alice-42", "https://zoom.us/j/99999", "meeting-id", "bot-id"],
)
def test_search(support, calendar, term):
    meeting = zoom_meeting(
        calendar,
        is_external=True,
        meeting_url="https://zoom.us/j/99999",
        attendees=[{"email": "guest@customer.example", "status": "accepted"}],
    )
    zoom_meeting(CalendarFactory(project=calendar.project), is_external=True)
    bot = Bot.objects.get(meetings=meeting)
    term = {"meeting-id": str(meeting.pk), "bot-id": str(bot.pk)}.get(term, term)
    response = support.get(changelist(Meeting), {"q": term})
    assert [m.pk for m in response.context["cl"].result_list] == [meeting.pk]


def test_lists_do_not_grow_in_queries_and_never_count_the_table(
    support, acme, django_assert_max_num_queries
):
    def add_meeting(n):
        calendar = CalendarFactory(project=acme.project)
        calendar.calendar_user.record_external = True  # every other meeting gets a bot
        calendar.calendar_user.save()
        zoom_meeting(calendar, is_external=bool(n % 2))

    for n in range(3):
        add_meeting(n)
    with django_assert_max_num_queries(20) as few:
        support.get(changelist(Meeting))
        support.get(changelist(Bot))
    for n in range(40):
        add_meeting(n)
    assert Bot.objects.count() == 21
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        assert support.get(changelist(Meeting)).status_code == 200
        assert support.get(changelist(Bot)).status_code == 200
    counts = [q["sql"] for q in many.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts, "the capped paginator counts"
    for sql in counts:
        assert "LIMIT" in sql.upper(), sql
    meeting_reads = [q["sql"] for q in many.captured_queries if '"meetings_meeting"' in q["sql"]]
    for sql in meeting_reads:
        assert "DISTINCT" not in sql.upper(), sql  # no filter reads the whole table
        assert '"meetings_meeting"."raw"' not in sql, sql  # nor the payloads of the page


def test_the_calendar_pages_meetings_link_filters_the_list(support, acme, calendar):
    mine = zoom_meeting(calendar, is_external=True)
    zoom_meeting(CalendarFactory(project=acme.project), is_external=True)
    response = support.get(changelist(Meeting), {"calendar": str(calendar.pk)})
    assert [m.pk for m in response.context["cl"].result_list] == [mine.pk]
    by_platform = support.get(changelist(Meeting), {"platform": "zoom"})
    assert len(by_platform.context["cl"].result_list) == 2
    assert support.get(changelist(Meeting), {"platform": "none"}).context["cl"].result_count == 0


def test_meeting_and_bot_change_pages_use_few_queries(
    support, calendar, django_assert_max_num_queries
):
    meeting = zoom_meeting(calendar, is_external=True)
    bot = Bot.objects.get(meetings=meeting)
    with django_assert_max_num_queries(30):
        assert support.get(change_url(meeting)).status_code == 200
    with django_assert_max_num_queries(20):
        assert support.get(change_url(bot)).status_code == 200


def test_unknown_or_malformed_ids_are_no_error(support):
    for object_id in ("not-a-uuid", "6f1c2a9e-4b7d-4c1e-9a3f-2d8e5b7c1a40"):
        page = reverse("admin:meetings_meeting_change", args=[object_id])
        assert support.get(page).status_code == 302  # the admin's "doesn't exist" redirect
        redecide = reverse("admin:meetings_meeting_redecide", args=[object_id])
        assert support.post(redecide).status_code == 302
    assert not LogEntry.objects.exists()


def test_read_only_times_carry_their_zone(support, calendar):
    """Every read-only date in the admin (not only the columns that format their own) reads
    in ISO order with the zone (config/formats/en/formats.py)."""
    meeting = zoom_meeting(calendar)
    page = support.get(change_url(meeting)).content.decode()
    assert meeting.created_at.strftime("%Y-%m-%d %H:%M") + " UTC" in page
    assert "a.m." not in page and "p.m." not in page

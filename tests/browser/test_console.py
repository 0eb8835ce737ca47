"""The support console in a real browser (issue 17's acceptance): staff log in through the form
and open the overview, a meeting's "Why?", its bot and back, a user's timeline, resync a
calendar at the loopback Google fake, and find no way to edit what the sync owns."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import reverse
from django.utils import timezone

from calendars.models import Calendar
from meetings.models import Meeting

from .conftest import missing, required

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(bool(missing()) and not required(), reason=str(missing())),
]


def change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def test_overview_lists_the_failing_calendar_and_draws_charts(staff_browser, console):
    b = staff_browser
    b.open(reverse("admin:index"))
    b.screenshot("overview")
    failing = b.one("#overview-calendars").text
    assert "broken@globex.example" in failing and "alice@acme.example" not in failing
    assert "Globex" in failing
    failing_url = change_url(console.failing_calendar)
    link = b.one(f"#overview-calendars a[href='{failing_url}']")
    assert link.is_displayed()
    assert "127.0.0.1:9/broken" in b.one("#overview-webhooks").text
    # The sync chart is an inline SVG with a bar per hour that had syncs, drawn with a size.
    bars = b.all("#chart-syncs svg g.bar rect")
    assert bars, b.one("#overview-charts").get_attribute("innerHTML")[:2000]
    assert any(bar.size["height"] > 0 and bar.size["width"] > 0 for bar in bars)
    for chart in ("chart-syncs", "chart-webhooks", "chart-bots"):
        assert b.one(f"#{chart} svg").size["width"] > 100


def test_a_meeting_without_bot_says_why(staff_browser, console):
    b = staff_browser
    b.open(reverse("admin:meetings_meeting_changelist"))
    b.screenshot("meetings-list")
    meeting_url = change_url(console.meeting_without_bot)
    b.click_and_wait(b.one(f"#result_list a[href='{meeting_url}']"))
    b.screenshot("meeting-without-bot")
    assert b.one("#meeting-why h2").text == "Why no bot?"
    steps = {
        li.get_attribute("data-step"): li.get_attribute("data-outcome")
        for li in b.all("#decision-trace li.trace-step")
    }
    assert steps["join_link"] == "pass" and steps["preferences"] == "decided", steps
    decision = b.one("#decision-trace li.trace-decision").text
    assert "Not recorded: internal meeting, and only external meetings are recorded." in decision
    assert "record_external decided" in b.one("#decision-trace li[data-step=preferences]").text
    assert b.one("#meeting-no-bot").is_displayed()
    assert b.all("#meeting-bot-link") == []


def test_from_a_meeting_to_its_bot_and_back(staff_browser, console):
    b = staff_browser
    meeting = console.meeting_with_bot
    bot = meeting.bots.get()
    b.open(change_url(meeting))
    b.screenshot("meeting-with-bot")
    assert b.one("#meeting-why h2").text == "Why a bot?"
    assert b.all("#meeting-no-bot") == []
    b.click_and_wait(b.one("#meeting-bot-link"))
    assert b.path() == change_url(bot)
    b.screenshot("bot")
    back = b.one("a.bot-meeting-link")
    assert back.text == meeting.title
    b.click_and_wait(back)
    assert b.path() == change_url(meeting)
    assert b.one("#meeting-bot-link").text == bot.name


def test_a_users_timeline_picture(staff_browser, console):
    b = staff_browser
    b.open(change_url(console.user))
    b.click_and_wait(b.one("#calendar-user-timeline-link"))
    assert b.path().startswith(
        reverse("admin:calendars_calendaruser_timeline", args=[console.user.pk])
    )
    b.screenshot("user-timeline")
    picture = b.one("#user-timeline svg")
    assert picture.size["width"] > 300 and picture.size["height"] > 0
    recorded = b.all("#user-timeline svg rect.block.decision-recorded")
    not_recorded = b.all("#user-timeline svg rect.block.decision-not_recorded")
    assert len(recorded) == 1 and len(not_recorded) == 1
    assert all(block.size["width"] > 0 for block in recorded + not_recorded)
    assert b.all("#user-timeline svg .marker.bot-join")  # where the bot joins
    table = b.one("#user-timeline-table").text
    assert "Team standup" in table and "Customer demo" in table
    # A block leads to the meeting's "Why?".
    b.click_and_wait(not_recorded[0])
    assert b.path() == change_url(console.meeting_without_bot)
    assert b.one("#decision-trace").is_displayed()


def test_resync_a_calendar_at_the_google_fake(staff_browser, console, fake_google):
    b = staff_browser
    start = timezone.now() + timedelta(days=1)
    fake_google.add_event(
        console.calendar.email, summary="Board review", start=start, end=start + timedelta(hours=1)
    )
    b.open(change_url(console.calendar))
    b.screenshot("calendar")
    assert b.one("#calendar-sync-history svg").is_displayed()
    assert "Meetings: 2" in b.one("#calendar-meetings-link").text
    synced = "#calendar-sync-history tr.sync-event.kind-synced"
    assert len(b.all(synced)) == 2
    b.click_and_wait(b.one("#calendar-resync"))
    assert b.path() == change_url(console.calendar)
    b.screenshot("calendar-resynced")
    message = b.one("ul.messagelist li.success").text
    assert message.startswith("Synced 1 calendar(s): 1 new"), message
    assert Meeting.objects.filter(calendar=console.calendar, title="Board review").exists()
    [entry] = LogEntry.objects.filter(object_id=str(console.calendar.pk), action_flag=CHANGE)
    assert entry.user.username == "support"
    assert "Resync in the admin" in entry.get_change_message()
    assert len(b.all(synced)) == 3  # the history shows the new sync
    # The calendar now mirrors the fake: the factory-made meetings it lacks are gone.
    assert b.one("#calendar-meetings-link").text == "Meetings: 1"


def inject_and_save(b, fields: dict) -> None:
    """Add inputs the page does not offer to its form, as a hand-made POST would, and save."""
    b.driver.execute_script(
        """
        const form = document.querySelector('#content-main form');
        for (const [name, value] of Object.entries(arguments[0])) {
          const input = document.createElement('input');
          input.type = 'hidden'; input.name = name; input.value = value;
          form.appendChild(input);
        }
        """,
        fields,
    )
    b.click_and_wait(b.one("input[name=_continue]"))


def test_sync_owned_fields_are_not_editable(staff_browser, console):
    b = staff_browser
    meeting = console.meeting_with_bot
    b.open(change_url(meeting))
    b.screenshot("meeting-fields")
    form = "#content-main form"
    for name in ("title", "start_time", "end_time", "will_record", "will_record_reason"):
        assert b.all(f"{form} [name={name}]") == [], name
    assert meeting.title in b.one(".field-title .readonly").text
    assert b.one(f"{form} select[name=override_should_record]").is_enabled()
    inject_and_save(b, {"title": "Edited in the admin", "will_record": "false"})
    assert b.all(".errornote") == []
    meeting.refresh_from_db()
    assert (meeting.title, meeting.will_record) == ("Customer demo", True)

    calendar = console.failing_calendar
    b.open(change_url(calendar))
    b.screenshot("calendar-fields")
    for name in ("state", "email", "platform", "refresh_token"):
        assert b.all(f"{form} [name={name}]") == [], name
    assert "Disconnected" in b.one(".field-state .readonly").text
    inject_and_save(b, {"state": Calendar.State.CONNECTED, "email": "someone@else.example"})
    calendar.refresh_from_db()
    assert (calendar.state, calendar.email) == (
        Calendar.State.DISCONNECTED,
        "broken@globex.example",
    )

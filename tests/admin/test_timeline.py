"""A calendar user's timeline picture and a calendar's page (sync history, state history,
meetings link): what they show and that their queries do not grow with the meetings."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from bots.models import Bot
from calendars.models import Calendar, CalendarSyncEvent
from tests.factories import BotFactory, CalendarFactory

from .conftest import add_meetings


def timeline_url(calendar_user) -> str:
    return reverse("admin:calendars_calendaruser_timeline", args=[calendar_user.pk])


def test_the_user_page_links_to_the_timeline(staff, acme):
    calendar = CalendarFactory(project=acme.project)
    html = staff.get(
        reverse("admin:calendars_calendaruser_change", args=[calendar.calendar_user.pk])
    ).content.decode()
    assert timeline_url(calendar.calendar_user) in html


def test_timeline_draws_meetings_bots_and_decisions(staff, acme):
    calendar = CalendarFactory(project=acme.project, email="alice@acme.example")
    meetings = add_meetings(calendar, 6)  # every third is decided to record
    recorded, skipped, orphan = meetings[0], meetings[1], meetings[3]
    bot = BotFactory(project=acme.project, join_at=recorded.start_time - timedelta(minutes=2))
    bot.meetings.add(recorded)
    BotFactory(project=acme.project, status=Bot.Status.FATAL).meetings.add(orphan)
    # Another user's meeting never shows.
    add_meetings(CalendarFactory(project=acme.project, email="bob@acme.example"), 2)

    response = staff.get(timeline_url(calendar.calendar_user))
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('id="user-timeline"')
    picture = html[start : html.index("</svg>", start)]
    assert 'role="img"' in picture and "<title" in picture
    assert "alice@acme.example" in picture and "bob@acme.example" not in picture
    assert picture.count('class="block ') == 6
    for meeting in meetings:
        assert reverse("admin:meetings_meeting_change", args=[meeting.pk]) in picture
    assert picture.count("decision-recorded") == 1
    assert picture.count("decision-not_recorded") == 4
    assert picture.count("decision-trouble") == 1  # decided to record, its bot failed
    assert "Not recorded: test" in picture  # the reason is in the block's tooltip
    # Where the bot joins: a marker linked to the bot.
    assert 'class="marker bot-join' in picture
    assert reverse("admin:bots_bot_change", args=[bot.pk]) in picture
    for words in ("recorded", "not recorded", "bot in trouble", "bot joins"):
        assert f">{words}</text>" in picture  # the legend
    assert skipped.title in html[html.index('id="user-timeline-table"') :]


def test_timeline_is_capped_and_its_queries_fixed(staff, acme, django_assert_max_num_queries):
    calendar = CalendarFactory(project=acme.project)
    counts = []
    # The bound does not depend on the row count: as many queries for 20 meetings as for 200.
    for rows in (20, 200):
        for meeting in add_meetings(calendar, rows // 2):
            if meeting.will_record:
                BotFactory(project=acme.project).meetings.add(meeting)
        add_meetings(calendar, rows // 2)
        with django_assert_max_num_queries(10) as captured:
            assert staff.get(timeline_url(calendar.calendar_user)).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    assert staff.get(timeline_url(calendar.calendar_user), {"days": "x"}).status_code == 200


def test_calendar_page_shows_its_history_and_links_its_meetings(
    staff, acme, django_assert_max_num_queries
):
    now = timezone.now()
    calendar = CalendarFactory(project=acme.project)
    calendar.set_state(
        Calendar.State.DISCONNECTED,
        failure={"error": "auth_revoked", "message": "Token has been revoked."},
    )
    calendar.save()
    CalendarSyncEvent.objects.create(
        calendar=calendar, kind="synced", changed=3, full=True, at=now - timedelta(hours=2)
    )
    CalendarSyncEvent.objects.create(
        calendar=calendar, kind="disconnected", detail="auth_revoked", at=now - timedelta(hours=1)
    )
    CalendarSyncEvent.objects.create(calendar=calendar, kind="push", detail="queued a sync")
    add_meetings(calendar, 4)

    url = reverse("admin:calendars_calendar_change", args=[calendar.pk])
    with django_assert_max_num_queries(12):
        html = staff.get(url).content.decode()
    history = html[html.index('id="calendar-sync-history"') :]
    assert history.count('class="marker kind-') == 3
    assert "sync refused: disconnected" in history and "push notification" in history
    states = html[html.index('id="calendar-state-history"') :]
    assert "disconnected" in states and "auth_revoked: Token has been revoked." in states
    assert '"failure":' not in html  # readable, not the raw JSON
    meetings = reverse("admin:meetings_meeting_changelist") + f"?calendar={calendar.pk}"
    assert f'href="{meetings}">Meetings: 4</a>' in html
    # The link's filter is one the meetings list accepts.
    listed = staff.get(meetings)
    assert listed.status_code == 200 and listed.context["cl"].result_count == 4

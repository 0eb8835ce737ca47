"""Integrity rules that live in the database, not only in code."""

import pytest
from django.db import IntegrityError, transaction

from bots.models import Bot
from calendars.models import Calendar, CalendarUser
from tests.factories import (
    BotFactory,
    CalendarFactory,
    CalendarUserFactory,
    MeetingFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db


def violates(factory, **kwargs) -> bool:
    try:
        with transaction.atomic():
            factory(**kwargs)
    except IntegrityError:
        return True
    return False


def test_external_id_unique_per_project_only():
    user = CalendarUserFactory(external_id="u1")
    assert violates(CalendarUserFactory, project=user.project, external_id="u1")
    assert not violates(CalendarUserFactory, project=ProjectFactory(), external_id="u1")
    assert CalendarUser.objects.count() == 2


def test_one_live_calendar_per_platform_per_user():
    calendar = CalendarFactory(platform="google")
    user = calendar.calendar_user
    assert violates(CalendarFactory, project=user.project, calendar_user=user, platform="google")
    assert not violates(
        CalendarFactory, project=user.project, calendar_user=user, platform="microsoft"
    )
    calendar.set_state(Calendar.State.DISCONNECTED, failure={"error": "revoked"})
    calendar.save()
    assert not violates(
        CalendarFactory, project=user.project, calendar_user=user, platform="google"
    )
    assert [entry["state"] for entry in calendar.state_history] == ["disconnected"]


def test_standalone_calendars_are_not_limited():
    project = ProjectFactory()
    CalendarFactory(project=project, calendar_user=None)
    assert not violates(CalendarFactory, project=project, calendar_user=None)


def test_calendar_deduplication_key_unique_per_project():
    calendar = CalendarFactory(deduplication_key="user-abcd", calendar_user=None)
    assert violates(
        CalendarFactory, project=calendar.project, calendar_user=None, deduplication_key="user-abcd"
    )
    assert not violates(
        CalendarFactory, project=calendar.project, calendar_user=None, deduplication_key=None
    )
    assert not violates(CalendarFactory, calendar_user=None, deduplication_key="user-abcd")


def test_provider_event_unique_per_calendar():
    meeting = MeetingFactory(platform_event_id="evt1")
    assert violates(MeetingFactory, calendar=meeting.calendar, platform_event_id="evt1")
    assert not violates(MeetingFactory, platform_event_id="evt1")


def test_meeting_cannot_end_before_it_starts():
    meeting = MeetingFactory.build()
    assert violates(
        MeetingFactory,
        calendar=CalendarFactory(),
        start_time=meeting.start_time,
        end_time=meeting.start_time.replace(year=meeting.start_time.year - 1),
    )


def test_one_live_bot_per_deduplication_key():
    bot = BotFactory(deduplication_key="2026-01-01T10:00-https://zoom.us/j/1")
    assert violates(BotFactory, project=bot.project, deduplication_key=bot.deduplication_key)
    assert not violates(BotFactory, deduplication_key=bot.deduplication_key)  # other project
    bot.set_status(Bot.Status.CANCELLED, message="meeting cancelled")
    bot.save()
    assert not violates(BotFactory, project=bot.project, deduplication_key=bot.deduplication_key)
    assert bot.status_changes[-1]["code"] == "cancelled"

"""Bots through the whole pipeline: provider fakes → sync → decisions → reconciliation."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bots.models import Bot
from calendars.models import CalendarUser
from calendars.sync import sync_calendar_by_id
from tests.factories import CalendarFactory, OAuthAppFactory
from tests.fakes.calendar_model import Conference

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
START = NOW + timedelta(days=1)
ZOOM = Conference("zoom", "https://us02web.zoom.us/j/85012345678?pwd=abc", "85012345678", "abc")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def connect(fake, project, platform, email):
    fake.add_account(email)
    if not project.oauth_apps.filter(platform=platform).exists():
        OAuthAppFactory(
            project=project,
            platform=platform,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
        )
    user = CalendarUser.objects.create(
        project=project, external_id=email, record_external=True, record_internal=True
    )
    return CalendarFactory(
        project=project,
        calendar_user=user,
        platform=platform,
        email=email,
        refresh_token=fake.grant(email),
    )


def meeting(fake, email, start=START):
    return fake.add_event(
        email,
        summary="Quarterly review",
        start=start,
        end=start + timedelta(minutes=45),
        conference=ZOOM,
    )


def live_bots(project):
    return list(Bot.objects.filter(project=project, status__in=Bot.MOVABLE_STATUSES))


def sync(*calendars):
    for calendar in calendars:
        assert sync_calendar_by_id(calendar.pk).status == "synced"


def test_two_users_in_one_meeting_get_one_bot(fake_google, acme):
    alice = connect(fake_google, acme.project, "google", "alice@acme.com")
    bob = connect(fake_google, acme.project, "google", "bob@acme.com")
    meeting(fake_google, "alice@acme.com")
    meeting(fake_google, "bob@acme.com")
    sync(alice, bob)
    (bot,) = live_bots(acme.project)
    assert bot.meetings.count() == 2
    assert bot.join_at == START - timedelta(minutes=2)
    assert bot.meeting_url.startswith("https://us02web.zoom.us/j/85012345678")


def test_google_and_microsoft_users_get_two_bots(fake_google, fake_microsoft, acme):
    alice = connect(fake_google, acme.project, "google", "alice@acme.com")
    bob = connect(fake_microsoft, acme.project, "microsoft", "bob@acme.com")
    meeting(fake_google, "alice@acme.com")
    fake_microsoft.add_event(
        "bob@acme.com",
        summary="Quarterly review",
        start=START,
        end=START + timedelta(minutes=45),
        description="Join: https://us02web.zoom.us/j/85012345678?pwd=abc",
    )
    sync(alice, bob)
    assert len(live_bots(acme.project)) == 2


def test_moves_links_and_cancellations_follow_the_provider(fake_google, acme):
    alice = connect(fake_google, acme.project, "google", "alice@acme.com")
    event = meeting(fake_google, "alice@acme.com")
    sync(alice)
    (bot,) = live_bots(acme.project)

    later = START + timedelta(hours=2)
    fake_google.move_event(event, later, later + timedelta(minutes=45))
    sync(alice)
    (moved,) = live_bots(acme.project)
    assert moved.pk == bot.pk  # the same bot, not a new one
    assert moved.join_at == later - timedelta(minutes=2)

    fake_google.update_event(
        event, conference=Conference("meet", "https://meet.google.com/abc-defg-hij")
    )
    sync(alice)
    (relinked,) = live_bots(acme.project)
    assert relinked.pk == bot.pk and relinked.meeting_url == "https://meet.google.com/abc-defg-hij"

    fake_google.cancel_event(event)
    sync(alice)
    assert live_bots(acme.project) == []
    bot.refresh_from_db()
    assert bot.status == "cancelled"


def test_shared_meeting_moved_for_everyone_keeps_one_bot(fake_google, acme):
    alice = connect(fake_google, acme.project, "google", "alice@acme.com")
    bob = connect(fake_google, acme.project, "google", "bob@acme.com")
    events = [meeting(fake_google, "alice@acme.com"), meeting(fake_google, "bob@acme.com")]
    sync(alice, bob)
    later = START + timedelta(hours=1)
    for event in events:
        fake_google.move_event(event, later, later + timedelta(minutes=45))
    sync(alice, bob)
    (bot,) = live_bots(acme.project)
    assert bot.meetings.count() == 2
    assert bot.join_at == later - timedelta(minutes=2)

"""The reproduction of issue 12 against the loopback fakes (real client libraries, real wire
format): 250 new meetings with join links arrive in pages of 100 and page 2 fails. Before, the
100 meetings of page 1 were written but never got bots nor an announcement. Now every attempt
settles what it committed, and the next round finishes the rest."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bots.models import TERMINAL_STATUSES, Bot
from bots.reconcile import reconcile_pending
from calendars import jobs
from calendars.models import Calendar, CalendarUser
from calendars.providers.base import CalendarSession
from calendars.sync import sync_calendar_by_id
from meetings.models import Meeting
from tests.factories import CalendarFactory, OAuthAppFactory
from tests.fakes.calendar_model import Conference, EventSpec
from webhooks.models import WebhookDelivery, WebhookEndpoint

EMAIL = "dana@acme.com"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture(params=["google", "microsoft"])
def provider(request):
    return request.param


@pytest.fixture
def fake(provider, request, settings):
    settings.GOOGLE_PAGE_SIZE = settings.GRAPH_PAGE_SIZE = 100
    return request.getfixturevalue(f"fake_{provider}")


@pytest.fixture
def calendar(acme, fake, provider, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)
    fake.add_account(EMAIL)
    OAuthAppFactory(
        project=acme.project,
        platform=provider,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
    )
    user = CalendarUser.objects.create(
        project=acme.project, external_id="dana", record_internal=True, record_external=True
    )
    WebhookEndpoint.objects.create(
        project=acme.project, url="http://127.0.0.1:9/never-delivered", allow_private_addresses=True
    )
    calendar = CalendarFactory(
        project=acme.project,
        platform=provider,
        calendar_user=user,
        email=EMAIL,
        refresh_token=fake.grant(EMAIL),
        state=Calendar.State.CONNECTED,
    )
    assert sync_calendar_by_id(calendar.pk).status == "synced"  # empty calendar: a cursor
    return calendar


def add_meetings(fake, count: int) -> None:
    start = NOW + timedelta(days=2)
    fake.add_events(
        EMAIL,
        [
            EventSpec(
                summary=f"Meeting {n}",
                start=start + timedelta(hours=n),
                end=start + timedelta(hours=n, minutes=30),
                conference=Conference("zoom", f"https://acme.zoom.us/j/{85000000000 + n}"),
            )
            for n in range(count)
        ],
    )


def announced_ids() -> set[str]:
    ids = set()
    for delivery in WebhookDelivery.objects.filter(event_type="calendar.sync_events"):
        data = delivery.payload["data"]
        since = datetime.fromisoformat(data["last_updated_ts"].replace("Z", "+00:00"))
        listed = Meeting.objects.filter(pk__in=data["affected_event_uuids"])
        # A client reading the event feed from `last_updated_ts` gets every listed meeting.
        assert not listed.filter(updated_at__lt=since).exists()
        ids.update(data["affected_event_uuids"])
    return ids


def recorded_without_bot(calendar) -> int:
    return (
        Meeting.objects.filter(calendar=calendar, will_record=True)
        .exclude(bots__status__in=Bot.MOVABLE_STATUSES)
        .count()
    )


def test_a_partial_round_gets_its_bots_and_announcement_at_once(
    fake, calendar, settings, monkeypatch
):
    add_meetings(fake, 250)
    # Page 2 fails every attempt of the round (SYNC_PAGE_ATTEMPTS); page 1 gets written.
    real_fetch = CalendarSession.fetch_page
    pages = {"n": 0}

    def fetch_page(session, request):
        pages["n"] += 1
        if pages["n"] == 2:
            fake.fail_next(settings.SYNC_PAGE_ATTEMPTS, status=503)
        return real_fetch(session, request)

    monkeypatch.setattr(CalendarSession, "fetch_page", fetch_page)

    assert sync_calendar_by_id(calendar.pk).status == "retry"
    meetings = Meeting.objects.filter(calendar=calendar)
    assert meetings.count() == 100
    assert meetings.filter(will_record=True).count() == 100
    assert recorded_without_bot(calendar) == 0  # bots for what was committed, in this attempt
    assert announced_ids() == {str(pk) for pk in meetings.values_list("pk", flat=True)}
    assert not meetings.filter(needs_reconcile=True).exists()

    calendar.refresh_from_db()
    with time_machine.travel(calendar.sync_due_at + timedelta(seconds=1), tick=False):
        assert sync_calendar_by_id(calendar.pk).status == "synced"
    assert meetings.count() == 250
    assert meetings.filter(will_record=True).count() == 250
    assert recorded_without_bot(calendar) == 0
    assert Bot.objects.exclude(status__in=TERMINAL_STATUSES).count() == 250
    assert announced_ids() == {str(pk) for pk in meetings.values_list("pk", flat=True)}


@pytest.mark.parametrize("page_bots_fail", [False, True], ids=["page-bots", "page-bots-failed"])
def test_a_worker_killed_after_page_one_is_repaired_by_the_drains(
    fake, calendar, monkeypatch, page_bots_fail
):
    """No attempt settles (the worker dies right after page 1 is committed): the minute's
    drains announce the written meetings (and give them the bots the page could not create:
    it committed flagged `bots_pending`); the next sync does the rest."""
    from config import faults

    add_meetings(fake, 250)

    class Killed(BaseException):
        pass

    def die(name):
        if name == "sync.page_bots_scheduled" and page_bots_fail:
            raise RuntimeError("bots table unavailable")
        if name == "sync.page_committed":
            raise Killed

    with faults.installed(die), pytest.raises(Killed):
        sync_calendar_by_id(calendar.pk)
    meetings = Meeting.objects.filter(calendar=calendar)
    assert meetings.count() == 100
    assert meetings.filter(will_record=True).count() == 100
    # The page's bots came with it, or (failed) the calendar's flag says they are owed.
    assert recorded_without_bot(calendar) == (100 if page_bots_fail else 0)
    assert Calendar.objects.get(pk=calendar.pk).bots_pending == page_bots_fail

    reconcile_pending()
    jobs.announce_pending()  # the lease of the dead worker blocks it for now
    assert recorded_without_bot(calendar) == 0
    with time_machine.travel(NOW + timedelta(seconds=61), tick=False):
        jobs.announce_pending()
        assert len(announced_ids()) == 100
        jobs.sweep_due_calendars()  # the attempt died without an outcome: synced again
        assert sync_calendar_by_id(calendar.pk).status == "synced"
    assert meetings.count() == 250
    assert recorded_without_bot(calendar) == 0
    assert announced_ids() == {str(pk) for pk in meetings.values_list("pk", flat=True)}

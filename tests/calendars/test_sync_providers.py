"""The sync engine against the loopback fakes of Google Calendar and Microsoft Graph: the real
client libraries, the real wire format."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from calendars.models import Calendar
from calendars.providers import PROVIDERS
from calendars.sync import sync_calendar_by_id
from meetings.models import Meeting
from tests.factories import CalendarFactory, OAuthAppFactory
from tests.fakes.calendar_model import Attendee, Conference, Recurrence

EMAIL = "dana@acme.com"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


class GoogleSide:
    platform = "google"

    def __init__(self, fake):
        self.fake = fake

    def list_requests(self):
        return self.fake.count(route="events.list") if hasattr(self.fake, "count") else 0


@pytest.fixture(params=list(PROVIDERS))
def provider(request):
    """Every registered provider, each against its wire-level fake `fake_<platform>`."""
    return request.param


@pytest.fixture
def fake(provider, request):
    return request.getfixturevalue(f"fake_{provider}")


@pytest.fixture
def calendar(acme, fake, provider):
    fake.add_account(EMAIL)
    refresh_token = fake.grant(EMAIL)
    OAuthAppFactory(
        project=acme.project,
        platform=provider,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
    )
    return CalendarFactory(
        project=acme.project,
        platform=provider,
        email=EMAIL,
        refresh_token=refresh_token,
        state=Calendar.State.CONNECTING,
    )


def live(calendar) -> dict[str, Meeting]:
    return {m.title: m for m in Meeting.objects.filter(calendar=calendar, is_deleted=False)}


def add(fake, summary, start, minutes=30, **fields):
    return fake.add_event(
        EMAIL, summary=summary, start=start, end=start + timedelta(minutes=minutes), **fields
    )


def test_full_sync(fake, calendar, provider):
    add(
        fake,
        "Zoom call",
        NOW + timedelta(days=1),
        conference=Conference(
            "zoom", "https://us02web.zoom.us/j/85012345678?pwd=abc123", "85012345678", "abc123"
        ),
        attendees=(
            Attendee("dana@acme.com", response="accepted"),
            Attendee("max@other.com", response="tentative"),
        ),
    )
    add(fake, "Lunch", NOW + timedelta(days=2))
    series = add(
        fake,
        "Standup",
        NOW + timedelta(hours=1),
        minutes=15,
        recurrence=Recurrence("DAILY", count=5),
    )
    fake.cancel_instance(series, NOW + timedelta(days=1, hours=1))
    fake.move_instance(
        series,
        NOW + timedelta(days=2, hours=1),
        NOW + timedelta(days=2, hours=3),
        NOW + timedelta(days=2, hours=3, minutes=15),
    )
    add(fake, "Long ago", NOW - timedelta(days=30))

    result = sync_calendar_by_id(calendar.pk)
    assert result.status == "synced", result
    calendar.refresh_from_db()
    assert calendar.state == "connected" and calendar.sync_cursor

    meetings = Meeting.objects.filter(calendar=calendar, is_deleted=False)
    titles = sorted(m.title for m in meetings)
    assert titles == ["Lunch", "Standup", "Standup", "Standup", "Standup", "Zoom call"]
    zoom = meetings.get(title="Zoom call")
    assert zoom.meeting_platform == "zoom"
    assert zoom.meeting_invite["meeting_id"] == "85012345678"
    assert zoom.is_external is True
    assert zoom.is_hosted_by_me is True
    assert zoom.organizer_email == EMAIL
    statuses = {a["email"]: a["status"] for a in zoom.attendees}
    assert statuses["max@other.com"] == "tentative"
    assert statuses[EMAIL] == "accepted"
    assert zoom.ical_uid and zoom.platform_event_id and zoom.raw
    assert zoom.start_time == NOW + timedelta(days=1)
    lunch = meetings.get(title="Lunch")
    assert (lunch.meeting_url, lunch.meeting_platform, lunch.is_recurring) == (None, None, False)
    standups = meetings.filter(title="Standup").order_by("start_time")
    assert all(m.is_recurring and m.series_id for m in standups)
    assert len({m.series_id for m in standups}) == 1
    assert NOW + timedelta(days=2, hours=3) in [m.start_time for m in standups]  # the moved one
    assert NOW + timedelta(days=1, hours=1) not in [m.start_time for m in standups]  # cancelled


def test_incremental_changes(fake, calendar):
    one = add(fake, "One", NOW + timedelta(days=1))
    two = add(fake, "Two", NOW + timedelta(days=2))
    three = add(fake, "Three", NOW + timedelta(days=3))
    sync_calendar_by_id(calendar.pk)
    before = {m.platform_event_id: m.updated_at for m in Meeting.objects.all()}

    fake.update_event(one, summary="One renamed")
    fake.move_event(two, NOW + timedelta(days=4), NOW + timedelta(days=4, minutes=30))
    fake.cancel_event(three)
    fake.reset_requests()
    clock_later = NOW + timedelta(minutes=5)
    with time_machine.travel(clock_later, tick=True):
        result = sync_calendar_by_id(calendar.pk)
    assert result.status == "synced" and not result.full
    meetings = live(calendar)
    assert set(meetings) == {"One renamed", "Two"}
    assert meetings["Two"].start_time == NOW + timedelta(days=4)
    assert Meeting.objects.get(
        platform_event_id=before and three if False else meetings["Two"].platform_event_id
    )
    gone = Meeting.objects.filter(calendar=calendar, is_deleted=True)
    assert gone.count() == 1
    assert len(fake.requests) <= 3  # token refresh at most, plus one listing


def test_no_change_no_write(fake, calendar):
    add(fake, "One", NOW + timedelta(days=1))
    sync_calendar_by_id(calendar.pk)
    stamp = Meeting.objects.get().updated_at
    fake.reset_requests()
    result = sync_calendar_by_id(calendar.pk)
    assert (result.upserted, result.deleted) == (0, 0)
    assert Meeting.objects.get().updated_at == stamp
    assert len(fake.requests) == 1  # the access token was reused


def test_expired_cursor_full_resync(fake, calendar, provider):
    add(fake, "Keep", NOW + timedelta(days=1))
    doomed = add(fake, "Doomed", NOW + timedelta(days=2))
    sync_calendar_by_id(calendar.pk)
    fake.delete_event(doomed)
    add(fake, "New", NOW + timedelta(days=3))
    if provider == "google":
        fake.invalidate_sync_tokens(EMAIL)
    else:
        fake.invalidate_delta_tokens(EMAIL)
    result = sync_calendar_by_id(calendar.pk)
    assert (result.status, result.full) == ("synced", True)
    assert set(live(calendar)) == {"Keep", "New"}


def test_revoked_grant_disconnects(fake, calendar):
    add(fake, "One", NOW + timedelta(days=1))
    sync_calendar_by_id(calendar.pk)
    fake.revoke_grant(EMAIL)
    fake.expire_access_tokens(EMAIL)
    result = sync_calendar_by_id(calendar.pk)
    assert result.status == "disconnected"
    calendar.refresh_from_db()
    assert calendar.state == "disconnected"
    assert calendar.connection_failure_data["error"] == "auth_revoked"
    assert set(live(calendar)) == {"One"}


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_and_outages_retry_later(fake, calendar, status):
    add(fake, "One", NOW + timedelta(days=1))
    sync_calendar_by_id(calendar.pk)
    add(fake, "Two", NOW + timedelta(days=2))
    fake.fail_next(1, status=status, retry_after=120)
    result = sync_calendar_by_id(calendar.pk)
    assert result.status == "retry"
    calendar.refresh_from_db()
    assert calendar.state == "connected"
    assert calendar.sync_due_at >= NOW + timedelta(seconds=119)
    assert sync_calendar_by_id(calendar.pk).status == "synced"
    assert set(live(calendar)) == {"One", "Two"}


def test_microsoft_rotated_refresh_token_is_saved(fake_microsoft, acme):
    fake = fake_microsoft
    fake.add_account(EMAIL)
    first = fake.grant(EMAIL)
    OAuthAppFactory(
        project=acme.project,
        platform="microsoft",
        client_id=fake.client_id,
        client_secret=fake.client_secret,
    )
    calendar = CalendarFactory(
        project=acme.project, platform="microsoft", email=EMAIL, refresh_token=first
    )
    add(fake, "One", NOW + timedelta(days=1))
    assert sync_calendar_by_id(calendar.pk).status == "synced"
    calendar.refresh_from_db()
    assert calendar.refresh_token != first
    assert calendar.refresh_token == fake.current_refresh_token(EMAIL)


def test_google_horizon_roll_without_full_resync(fake_google, acme):
    fake = fake_google
    fake.add_account(EMAIL)
    OAuthAppFactory(
        project=acme.project,
        platform="google",
        client_id=fake.client_id,
        client_secret=fake.client_secret,
    )
    calendar = CalendarFactory(
        project=acme.project, platform="google", email=EMAIL, refresh_token=fake.grant(EMAIL)
    )
    days = acme.project.sync_days_future
    add(fake, "Far", NOW + timedelta(days=days + 2))
    sync_calendar_by_id(calendar.pk)
    assert live(calendar) == {}
    with time_machine.travel(NOW + timedelta(days=3), tick=True):
        result = sync_calendar_by_id(calendar.pk)
    assert result.full is False
    assert set(live(calendar)) == {"Far"}


@pytest.mark.django_db(transaction=True)
def test_push_channel_round_trip(fake, calendar, provider, live_server, settings, monkeypatch):
    """The fake opens a real channel to our receiver (Graph's validation handshake included),
    then POSTs real notifications; the receiver marks the calendar due and queues one sync."""
    from calendars.push import ensure_push_channel

    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: queued.append(args))
    settings.PUBLIC_BASE_URL = live_server.url
    settings.PUSH_NOTIFICATIONS = True
    fake.synchronous_delivery = True
    add(fake, "One", NOW + timedelta(days=1))
    assert sync_calendar_by_id(calendar.pk).status == "synced"

    assert ensure_push_channel(calendar.pk) == "renewed"
    calendar.refresh_from_db()
    assert calendar.push_channel_id and calendar.push_expires_at > NOW
    assert calendar.sync_due_at is None  # Google's initial "sync" message changes nothing

    add(fake, "Two", NOW + timedelta(days=2))
    add(fake, "Three", NOW + timedelta(days=3))
    calendar.refresh_from_db()
    assert calendar.sync_due_at is not None
    syncs = [args for args in queued if args[0] == "calendars.jobs.sync_calendar"]
    assert syncs == [("calendars.jobs.sync_calendar", str(calendar.pk))]  # a burst, one job
    assert sync_calendar_by_id(calendar.pk).status == "synced"
    assert set(live(calendar)) == {"One", "Two", "Three"}

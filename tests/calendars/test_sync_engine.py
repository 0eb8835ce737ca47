"""The sync engine's rules, against an in-process provider (tests/calendars/scripted.py)."""

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from bots import reconcile
from bots.models import Bot
from calendars import jobs, providers
from calendars.models import Calendar, CalendarUser
from calendars.providers.base import (
    AuthRevoked,
    Credentials,
    OAuthClient,
    Page,
    ProviderUnavailable,
    RateLimited,
)
from calendars.sync import (
    PageWriter,
    SyncResult,
    _json,
    _prepared_ahead,
    horizon,
    sync_calendar_by_id,
)
from meetings.decisions import REASONS
from meetings.models import BotSchedule, Meeting
from tests.factories import BotFactory, CalendarFactory, OAuthAppFactory

from .scripted import ScriptedCalendar, ScriptedProvider, google_event

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def store(monkeypatch):
    store = ScriptedCalendar()
    monkeypatch.setitem(providers._instances, "google", ScriptedProvider(store))
    return store


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: calls.append(args))
    return calls


@pytest.fixture
def calendar(acme):
    OAuthAppFactory(project=acme.project, platform="google")
    return CalendarFactory(
        project=acme.project, state=Calendar.State.CONNECTING, email="alice@acme.com"
    )


def live(calendar):
    return dict(
        Meeting.objects.filter(calendar=calendar, is_deleted=False).values_list(
            "platform_event_id", "title"
        )
    )


def test_full_then_incremental(store, calendar):
    for n in range(5):
        store.put(google_event(f"e{n}", NOW + timedelta(days=n)))
    result = sync_calendar_by_id(calendar.pk)
    assert (result.status, result.full, result.upserted) == ("synced", True, 5)
    calendar.refresh_from_db()
    assert calendar.state == "connected"
    assert calendar.sync_cursor == "5"
    assert calendar.last_successful_sync_at == NOW
    assert [h["state"] for h in calendar.state_history][-1] == "connected"
    assert set(live(calendar)) == {"e0", "e1", "e2", "e3", "e4"}
    meeting = Meeting.objects.get(platform_event_id="e1")
    assert meeting.meeting_platform == "google_meet"
    assert meeting.project_id == calendar.project_id

    # Nothing changed: nothing is written.
    before = dict(Meeting.objects.values_list("platform_event_id", "updated_at"))
    store.requests = 0
    again = sync_calendar_by_id(calendar.pk)
    assert (again.full, again.upserted, again.deleted) == (False, 0, 0)
    assert store.requests == 1

    # One change: only that row is touched.
    store.put(google_event("e2", NOW + timedelta(days=2), summary="Renamed"))
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        changed = sync_calendar_by_id(calendar.pk)
    assert (changed.upserted, changed.changed_event_ids) == (1, {"e2"})
    after = dict(Meeting.objects.values_list("platform_event_id", "updated_at"))
    assert [k for k in after if after[k] != before[k]] == ["e2"]
    assert live(calendar)["e2"] == "Renamed"


def test_cancel_move_and_recreate(store, calendar):
    store.put(google_event("a", NOW + timedelta(days=1)))
    store.put(google_event("b", NOW + timedelta(days=2)))
    sync_calendar_by_id(calendar.pk)
    store.cancel("a")
    store.put(google_event("b", NOW + timedelta(days=3)))  # moved
    result = sync_calendar_by_id(calendar.pk)
    assert (result.upserted, result.deleted) == (1, 1)
    assert set(live(calendar)) == {"b"}
    assert Meeting.objects.get(platform_event_id="a").is_deleted  # soft, not dropped
    assert Meeting.objects.get(platform_event_id="b").start_time == NOW + timedelta(days=3)
    store.put(google_event("a", NOW + timedelta(days=1)))  # restored
    sync_calendar_by_id(calendar.pk)
    assert set(live(calendar)) == {"a", "b"}
    assert Meeting.objects.filter(platform_event_id="a").count() == 1


def test_events_outside_the_horizon(store, calendar):
    horizon_days = calendar.project.sync_days_future
    store.put(google_event("near", NOW + timedelta(days=1)))
    store.put(google_event("far", NOW + timedelta(days=horizon_days + 2)))
    sync_calendar_by_id(calendar.pk)
    assert set(live(calendar)) == {"near"}

    # A stored meeting moved beyond the horizon is removed, not left stale.
    store.put(google_event("near", NOW + timedelta(days=horizon_days + 5)))
    sync_calendar_by_id(calendar.pk)
    assert set(live(calendar)) == set()

    # The horizon rolls forward: "far" enters it without any change at the provider, and
    # without a full resync.
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        result = sync_calendar_by_id(calendar.pk)
    assert result.full is False
    assert set(live(calendar)) == {"far"}
    calendar.refresh_from_db()
    assert calendar.sync_window_end > NOW + timedelta(days=horizon_days + 3)


def test_expired_cursor_means_clean_full_resync(store, calendar):
    for name in ("a", "b", "c"):
        store.put(google_event(name, NOW + timedelta(hours=5)))
    sync_calendar_by_id(calendar.pk)
    # The provider lost our cursor, and meanwhile "b" was deleted without a trace in any log.
    store.expired_cursors.add("3")
    del store.events["b"]
    store.put(google_event("d", NOW + timedelta(hours=6)))
    result = sync_calendar_by_id(calendar.pk)
    assert (result.status, result.full) == ("synced", True)
    assert set(live(calendar)) == {"a", "c", "d"}  # exactly the provider's current events
    calendar.refresh_from_db()
    assert calendar.sync_cursor == "4"


def test_revoked_grant_disconnects(store, calendar, enqueued):
    store.put(google_event("a", NOW + timedelta(days=1)))
    store.put(google_event("past", NOW - timedelta(hours=5)))
    sync_calendar_by_id(calendar.pk)
    future_bot = BotFactory(project=calendar.project, join_at=NOW + timedelta(days=1))
    future_bot.meetings.add(Meeting.objects.get(platform_event_id="a"))

    store.fail_next.append(
        AuthRevoked("Token has been expired or revoked.", detail={"error": "invalid_grant"})
    )
    result = sync_calendar_by_id(calendar.pk)
    assert result.status == "disconnected"
    calendar.refresh_from_db()
    assert calendar.state == "disconnected"
    assert calendar.connection_failure_data["error"] == "auth_revoked"
    assert calendar.connection_failure_data["detail"] == {"error": "invalid_grant"}
    assert [h["state"] for h in calendar.state_history][-1] == "disconnected"
    future_bot.refresh_from_db()
    assert future_bot.status == Bot.Status.CANCELLED
    assert set(live(calendar)) == {"a", "past"}  # meetings are kept

    # No more retries until the credentials change.
    assert jobs.sweep_due_calendars() == 0
    assert sync_calendar_by_id(calendar.pk).status == "busy"
    assert store.requests == 2


@pytest.mark.parametrize(
    "errors,min_delay",
    [
        # Asks for more than a round waits (SYNC_PAGE_RETRY_MAX_WAIT_SECONDS): the round ends.
        ([RateLimited("slow down", retry_after=120)], 120),
        # Fails every attempt of the round (SYNC_PAGE_ATTEMPTS).
        ([ProviderUnavailable("503")] * 4, 30),
    ],
)
def test_rate_limits_and_outages_retry_later(store, calendar, errors, min_delay):
    store.put(google_event("a", NOW + timedelta(days=1)))
    sync_calendar_by_id(calendar.pk)
    store.put(google_event("b", NOW + timedelta(days=2)))
    store.fail_next.extend(errors)
    result = sync_calendar_by_id(calendar.pk)
    assert result.status == "retry"
    calendar.refresh_from_db()
    assert calendar.state == "connected"
    assert calendar.sync_cursor == "1"  # unchanged: nothing is skipped
    assert calendar.sync_due_at >= NOW + timedelta(seconds=min_delay)
    assert calendar.consecutive_sync_failures == 1
    assert calendar.connection_failure_data["retrying"] is True
    with time_machine.travel(calendar.sync_due_at, tick=False):
        assert jobs.sweep_due_calendars() == 1
        assert sync_calendar_by_id(calendar.pk).status == "synced"
    assert set(live(calendar)) == {"a", "b"}
    calendar.refresh_from_db()
    assert calendar.consecutive_sync_failures == 0
    # A success ends the failure: nothing says "retrying" on a calendar that syncs.
    assert calendar.connection_failure_data is None


def test_a_failed_page_is_retried_within_the_round(store, calendar, page_retry_waits):
    for n in range(6):
        store.put(google_event(f"e{n}", NOW + timedelta(hours=n + 1)))
    store.fail_next.extend(
        [
            ProviderUnavailable("503"),
            RateLimited("slow down", retry_after=7),
            ProviderUnavailable("x"),
        ]
    )
    result = sync_calendar_by_id(calendar.pk)
    assert (result.status, result.upserted) == ("synced", 6)
    assert store.requests == 3 + 3  # three pages, three of their attempts failed
    assert len(page_retry_waits) == 3
    assert page_retry_waits[1] == 7  # Retry-After honoured
    assert all(0 < wait <= 8 for wait in page_retry_waits)


def test_crash_mid_sync_loses_nothing(store, calendar, monkeypatch):
    for n in range(6):
        store.put(google_event(f"e{n}", NOW + timedelta(hours=n + 1)))
    session_cls = type(providers._instances["google"].session(None))
    real_request = session_cls._request
    calls = {"n": 0}

    def flaky(self):
        calls["n"] += 1
        if 2 <= calls["n"] <= 5:  # every attempt at the second page dies (SYNC_PAGE_ATTEMPTS)
            raise ProviderUnavailable("connection reset")
        real_request(self)

    monkeypatch.setattr(session_cls, "_request", flaky)
    assert sync_calendar_by_id(calendar.pk).status == "retry"
    calendar.refresh_from_db()
    assert calendar.sync_cursor == ""  # the round did not finish
    assert len(live(calendar)) == 2  # the first page was kept
    assert sync_calendar_by_id(calendar.pk).status == "synced"
    assert len(live(calendar)) == 6
    assert Meeting.objects.count() == 6


def test_one_sync_at_a_time(store, calendar):
    store.put(google_event("a", NOW + timedelta(days=1)))
    Calendar.objects.filter(pk=calendar.pk).update(
        sync_lease_owner="other-worker", sync_lease_expires_at=NOW + timedelta(minutes=2)
    )
    assert sync_calendar_by_id(calendar.pk).status == "busy"
    assert store.requests == 0
    calendar.refresh_from_db()
    assert calendar.sync_due_at == NOW  # it runs again once the other worker is done

    # A crashed worker's lease expires.
    with time_machine.travel(NOW + timedelta(minutes=3), tick=False):
        assert sync_calendar_by_id(calendar.pk).status == "synced"
    calendar.refresh_from_db()
    assert calendar.sync_lease_owner == "" and calendar.sync_lease_expires_at is None


def test_a_worker_whose_lease_was_taken_stops_writing(store, calendar, monkeypatch):
    for n in range(4):
        store.put(google_event(f"e{n}", NOW + timedelta(hours=n + 1)))
    real_apply = PageWriter.apply
    state = {"n": 0}

    def steal(self, prepared):
        state["n"] += 1
        if state["n"] == 2:  # another worker takes over between our pages
            Calendar.objects.filter(pk=calendar.pk).update(sync_lease_owner="thief")
        real_apply(self, prepared)

    monkeypatch.setattr(PageWriter, "apply", steal)
    assert sync_calendar_by_id(calendar.pk).status == "busy"
    calendar.refresh_from_db()
    assert calendar.sync_cursor == ""
    assert calendar.sync_lease_owner == "thief"  # we did not release someone else's lease
    assert len(live(calendar)) == 2
    for helper in [t for t in threading.enumerate() if t.name == "sync-pages"]:
        helper.join(timeout=5)  # the page helper stopped too
        assert not helper.is_alive()


def test_malformed_events_are_skipped(store, calendar):
    store.put(google_event("good", NOW + timedelta(days=1)))
    store.put({"id": "no-times", "status": "confirmed", "summary": "?"})
    store.put({"id": "garbage", "start": "yesterday", "end": 5})
    store.put(
        google_event("huge", NOW + timedelta(days=1), visibility="v" * 500, summary="x" * 100000)
    )
    result = sync_calendar_by_id(calendar.pk)
    assert result.status == "synced"
    assert result.skipped_events == 2
    assert set(live(calendar)) == {"good", "huge"}


@pytest.mark.parametrize("page_size", [2, 250])  # 250: the COPY path on PostgreSQL
def test_nul_characters_are_dropped_not_fatal(store, calendar, page_size):
    """PostgreSQL text and jsonb cannot store NUL; an event carrying one still syncs."""
    store.page_size = page_size
    for n in range(page_size):
        store.put(
            google_event(
                f"e{n}",
                NOW + timedelta(hours=n + 1),
                summary="Board\x00 review",
                attendees=[{"email": "sam@globex.com", "displayName": "Sam\x00"}],
                extendedProperties={"private": {"note\x00": "a\x00b", "path": "C:\\u0000"}},
            )
        )
    assert sync_calendar_by_id(calendar.pk).status == "synced"
    meeting = Meeting.objects.get(platform_event_id="e0")
    assert meeting.title == "Board review"
    assert meeting.attendees[0]["name"] == "Sam"
    assert meeting.raw["extendedProperties"]["private"] == {"note": "ab", "path": "C:\\u0000"}
    assert sync_calendar_by_id(calendar.pk).upserted == 0  # and stays unchanged


def test_incremental_sync_sql_statements_do_not_grow(
    store, calendar, django_assert_max_num_queries
):
    store.page_size = 2500
    counts = []
    for size in (20, 200):
        Meeting.objects.all().delete()
        store.events.clear()
        store.log.clear()
        Calendar.objects.filter(pk=calendar.pk).update(sync_cursor="", sync_window_start=None)
        for n in range(size):
            store.put(google_event(f"e{n}", NOW + timedelta(hours=n % 500 + 1)))
        sync_calendar_by_id(calendar.pk)
        store.put(google_event("e3", NOW + timedelta(hours=4), summary="changed"))
        store.requests = 0
        with django_assert_max_num_queries(25) as captured:
            result = sync_calendar_by_id(calendar.pk)
        assert result.upserted == 1
        assert store.requests <= 3
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_missing_calendar_and_unknown_ids(store, db):
    assert sync_calendar_by_id("00000000-0000-0000-0000-000000000000").status == "busy"


def test_sweeper_queues_due_calendars_once(store, calendar, acme, enqueued):
    never_synced = calendar
    disconnected = CalendarFactory(project=acme.project, state=Calendar.State.DISCONNECTED)
    five_minutes_ago = NOW - timedelta(minutes=5)
    recent = CalendarFactory(
        project=acme.project,
        last_attempted_sync_at=five_minutes_ago,
        sync_finished_at=five_minutes_ago + timedelta(seconds=3),
    )
    stale = CalendarFactory(project=acme.project, last_attempted_sync_at=NOW - timedelta(hours=2))
    pushed = CalendarFactory(project=acme.project, last_attempted_sync_at=NOW, sync_due_at=NOW)
    # Its worker died mid-sync: no outcome after the attempt, and the lease has expired.
    died = CalendarFactory(
        project=acme.project,
        last_attempted_sync_at=five_minutes_ago,
        sync_finished_at=NOW - timedelta(hours=1),
        sync_lease_owner="killed-worker",
        sync_lease_expires_at=five_minutes_ago + timedelta(seconds=20),
    )
    # Still running: its lease is held.
    CalendarFactory(
        project=acme.project,
        last_attempted_sync_at=NOW,
        sync_lease_owner="live-worker",
        sync_lease_expires_at=NOW + timedelta(seconds=20),
    )
    assert jobs.sweep_due_calendars() == 4
    queued = {args[1] for args in enqueued}
    assert queued == {str(never_synced.pk), str(stale.pk), str(pushed.pk), str(died.pk)}
    assert str(disconnected.pk) not in queued and str(recent.pk) not in queued
    assert jobs.sweep_due_calendars() == 0  # already queued
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        # The jobs were lost: queue again; and the running sync's lease has expired without
        # an outcome since: its worker died.
        assert jobs.sweep_due_calendars() == 5


def test_retention_and_horizon_roll(store, calendar):
    store.put(google_event("a", NOW + timedelta(days=1)))
    sync_calendar_by_id(calendar.pk)
    old = Meeting.objects.get(platform_event_id="a")
    Meeting.objects.filter(pk=old.pk).update(
        start_time=NOW - timedelta(days=90), end_time=NOW - timedelta(days=90)
    )
    assert jobs.purge_old_meetings() == 1
    assert jobs.roll_horizons() == 0
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert jobs.roll_horizons() == 1
    calendar.refresh_from_db()
    assert calendar.sync_due_at is not None


def test_sync_calendars_command(store, calendar, capsys):
    from django.core.management import CommandError, call_command

    store.put(google_event("a", NOW + timedelta(days=1)))
    call_command("sync_calendars", str(calendar.pk))
    out = capsys.readouterr().out
    assert "synced" in out and "1/1" in out
    call_command("sync_calendars", "--all")
    with pytest.raises(CommandError):
        call_command("sync_calendars")
    with pytest.raises(CommandError, match="No calendar"):
        call_command("sync_calendars", "00000000-0000-0000-0000-000000000000")

    # Another worker holds the calendar: not a success (scripts see a non-zero exit).
    Calendar.objects.filter(pk=calendar.pk).update(
        sync_lease_owner="other-worker", sync_lease_expires_at=NOW + timedelta(seconds=20)
    )
    capsys.readouterr()
    with pytest.raises(CommandError, match="1 of 1 calendar"):
        call_command("sync_calendars", str(calendar.pk))
    out = capsys.readouterr().out
    assert "busy (+0 changed, -0 removed) - another worker is syncing it" in out
    assert "0 calendar(s) synced, 1 not." in out


def test_timezone_is_utc():
    assert timezone.now() == NOW


# --- decisions made at insert ---------------------------------------------------------------------


@pytest.fixture
def recording_calendar(acme):
    OAuthAppFactory(project=acme.project, platform="google")
    user = CalendarUser.objects.create(
        project=acme.project, external_id="alice", record_external=True
    )
    return CalendarFactory(
        project=acme.project,
        calendar_user=user,
        state=Calendar.State.CONNECTED,
        email="alice@acme.com",
    )


def attendees(*emails):
    return [{"email": "alice@acme.com", "responseStatus": "accepted"}] + [
        {"email": email, "responseStatus": "needsAction"} for email in emails
    ]


@pytest.mark.parametrize("filler", [0, 250])  # 250: the COPY path on PostgreSQL
@pytest.mark.parametrize("state", [Calendar.State.CONNECTED, Calendar.State.CONNECTING])
def test_new_meetings_are_decided_as_they_are_inserted(
    store, recording_calendar, monkeypatch, filler, state
):
    Calendar.objects.filter(pk=recording_calendar.pk).update(state=state)
    store.page_size = 2500
    tomorrow = NOW + timedelta(days=1)
    store.put(google_event("external", tomorrow, attendees=attendees("sam@globex.com")))
    store.put(google_event("internal", tomorrow, attendees=attendees("bob@acme.com")))
    store.put(google_event("no-link", tomorrow, hangoutLink="", attendees=attendees("x@y.com")))
    store.put(google_event("ended", NOW - timedelta(hours=2), attendees=attendees("x@y.com")))
    for n in range(filler):
        store.put(google_event(f"filler{n}", tomorrow + timedelta(hours=n)))
    reconciled = []
    real_meetings = reconcile.load_meetings

    def spy(selected, calendars, *fields):
        meetings = real_meetings(selected, calendars, *fields)
        if meetings:
            reconciled.append({meeting.pk for meeting in meetings})
        return meetings

    monkeypatch.setattr(reconcile, "load_meetings", spy)

    assert sync_calendar_by_id(recording_calendar.pk).status == "synced"

    meetings = Meeting.objects.filter(calendar=recording_calendar)
    reasons = dict(meetings.values_list("platform_event_id", "will_record_reason"))
    assert reasons["external"] == REASONS["preferences"]
    assert reasons["internal"] == REASONS["not_external"]
    assert reasons["no-link"] == REASONS["no_link"]
    assert reasons["ended"] == REASONS["ended"]
    (bot,) = Bot.objects.filter(project=recording_calendar.project)
    assert list(bot.meetings.values_list("platform_event_id", flat=True)) == ["external"]
    # None went through reconciliation: the one that needs a bot got it with its page (a
    # connecting calendar became connected with its first page written).
    assert reconciled == []
    assert bot.status == Bot.Status.SCHEDULED
    calendar = Calendar.objects.get(pk=recording_calendar.pk)
    assert (calendar.state, calendar.bots_pending) == (Calendar.State.CONNECTED, False)
    # The same decisions as reconciliation's own.
    again = reconcile.reconcile_meetings(meeting_ids=list(meetings.values_list("pk", flat=True)))
    assert again.decisions_changed == 0 and not again.created


@pytest.mark.parametrize("filler", [0, 250])  # 250: the COPY path on PostgreSQL
def test_new_meetings_get_their_bots_with_their_page(
    store, recording_calendar, enqueued, django_capture_on_commit_callbacks, filler
):
    """A page's new meetings decided to record get their bots in the page's transaction: the
    bot takes a joining rule's name, its `bot.scheduled` event lists the meeting, its backend
    push is queued after commit; a second user's copy of the meeting joins that bot."""
    from meetings.models import AutoJoinRule
    from tests.factories import WebhookEndpointFactory
    from webhooks.models import WebhookDelivery

    project = recording_calendar.project
    WebhookEndpointFactory(project=project, event_types=["bot.*"])
    AutoJoinRule.objects.create(
        project=project,
        calendar_user=recording_calendar.calendar_user,
        name="Customer calls",
        match_mode=AutoJoinRule.MatchMode.KEYWORD,
        keywords=["customer"],
        bot_name="Acme Notetaker",
    )
    tomorrow = NOW + timedelta(days=1)
    guests = attendees("sam@globex.com")
    store.put(google_event("customer", tomorrow, summary="Customer call", attendees=guests))
    store.put(google_event("other", tomorrow + timedelta(hours=2), attendees=guests))
    for n in range(filler):
        store.put(google_event(f"filler{n}", tomorrow + timedelta(hours=3 + n)))
    bob = CalendarFactory(
        project=project,
        calendar_user=CalendarUser.objects.create(
            project=project, external_id="bob", record_external=True
        ),
        state=Calendar.State.CONNECTED,
        email="bob@acme.com",
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert sync_calendar_by_id(recording_calendar.pk).status == "synced"
    bots = {bot.name: bot for bot in Bot.objects.filter(project=project)}
    assert set(bots) == {"Acme Notetaker", "Meeting Notetaker"}
    customer = Meeting.objects.get(calendar=recording_calendar, platform_event_id="customer")
    assert list(bots["Acme Notetaker"].meetings.all()) == [customer]
    assert '"Customer calls"' in customer.will_record_reason
    scheduled = WebhookDelivery.objects.filter(event_type="bot.scheduled")
    listed = {
        d.payload["data"]["bot"]["id"]: d.payload["data"]["bot"]["calendar_meetings"]
        for d in scheduled
    }
    assert len(listed) == 2
    meetings = listed[str(bots["Acme Notetaker"].pk)]
    assert [m["id"] for m in meetings] == [str(customer.pk)]
    assert meetings[0]["calendar_user"]["external_id"] == "alice"
    pushed = {bot_id for call in enqueued for bot_id in call[1:]}
    assert pushed == {str(bot.pk) for bot in bots.values()}
    assert not Calendar.objects.get(pk=recording_calendar.pk).bots_pending

    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_calendar_by_id(bob.pk).status == "synced"
    # Bob's copies join the same two bots: no new bot, no new event, nothing to push.
    assert Bot.objects.filter(project=project).count() == 2
    assert Bot.objects.get(pk=bots["Meeting Notetaker"].pk).meetings.count() == 2
    assert scheduled.count() == 2
    assert enqueued == []


def test_series_scheduled_by_api_applies_to_new_instances(store, recording_calendar):
    BotSchedule.objects.create(
        project=recording_calendar.project, calendar=recording_calendar, series_id="weekly"
    )
    store.put(
        google_event(
            "weekly_1", NOW + timedelta(days=1), recurringEventId="weekly", attendees=attendees()
        )
    )
    sync_calendar_by_id(recording_calendar.pk)
    meeting = Meeting.objects.get(platform_event_id="weekly_1")
    assert meeting.will_record_reason == REASONS["scheduled_by_api"]
    assert meeting.bots.count() == 1


def test_a_settled_meeting_that_changes_again_is_reconciled(recording_calendar):
    Calendar.objects.filter(pk=recording_calendar.pk).update(
        sync_lease_owner="me", sync_lease_expires_at=NOW + timedelta(minutes=5)
    )
    result = SyncResult(status="running")
    writer = PageWriter(
        recording_calendar,
        providers.get_provider("google"),
        horizon(recording_calendar.project, NOW),
        "me",
        result,
    )
    tomorrow = NOW + timedelta(days=1)
    internal = google_event("e1", tomorrow, attendees=attendees("bob@acme.com"))
    writer.write(Page([internal, google_event("e2", tomorrow, attendees=attendees())]))
    assert result.settled_event_ids == {"e1", "e2"}
    writer.write(Page([{**internal, "attendees": attendees("sam@globex.com")}]))
    writer.write(Page([{"id": "e2", "status": "cancelled"}]))
    assert result.settled_event_ids == set()
    assert result.changed_event_ids == {"e1", "e2"}


def test_many_changed_events_are_updated_in_place(store, calendar):
    store.page_size = 2500
    for n in range(250):
        store.put(google_event(f"e{n}", NOW + timedelta(hours=n + 1)))
    sync_calendar_by_id(calendar.pk)
    first = Meeting.objects.get(platform_event_id="e0")
    Meeting.objects.filter(pk=first.pk).update(override_should_record=False)
    for n in range(250):
        store.put(google_event(f"e{n}", NOW + timedelta(hours=n + 2), summary=f"Moved {n}"))

    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        result = sync_calendar_by_id(calendar.pk)

    assert result.upserted == 250
    assert Meeting.objects.filter(calendar=calendar).count() == 250
    moved = Meeting.objects.get(pk=first.pk)
    assert (moved.title, moved.start_time) == ("Moved 0", NOW + timedelta(hours=2))
    assert moved.updated_at == NOW + timedelta(minutes=1)
    assert moved.created_at == first.created_at
    assert moved.override_should_record is False  # not a synced field: kept
    assert moved.will_record_reason == REASONS["override_off"]


def test_payload_json_survives_what_orjson_refuses():
    assert json.loads(_json({"n": 2**70, "s": "é"})) == {"n": 2**70, "s": "é"}


# --- pages prepared ahead by a helper thread --------------------------------------------------------


class TwoPageSession:
    """Page 1; then a token refresh and page 2; then a rate limit."""

    def __init__(self, log):
        self.log = log
        self.on_credentials_changed = None
        self.credentials = Credentials(OAuthClient("id", "secret"), refresh_token="r1")

    def pages(self):
        yield Page([{"n": 1}])
        self.credentials.refresh_token = "r2"
        self.on_credentials_changed(self.credentials)
        self.credentials.refresh_token = "r3"  # the copy handed over keeps "r2"
        yield Page([{"n": 2}])
        raise RateLimited("slow down", retry_after=5)


def test_helper_thread_hands_over_pages_credentials_and_errors_in_order():
    log = []
    session = TwoPageSession(log)

    def save(credentials):
        log.append(("saved", credentials.refresh_token, threading.current_thread().name))

    def prepare(page):
        log.append(("prepared", page.events[0]["n"], threading.current_thread().name))
        return page.events[0]["n"]

    session.on_credentials_changed = save
    main = threading.current_thread().name
    with pytest.raises(RateLimited):
        for _page, prepared in _prepared_ahead(session, session.pages(), prepare):
            log.append(("applied", prepared, main))
    applied = [entry for entry in log if entry[0] in ("saved", "applied")]
    # Credentials are saved by the syncing thread, before the page fetched with them.
    assert applied == [("applied", 1, main), ("saved", "r2", main), ("applied", 2, main)]
    assert {entry[2] for entry in log if entry[0] == "prepared"} == {"sync-pages"}
    assert session.on_credentials_changed is save  # restored


def test_helper_thread_stops_when_the_syncing_thread_leaves_early():
    def endless():
        n = 0
        while True:
            n += 1
            yield Page([{"n": n}])

    session = TwoPageSession([])
    pages = _prepared_ahead(session, endless(), lambda page: page.events[0]["n"])
    assert next(pages)[1] == 1
    pages.close()  # as when a write raises
    helpers = [t for t in threading.enumerate() if t.name == "sync-pages"]
    for helper in helpers:
        helper.join(timeout=5)
    assert helpers and not any(helper.is_alive() for helper in helpers)

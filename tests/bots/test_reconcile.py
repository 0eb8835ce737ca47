"""Reconciliation: bots follow the recording decisions, one live bot per real meeting."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bots.jobs import PUSH_BATCH
from bots.models import Bot
from bots.reconcile import deduplication_key, reconcile_meetings, reconcile_upcoming
from calendars.meeting_services import meeting_set_override
from calendars.models import CalendarUser
from calendars.providers.base import AuthRevoked
from calendars.services import (
    calendar_mark_disconnected,
    calendar_user_delete,
    calendar_user_update,
)
from meetings.decisions import REASONS
from meetings.models import Meeting
from tests.factories import CalendarFactory, MeetingFactory

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
START = NOW + timedelta(days=1)
ZOOM = "https://us02web.zoom.us/j/123456789"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: calls.append(args))
    return calls


def user_with_meeting(project, name, *, platform="google", start=START, url=ZOOM, **prefs):
    user = CalendarUser.objects.create(
        project=project,
        external_id=name,
        **{"record_external": True, "record_internal": True, **prefs},
    )
    calendar = CalendarFactory(
        project=project, calendar_user=user, platform=platform, email=f"{name}@acme.com"
    )
    meeting = MeetingFactory(
        calendar=calendar,
        start_time=start,
        end_time=start + timedelta(minutes=30),
        meeting_url=url,
        meeting_platform="zoom",
    )
    return user, meeting


def live_bots(project):
    return list(Bot.objects.filter(project=project).exclude(status__in=Bot.TERMINAL_STATUSES))


def test_one_meeting_one_bot_with_lead_time(acme):
    _, meeting = user_with_meeting(acme.project, "alice")
    result = reconcile_meetings(meeting_ids=[meeting.pk])
    (bot,) = live_bots(acme.project)
    assert bot.join_at == START - timedelta(minutes=2)
    assert (bot.meeting_url, bot.name, bot.status) == (ZOOM, "Meeting Notetaker", "scheduled")
    assert list(bot.meetings.all()) == [meeting]
    meeting.refresh_from_db()
    assert meeting.will_record and meeting.will_record_reason.startswith("Recorded")
    assert result.created == {bot.pk}
    # Idempotent.
    again = reconcile_meetings(meeting_ids=[meeting.pk])
    assert (again.created, again.moved, again.cancelled, again.decisions_changed) == (
        set(),
        set(),
        set(),
        0,
    )


def test_two_users_in_one_meeting_share_a_bot(acme):
    _, a = user_with_meeting(acme.project, "alice")
    _, b = user_with_meeting(acme.project, "bob")
    reconcile_meetings(meeting_ids=[a.pk])
    reconcile_meetings(meeting_ids=[b.pk])
    (bot,) = live_bots(acme.project)
    assert set(bot.meetings.all()) == {a, b}


def test_google_and_microsoft_users_get_one_bot_each(acme):
    _, a = user_with_meeting(acme.project, "alice", platform="google")
    _, b = user_with_meeting(acme.project, "bob", platform="microsoft")
    reconcile_meetings(meeting_ids=[a.pk, b.pk])
    assert len(live_bots(acme.project)) == 2


def test_deduplication_off_gives_one_bot_per_calendar(acme):
    acme.project.bot_deduplication = False
    acme.project.save()
    _, a = user_with_meeting(acme.project, "alice")
    _, b = user_with_meeting(acme.project, "bob")
    reconcile_meetings(meeting_ids=[a.pk, b.pk])
    assert len(live_bots(acme.project)) == 2


def test_projects_never_share_bots(acme, globex):
    _, a = user_with_meeting(acme.project, "alice")
    _, b = user_with_meeting(globex.project, "alice")
    reconcile_meetings(meeting_ids=[a.pk, b.pk])
    assert len(live_bots(acme.project)) == len(live_bots(globex.project)) == 1


def test_meeting_moves_bot_follows_without_a_new_bot(acme):
    _, meeting = user_with_meeting(acme.project, "alice")
    reconcile_meetings(meeting_ids=[meeting.pk])
    (bot,) = live_bots(acme.project)
    Meeting.objects.filter(pk=meeting.pk).update(
        start_time=START + timedelta(hours=3), end_time=START + timedelta(hours=4)
    )
    result = reconcile_meetings(meeting_ids=[meeting.pk])
    assert result.moved == {bot.pk} and not result.created
    bot.refresh_from_db()
    assert bot.join_at == START + timedelta(hours=3) - timedelta(minutes=2)
    assert bot.deduplication_key == deduplication_key(Meeting.objects.get(pk=meeting.pk))
    assert Bot.objects.count() == 1


def test_link_change_moves_the_bot(acme):
    _, meeting = user_with_meeting(acme.project, "alice")
    reconcile_meetings(meeting_ids=[meeting.pk])
    Meeting.objects.filter(pk=meeting.pk).update(meeting_url="https://zoom.us/j/999")
    reconcile_meetings(meeting_ids=[meeting.pk])
    (bot,) = live_bots(acme.project)
    assert bot.meeting_url == "https://zoom.us/j/999"
    assert Bot.objects.count() == 1


def test_shared_bot_splits_when_one_copy_moves_then_merges(acme):
    _, a = user_with_meeting(acme.project, "alice")
    _, b = user_with_meeting(acme.project, "bob")
    reconcile_meetings(meeting_ids=[a.pk, b.pk])
    later = {"start_time": START + timedelta(hours=1), "end_time": START + timedelta(hours=2)}
    Meeting.objects.filter(pk=a.pk).update(**later)  # alice's sync saw the move first
    reconcile_meetings(meeting_ids=[a.pk])
    assert len(live_bots(acme.project)) == 2
    Meeting.objects.filter(pk=b.pk).update(**later)  # then bob's
    reconcile_meetings(meeting_ids=[b.pk])
    (bot,) = live_bots(acme.project)
    assert set(bot.meetings.all()) == {a, b}


@pytest.mark.parametrize(
    "change",
    [{"status": "cancelled"}, {"is_deleted": True}, {"meeting_url": None}],
    ids=["cancelled", "deleted", "link-removed"],
)
def test_bot_cancelled_when_meeting_no_longer_records(acme, change):
    _, meeting = user_with_meeting(acme.project, "alice")
    reconcile_meetings(meeting_ids=[meeting.pk])
    (bot,) = live_bots(acme.project)
    Meeting.objects.filter(pk=meeting.pk).update(**change)
    result = reconcile_meetings(meeting_ids=[meeting.pk])
    assert result.cancelled == {bot.pk}
    bot.refresh_from_db()
    assert bot.status == "cancelled"
    assert live_bots(acme.project) == []


def test_shared_bot_survives_one_user_leaving(acme):
    _, a = user_with_meeting(acme.project, "alice")
    _, b = user_with_meeting(acme.project, "bob")
    reconcile_meetings(meeting_ids=[a.pk, b.pk])
    Meeting.objects.filter(pk=a.pk).update(override_should_record=False)
    reconcile_meetings(meeting_ids=[a.pk])
    (bot,) = live_bots(acme.project)
    assert list(bot.meetings.all()) == [b]


def test_preference_narrowing_removes_bots(acme):
    alice, meeting = user_with_meeting(acme.project, "alice")
    reconcile_meetings(meeting_ids=[meeting.pk])
    calendar_user_update(calendar_user=alice, preferences={"record_internal": False})
    meeting.refresh_from_db()
    assert not meeting.will_record
    assert "only external meetings" in meeting.will_record_reason
    assert live_bots(acme.project) == []


def test_override_schedules_and_unschedules(acme):
    _alice, meeting = user_with_meeting(
        acme.project, "alice", record_external=False, record_internal=False
    )
    reconcile_meetings(meeting_ids=[meeting.pk])
    assert live_bots(acme.project) == []
    meeting_set_override(meeting=meeting, value=True)
    assert len(live_bots(acme.project)) == 1
    meeting_set_override(meeting=meeting, value=None)
    assert live_bots(acme.project) == []


def test_disconnect_and_delete_remove_bots(acme):
    _alice, a = user_with_meeting(acme.project, "alice")
    bob, b = user_with_meeting(acme.project, "bob", url="https://zoom.us/j/555")
    reconcile_meetings(meeting_ids=[a.pk, b.pk])
    assert len(live_bots(acme.project)) == 2
    calendar_mark_disconnected(calendar=a.calendar, error=AuthRevoked("revoked"))
    assert [bot.meeting_url for bot in live_bots(acme.project)] == ["https://zoom.us/j/555"]
    calendar_user_delete(calendar_user=bob)
    assert live_bots(acme.project) == []


def test_joined_bots_are_never_touched(acme):
    _, meeting = user_with_meeting(acme.project, "alice")
    reconcile_meetings(meeting_ids=[meeting.pk])
    (bot,) = live_bots(acme.project)
    bot.set_status("in_call_recording")
    bot.save()
    Meeting.objects.filter(pk=meeting.pk).update(status="cancelled")
    reconcile_meetings(meeting_ids=[meeting.pk])
    bot.refresh_from_db()
    assert bot.status == "in_call_recording"


def test_meeting_already_running_gets_a_bot_now(acme):
    _, meeting = user_with_meeting(acme.project, "alice", start=NOW - timedelta(minutes=5))
    reconcile_meetings(meeting_ids=[meeting.pk])
    (bot,) = live_bots(acme.project)
    assert bot.join_at == NOW


def test_bot_name_from_preferences(acme):
    _, meeting = user_with_meeting(acme.project, "alice", bot_name="Alice's Notes")
    reconcile_meetings(meeting_ids=[meeting.pk])
    assert live_bots(acme.project)[0].name == "Alice's Notes"


def test_backend_push_queued_after_commit(acme, enqueued, django_capture_on_commit_callbacks):
    _, meeting = user_with_meeting(acme.project, "alice")
    with django_capture_on_commit_callbacks(execute=True):
        reconcile_meetings(meeting_ids=[meeting.pk])
    (bot,) = live_bots(acme.project)
    assert ("bots.jobs.push_bot_to_backend", str(bot.pk)) in enqueued


def test_constant_statements_for_one_changed_meeting(acme, django_assert_max_num_queries):
    counts = []
    for size in (10, 100):
        Meeting.objects.all().delete()
        Bot.objects.all().delete()
        CalendarUser.objects.all().delete()
        _alice, first = user_with_meeting(acme.project, f"alice{size}")
        meetings = [first] + [
            MeetingFactory(
                calendar=first.calendar,
                start_time=START + timedelta(hours=n),
                end_time=START + timedelta(hours=n, minutes=30),
                meeting_url=ZOOM,
            )
            for n in range(1, size)
        ]
        reconcile_meetings(meeting_ids=[m.pk for m in meetings])
        Meeting.objects.filter(pk=first.pk).update(start_time=START + timedelta(minutes=15))
        with django_assert_max_num_queries(30) as captured:
            reconcile_meetings(meeting_ids=[first.pk])
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_safety_sweep(acme):
    _, _meeting = user_with_meeting(acme.project, "alice")
    assert reconcile_upcoming() == 1
    assert len(live_bots(acme.project)) == 1


def test_concurrent_reconciliation_ends_with_one_bot(acme, monkeypatch):
    """Two workers reconcile two copies of one meeting at once: both see no bot for the key,
    both create one; the database's one-live-bot-per-key constraint stops the second, which
    then joins the first's bot."""
    from bots import reconcile

    _, a = user_with_meeting(acme.project, "alice")
    _, b = user_with_meeting(acme.project, "bob")
    reconcile_meetings(meeting_ids=[a.pk])
    (winner,) = live_bots(acme.project)
    calls = {"n": 0}

    def blind_lock(self, bot_ids, keys_by_project):
        # As if the other worker's bot was committed just after our up-front lookup.
        calls["n"] += 1
        return {}

    monkeypatch.setattr(reconcile._Reconciler, "lock", blind_lock)
    result = reconcile_meetings(meeting_ids=[b.pk])
    (bot,) = live_bots(acme.project)
    assert bot.pk == winner.pk
    assert set(bot.meetings.all()) == {a, b}
    assert Bot.objects.count() == 1
    assert calls["n"] == 1 and result.created == set()


def test_sweep_marks_ended_meetings(acme):
    _, meeting = user_with_meeting(acme.project, "alice")
    reconcile_meetings(meeting_ids=[meeting.pk])
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        reconcile_upcoming()
    meeting.refresh_from_db()
    assert (meeting.will_record, meeting.will_record_reason) == (False, REASONS["ended"])


def test_many_new_bots_cost_the_same_statements_as_a_few(
    acme, django_assert_max_num_queries, enqueued, django_capture_on_commit_callbacks
):
    """A first sync can schedule thousands of bots: creating them, linking the meetings and
    writing the webhook events take a fixed number of statements, however many there are."""
    from tests.factories import WebhookEndpointFactory
    from webhooks.models import WebhookDelivery

    WebhookEndpointFactory(project=acme.project, event_types=["bot.*"])
    counts = []
    for size in (5, 25):
        Meeting.objects.all().delete()
        Bot.objects.all().delete()
        enqueued.clear()
        _alice, first = user_with_meeting(acme.project, f"alice{size}")
        _bob, shared = user_with_meeting(acme.project, f"bob{size}")  # same meeting as first
        meetings = [first, shared] + [
            MeetingFactory(
                calendar=first.calendar,
                start_time=START + timedelta(hours=n),
                end_time=START + timedelta(hours=n, minutes=30),
                meeting_url=ZOOM,
                meeting_platform="zoom",
            )
            for n in range(1, size)
        ]
        with (
            django_capture_on_commit_callbacks() as after_commit,
            django_assert_max_num_queries(20) as captured,
        ):
            result = reconcile_meetings(meeting_ids=[m.pk for m in meetings])
        counts.append(len(captured.captured_queries))
        for callback in after_commit:  # queue writes: backend pushes, webhook deliveries
            callback()
        bots = live_bots(acme.project)
        assert len(bots) == len(result.created) == size
        assert {m.pk for m in Bot.objects.get(meetings=first).meetings.all()} == {
            first.pk,
            shared.pk,
        }
        deliveries = WebhookDelivery.objects.filter(event_type="bot.scheduled")
        assert deliveries.count() == size
        listed = {
            d.payload["data"]["bot"]["id"]: [
                m["id"] for m in d.payload["data"]["bot"]["calendar_meetings"]
            ]
            for d in deliveries
        }
        shared_bot = Bot.objects.get(meetings=first)
        assert sorted(listed[str(shared_bot.pk)]) == sorted([str(first.pk), str(shared.pk)])
        assert all(len(ids) == 1 for bot_id, ids in listed.items() if bot_id != str(shared_bot.pk))
        # Pushed to the backend in jobs of PUSH_BATCH bots.
        pushed = [ids for job, *ids in enqueued if job == "bots.jobs.push_bot_to_backend"]
        assert sorted(i for ids in pushed for i in ids) == sorted(str(b.pk) for b in bots)
        assert max(len(ids) for ids in pushed) == min(size, PUSH_BATCH)
        WebhookDelivery.objects.all().delete()
    assert counts[0] == counts[1]


def test_push_job_takes_several_bots(acme):
    from bots import jobs

    _, a = user_with_meeting(acme.project, "alice")
    _, b = user_with_meeting(acme.project, "bob", start=START + timedelta(hours=3))
    reconcile_meetings(meeting_ids=[a.pk, b.pk])
    bots = live_bots(acme.project)
    assert jobs.push_bot_to_backend(*[str(bot.pk) for bot in bots]) == "synced, synced"
    assert all(bot.backend_synced_at for bot in Bot.objects.filter(pk__in=[b.pk for b in bots]))


def test_a_meeting_left_with_two_live_bots_keeps_one(acme):
    """What a past race (two reconciliations on different versions of a meeting) could leave:
    the bot of the meeting's current key stays, the stray one is cancelled."""
    _, meeting = user_with_meeting(acme.project, "alice")
    reconcile_meetings(meeting_ids=[meeting.pk])
    (right,) = live_bots(acme.project)
    ghost = Bot.objects.create(
        project=acme.project,
        meeting_url=ZOOM,
        join_at=START - timedelta(hours=5),
        name="ghost",
        deduplication_key="an old time",
    )
    ghost.meetings.add(meeting)
    result = reconcile_meetings(meeting_ids=[meeting.pk])
    assert live_bots(acme.project) == [right]
    ghost.refresh_from_db()
    assert ghost.status == Bot.Status.CANCELLED
    assert ghost.status_changes[-1]["sub_code"] == "duplicate"
    assert result.cancelled == {ghost.pk}


def test_the_safety_sweep_cancels_a_scheduled_bot_that_serves_no_meeting(acme):
    orphan = Bot.objects.create(
        project=acme.project,
        meeting_url=ZOOM,
        join_at=START,
        name="orphan",
        deduplication_key="nobody's",
    )
    reconcile_upcoming()
    orphan.refresh_from_db()
    assert orphan.status == Bot.Status.CANCELLED

"""Reconciliation in bulk: a batch's bots are created, cancelled and unlinked in a few
statements whatever its size, with the same outcome (history, links, events) as one by one."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bots import reconcile
from bots.models import Bot
from bots.reconcile import reconcile_meetings
from calendars.models import CalendarUser
from config.db import COPY_THRESHOLD
from meetings.models import AutoJoinRule, Meeting
from tests.factories import CalendarFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
START = NOW + timedelta(days=1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def hooks(acme, monkeypatch):
    monkeypatch.setattr("webhooks.queueing.enqueue_delivery", lambda delivery_ids: None)
    return WebhookEndpoint.objects.create(project=acme.project, url="https://hooks.example.com/")


def calendar_with_meetings(project, count: int, *, name="alice"):
    user = CalendarUser.objects.create(
        project=project, external_id=name, record_external=True, record_internal=True
    )
    calendar = CalendarFactory(project=project, calendar_user=user, email=f"{name}@acme.com")
    meetings = Meeting.objects.bulk_create(
        Meeting(
            project=project,
            calendar=calendar,
            platform_event_id=f"event-{n}",
            start_time=START + timedelta(minutes=30 * n),
            end_time=START + timedelta(minutes=30 * n + 30),
            meeting_url=f"https://zoom.us/j/{1000000000 + n}",
            meeting_platform="zoom",
        )
        for n in range(count)
    )
    return user, calendar, [meeting.pk for meeting in meetings]


def live(project):
    return Bot.objects.filter(project=project).live()


def stop_recording(user, ids):
    CalendarUser.objects.filter(pk=user.pk).update(record_external=False, record_internal=False)
    return reconcile_meetings(meeting_ids=ids)


@pytest.mark.parametrize("count", [3, COPY_THRESHOLD + 5])
def test_bots_created_in_bulk_read_back_like_saved_ones(acme, count):
    """Below the threshold the ORM inserts them, above it COPY (PostgreSQL): same rows."""
    _, _, ids = calendar_with_meetings(acme.project, count)
    result = reconcile_meetings(meeting_ids=ids)
    assert len(result.created) == count
    bots = {bot.deduplication_key: bot for bot in live(acme.project)}
    assert len(bots) == count
    for meeting in Meeting.objects.filter(pk__in=ids):
        bot = bots[reconcile.deduplication_key(meeting)]
        assert list(bot.meetings.all()) == [meeting]
        assert bot.join_at == meeting.start_time - timedelta(
            seconds=acme.project.bot_join_lead_seconds
        )
        assert bot.status == "scheduled"
        assert [entry["code"] for entry in bot.status_changes] == ["scheduled"]
        assert bot.config == (acme.project.bot_config or {})
        assert bot.metadata == {}
        assert bot.created_at == bot.updated_at == NOW


def test_a_key_taken_meanwhile_by_another_worker_is_shared(acme, monkeypatch):
    """The bulk insert (COPY above the threshold) meets the one-live-bot-per-key constraint;
    the batch falls back to one by one and shares the other worker's bot."""
    _, _, ids = calendar_with_meetings(acme.project, COPY_THRESHOLD + 5)
    first = Meeting.objects.get(pk=ids[0])
    reconcile_meetings(meeting_ids=[first.pk])
    (theirs,) = live(acme.project)
    monkeypatch.setattr(reconcile._Reconciler, "lock", lambda self, bot_ids, keys: {})
    result = reconcile_meetings(meeting_ids=ids)
    bots = live(acme.project)
    assert bots.count() == len(ids)
    assert theirs.pk not in result.created
    assert set(theirs.meetings.values_list("pk", flat=True)) == {first.pk}


def test_cancelling_many_bots_appends_to_each_history(acme, hooks):
    user, _, ids = calendar_with_meetings(acme.project, 40)
    reconcile_meetings(meeting_ids=ids)
    dispatched = Bot.objects.filter(project=acme.project).order_by("join_at").first()
    dispatched.set_status(Bot.Status.DISPATCHED, message="Handed over.")
    dispatched.save()
    WebhookDelivery.objects.all().delete()

    result = stop_recording(user, ids)

    assert len(result.cancelled) == 40 and result.detached == 40
    assert not live(acme.project).exists()
    assert not Bot.meetings.through.objects.filter(meeting_id__in=ids).exists()
    for bot in Bot.objects.filter(project=acme.project):
        codes = [entry["code"] for entry in bot.status_changes]
        expected = ["scheduled", "dispatched"] if bot.pk == dispatched.pk else ["scheduled"]
        assert codes == [*expected, "cancelled"]
        assert bot.status_changes[-1]["sub_code"] == "not_needed"
        assert bot.updated_at == NOW
    events = [e.payload["data"] for e in WebhookDelivery.objects.filter(event_type="bot.cancelled")]
    assert sorted(event["bot"]["id"] for event in events) == sorted(
        str(pk) for pk in result.cancelled
    )
    assert {event["bot"]["status"] for event in events} == {"cancelled"}
    assert {event["reason"] for event in events} == {"not_needed"}


def test_statements_do_not_grow_with_the_batch(acme):
    """Creating, then cancelling, 5 or 40 bots costs the same number of statements."""
    counts = []
    for n, size in enumerate((5, 40)):
        user, _, ids = calendar_with_meetings(acme.project, size, name=f"user{n}")
        with CaptureQueriesContext(connection) as created:
            reconcile_meetings(meeting_ids=ids)
        with CaptureQueriesContext(connection) as cancelled:
            stop_recording(user, ids)
        counts.append((len(created.captured_queries), len(cancelled.captured_queries)))
    assert counts[0] == counts[1]
    assert counts[1][1] < 20


def test_a_shared_bot_left_by_one_copy_keeps_serving_the_other(acme):
    """Two calendars see one meeting; the first stops recording: the bot stays, linked to the
    second only (links are counted in memory, under the bot's lock)."""
    alice, _, alice_ids = calendar_with_meetings(acme.project, 2, name="alice")
    _, _, bob_ids = calendar_with_meetings(acme.project, 2, name="bob")
    reconcile_meetings(meeting_ids=alice_ids + bob_ids)
    assert live(acme.project).count() == 2

    result = stop_recording(alice, alice_ids)

    assert result.cancelled == set() and result.detached == 2
    for bot in live(acme.project):
        assert set(bot.meetings.values_list("pk", flat=True)) <= set(bob_ids)
        assert bot.meetings.count() == 1


def test_a_mark_set_after_the_meetings_were_read_stays(acme, monkeypatch):
    """Only the marks the batch read are cleared: a change marked meanwhile (that the batch's
    decision did not see) is reconciled again by the next drain."""
    _, _, ids = calendar_with_meetings(acme.project, 2)
    real = reconcile.load_meetings

    def marked_meanwhile(selected, calendars, *fields):
        meetings = real(selected, calendars, *fields)
        Meeting.objects.filter(pk=ids[1]).update(needs_reconcile=True)
        return meetings

    monkeypatch.setattr(reconcile, "load_meetings", marked_meanwhile)
    Meeting.objects.filter(pk=ids[0]).update(needs_reconcile=True)
    reconcile_meetings(meeting_ids=ids)
    marks = dict(Meeting.objects.filter(pk__in=ids).values_list("pk", "needs_reconcile"))
    assert marks == {ids[0]: False, ids[1]: True}


@pytest.mark.parametrize("rule_owner", [None, "user", "project"])
def test_rules_are_read_only_when_one_may_apply(acme, rule_owner):
    """The calendar lock's statement says whether the user, or its project, has an enabled
    rule: users without rules (most) cost no rule query; a rule of either kind is read."""
    user, _, ids = calendar_with_meetings(acme.project, 3)
    if rule_owner:
        AutoJoinRule.objects.create(
            project=acme.project,
            calendar_user=user if rule_owner == "user" else None,
            name="skip all",
            action="skip",
        )
    Meeting.objects.filter(pk__in=ids).update(needs_reconcile=True)
    with CaptureQueriesContext(connection) as queries:
        reconcile_meetings(meeting_ids=ids)
    read_rules = any(q["sql"].startswith('SELECT "meetings_autojoinrule"') for q in queries)
    assert read_rules == bool(rule_owner)
    assert live(acme.project).count() == (0 if rule_owner else 3)


def test_a_re_decision_reconciles_only_the_meetings_whose_decision_changes(acme):
    """After a preference or rule change (`redecide`), a meeting whose decision stays is left
    as it is - its bot already matches - unless it is marked; the changed ones are reconciled."""
    user, calendar, ids = calendar_with_meetings(acme.project, 4)
    reconcile_meetings(meeting_ids=ids)
    untouched = Bot.objects.get(meetings=ids[0])
    Bot.objects.filter(pk=untouched.pk).update(join_at=NOW + timedelta(days=9))  # off, on purpose
    Meeting.objects.filter(pk=ids[1]).update(is_external=True)

    CalendarUser.objects.filter(pk=user.pk).update(record_internal=False)
    result = reconcile.redecide(calendar_ids=[calendar.pk])

    assert result.decisions_changed == 3 and result.reconciled == 4
    assert len(result.cancelled) == 3
    assert set(live(acme.project).values_list("pk", flat=True)) == {
        Bot.objects.get(meetings=ids[1]).pk
    }
    untouched.refresh_from_db()
    assert untouched.status == "cancelled"  # decision changed: reconciled

    # An unchanged decision is left alone, unless the meeting is marked.
    kept = Bot.objects.get(meetings=ids[1])
    Bot.objects.filter(pk=kept.pk).update(join_at=NOW + timedelta(days=9))
    reconcile.redecide(calendar_ids=[calendar.pk])
    assert Bot.objects.get(pk=kept.pk).join_at == NOW + timedelta(days=9)
    Meeting.objects.filter(pk=ids[1]).update(needs_reconcile=True)
    reconcile.redecide(calendar_ids=[calendar.pk])
    meeting = Meeting.objects.get(pk=ids[1])
    assert Bot.objects.get(pk=kept.pk).join_at == meeting.start_time - timedelta(
        seconds=acme.project.bot_join_lead_seconds
    )
    assert not meeting.needs_reconcile


def test_a_rules_new_bot_settings_reach_the_meetings_it_decides(acme):
    """Renaming a rule's bot changes no decision (nor its reason), yet the bots of the meetings
    the rule decides follow: `redecide` reconciles what the changed rule decides."""
    from calendars.rule_services import rule_create, rule_update

    user, _, ids = calendar_with_meetings(acme.project, 3)
    CalendarUser.objects.filter(pk=user.pk).update(record_internal=False)
    user.refresh_from_db()
    rule = rule_create(
        project=acme.project,
        calendar_user=user,
        data={"name": "all", "action": "join", "bot_name": "First"},
    )
    assert set(live(acme.project).values_list("name", flat=True)) == {"First"}
    reasons = set(Meeting.objects.filter(pk__in=ids).values_list("will_record_reason", flat=True))

    rule_update(rule=rule, data={"bot_name": "Second"})

    assert live(acme.project).count() == 3
    assert set(live(acme.project).values_list("name", flat=True)) == {"Second"}
    assert (
        set(Meeting.objects.filter(pk__in=ids).values_list("will_record_reason", flat=True))
        == reasons
    )


def test_a_shared_bots_payload_lists_its_meetings_outside_the_batch(acme, hooks):
    """A bot serving two users' copies of a meeting is rescheduled while reconciling one copy:
    its `bot.rescheduled` payload lists both meetings (the other read for the payload)."""
    _, _, alice_ids = calendar_with_meetings(acme.project, 1, name="alice")
    _, _, bob_ids = calendar_with_meetings(acme.project, 1, name="bob")
    reconcile_meetings(meeting_ids=alice_ids + bob_ids)
    (bot,) = live(acme.project)
    WebhookDelivery.objects.all().delete()
    acme.project.bot_join_lead_seconds = 300
    acme.project.save()

    result = reconcile_meetings(meeting_ids=alice_ids)

    assert result.moved == {bot.pk}
    (delivery,) = WebhookDelivery.objects.filter(event_type="bot.rescheduled")
    listed = delivery.payload["data"]["bot"]["calendar_meetings"]
    assert sorted(m["id"] for m in listed) == sorted(str(pk) for pk in alice_ids + bob_ids)
    assert {m["calendar_user"]["external_id"] for m in listed} == {"alice", "bob"}

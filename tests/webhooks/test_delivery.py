"""Delivery end to end, against a real loopback receiver, with a controllable clock."""

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
import standardwebhooks
import svix.webhooks
import time_machine
from django.db import transaction
from django.utils import timezone

from tests.webhooks.conftest import pending
from tests.webhooks.receiver import Answer
from webhooks import delivery as attempts
from webhooks import events, jobs, queueing
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import deliveries_cleanup, emit_event, endpoint_rotate_secret

START = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def emit(django_capture_on_commit_callbacks, acme):
    """Emit like a service does: in a transaction, delivery queued when it commits."""

    def emit(data=None, *, event_type=events.CALENDAR_UPDATE, project=None):
        with django_capture_on_commit_callbacks(execute=True):
            return emit_event(
                project=project or acme.project, event_type=event_type, data=data or {"n": 1}
            )

    return emit


def run_due(clock, *, until=None) -> None:
    """Move the clock to each next due attempt and let the sweeper queue it."""
    for _ in range(200):
        due = (
            WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        if due is None or (until and due > until):
            return
        clock.move_to(max(due, timezone.now()))
        jobs.sweep()
    raise AssertionError("deliveries never finished")


def test_signature_verifies_with_standardwebhooks_and_svix(clock, emit, endpoint, receiver):
    (delivery,) = emit({"calendar_id": "c1"})
    (request,) = receiver.received
    body = request.body.decode()
    headers = request.headers

    assert standardwebhooks.Webhook(endpoint.secret).verify(body, headers)["data"] == {
        "calendar_id": "c1"
    }
    svix.webhooks.Webhook(endpoint.secret).verify(body, headers)
    svix_only = {k: v for k, v in headers.items() if not k.lower().startswith("webhook-")}
    svix.webhooks.Webhook(endpoint.secret).verify(body, svix_only)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(endpoint.secret).verify(body.replace("c1", "c2"), headers)

    payload = json.loads(body)
    assert headers["webhook-id"] == payload["id"] == str(delivery.event_id)
    assert payload == {
        "id": str(delivery.event_id),
        "event": "calendar.update",
        "timestamp": "2025-03-04T10:00:00Z",
        "data": {"calendar_id": "c1"},
    }
    assert headers["webhook-timestamp"] == str(int(START.timestamp()))
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("calsync/")

    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert delivery.delivered_at == START
    (logged,) = delivery.attempts.all()
    assert (logged.number, logged.outcome, logged.response_status) == (1, "succeeded", 200)
    assert logged.response_body == "ok"


def test_retries_on_5xx_with_backoff_then_succeeds(clock, emit, endpoint, receiver):
    receiver.script = [Answer(500, b"boom"), Answer(503)]
    (delivery,) = emit()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.response_status) == (
        "pending",
        1,
        500,
    )
    assert timedelta(seconds=24) <= delivery.next_attempt_at - START <= timedelta(seconds=36)

    jobs.sweep()  # not due yet: nothing happens
    assert len(receiver.received) == 1

    run_due(clock)
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert [a.outcome for a in delivery.attempts.all()] == ["retrying", "retrying", "succeeded"]
    assert [a.response_status for a in delivery.attempts.all()] == [500, 503, 200]
    second, third = delivery.attempts.all()[1:]
    assert timedelta(seconds=96) <= third.started_at - second.started_at <= timedelta(seconds=144)
    # One event id across every retry: receivers deduplicate on it.
    assert {r.headers["webhook-id"] for r in receiver.received} == {str(delivery.event_id)}


def test_retries_on_timeout(clock, emit, endpoint, receiver, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.3
    receiver.hold.clear()
    (delivery,) = emit()
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert "Timed out" in delivery.error
    receiver.hold.set()

    run_due(clock)
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert delivery.attempt_count == 2


def test_network_error_is_retried(clock, emit, endpoint, receiver):
    receiver.stop()
    (delivery,) = emit()
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert "ConnectionError" in delivery.error
    receiver.start()
    run_due(clock)
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_4xx_is_final(clock, emit, endpoint, receiver, status):
    receiver.answer = Answer(status, b'{"error": "nope"}')
    (delivery,) = emit()
    run_due(clock)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == (
        "failed",
        1,
        None,
    )
    assert delivery.attempts.get().outcome == "failed"
    assert len(receiver.received) == 1


@pytest.mark.parametrize("status", [408, 429, 301])
def test_408_429_and_redirects_are_retried(clock, emit, endpoint, receiver, status):
    receiver.script = [Answer(status, b"", {"Location": "https://elsewhere.example/"})]
    (delivery,) = emit()
    run_due(clock)
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert [r.path for r in receiver.received] == ["/hook", "/hook"]  # never followed


@pytest.mark.parametrize(
    "retry_after", ["600", "Tue, 04 Mar 2025 10:10:00 GMT"], ids=["seconds", "date"]
)
def test_retry_after_is_honoured(clock, emit, endpoint, receiver, retry_after):
    receiver.script = [Answer(429, b"slow down", {"Retry-After": retry_after})]
    (delivery,) = emit()
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == START + timedelta(minutes=10)


def test_retries_stop_after_24_hours(clock, emit, endpoint, receiver):
    receiver.answer = Answer(502)
    (delivery,) = emit()
    run_due(clock)
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    started = [a.started_at - START for a in delivery.attempts.all()]
    assert started[-1] == timedelta(hours=24)  # the last try is at the end of the window
    assert all(b > a for a, b in itertools.pairwise(started))
    assert 8 <= len(started) <= 16
    assert delivery.attempts.last().outcome == "failed"


def test_endpoint_failing_for_5_days_is_disabled(clock, emit, endpoint, receiver):
    receiver.answer = Answer(500)
    for day in range(6):
        clock.move_to(START + timedelta(days=day))
        emit()
        run_due(clock, until=START + timedelta(days=day, hours=23))
        endpoint.refresh_from_db()
        if day < 5:
            assert endpoint.is_active, day
    assert not endpoint.is_active
    assert "5 days" in endpoint.disabled_reason
    assert endpoint.failing_since == START
    assert pending() == []  # its pending deliveries failed with it
    assert emit() == []  # and nothing new is recorded for it


def test_a_success_resets_the_failure_streak(clock, emit, endpoint, receiver):
    receiver.script = [Answer(500)]
    emit()
    endpoint.refresh_from_db()
    assert endpoint.failing_since == START
    run_due(clock)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_rotated_secret_overlap(clock, emit, endpoint, receiver):
    old_secret = endpoint.secret
    endpoint = endpoint_rotate_secret(endpoint=endpoint, overlap=timedelta(hours=1))
    assert endpoint.secret != old_secret

    emit()
    during = receiver.received[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, endpoint.secret):
        standardwebhooks.Webhook(secret).verify(during.body, during.headers)
        svix.webhooks.Webhook(secret).verify(during.body, during.headers)

    clock.move_to(START + timedelta(hours=1, seconds=1))
    emit()
    after = receiver.received[-1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    standardwebhooks.Webhook(endpoint.secret).verify(after.body, after.headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old_secret).verify(after.body, after.headers)


def test_rotation_without_overlap_retires_the_old_secret_at_once(clock, emit, endpoint, receiver):
    old_secret = endpoint.secret
    endpoint = endpoint_rotate_secret(endpoint=endpoint, overlap=timedelta(0))
    emit()
    request = receiver.received[-1]
    with pytest.raises(svix.webhooks.WebhookVerificationError):
        svix.webhooks.Webhook(old_secret).verify(request.body, request.headers)
    svix.webhooks.Webhook(endpoint.secret).verify(request.body, request.headers)


def test_crash_between_commit_and_queueing_still_delivers(
    clock, acme, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        (delivery,) = emit_event(project=acme.project, event_type=events.CALENDAR_UPDATE, data={})
    assert len(callbacks) == 1  # the process "dies" here: the queueing never happens
    assert receiver.received == []

    assert jobs.sweep() == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert len(receiver.received) == 1


def test_broker_down_at_commit_does_not_fail_the_caller(
    clock, acme, endpoint, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(delivery_id):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(queueing, "enqueue_delivery", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = emit_event(project=acme.project, event_type=events.CALENDAR_UPDATE, data={})
    monkeypatch.undo()
    monkeypatch.setattr("django_q.conf.Conf.SYNC", True)
    jobs.sweep()
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"


def test_rollback_emits_nothing(acme, endpoint, receiver, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        emit_event(project=acme.project, event_type=events.CALENDAR_UPDATE, data={})
        raise RuntimeError("the change that caused the event failed")
    assert callbacks == []
    assert not WebhookDelivery.objects.exists()
    jobs.sweep()
    assert receiver.received == []


def test_only_subscribed_enabled_endpoints_get_the_event(acme, globex, emit):
    every = WebhookEndpoint.objects.create(project=acme.project, url="https://a.example/")
    bots = WebhookEndpoint.objects.create(
        project=acme.project, url="https://b.example/", event_types=["bot.*"]
    )
    updates = WebhookEndpoint.objects.create(
        project=acme.project, url="https://c.example/", event_types=["calendar.update"]
    )
    WebhookEndpoint.objects.create(project=acme.project, url="https://d.example/", is_active=False)
    WebhookEndpoint.objects.create(project=globex.project, url="https://e.example/")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(queueing, "enqueue_delivery", lambda delivery_id: None)
        calendar = emit(event_type=events.CALENDAR_UPDATE)
        bot = emit(event_type=events.BOT_SCHEDULED)
        sync = emit(event_type=events.CALENDAR_SYNC_EVENTS)
    assert {d.endpoint for d in calendar} == {every, updates}
    assert {d.endpoint for d in bot} == {every, bots}
    assert {d.endpoint for d in sync} == {every}
    assert len({d.event_id for d in calendar}) == 1  # one event, one id for every endpoint


def test_no_subscriber_writes_nothing(acme, emit):
    assert emit() == []
    assert not WebhookDelivery.objects.exists()


def test_unknown_event_type_is_a_programming_error(acme):
    with pytest.raises(ValueError, match="Unknown webhook event type"):
        emit_event(project=acme.project, event_type="calendar.exploded", data={})


def test_receiver_down_for_an_hour_gets_every_event_once_afterwards(
    clock, emit, endpoint, receiver
):
    receiver.stop()
    emitted = []
    for minute in range(60):
        clock.move_to(START + timedelta(minutes=minute))
        emitted += emit({"seq": minute})
        run_due(clock, until=START + timedelta(minutes=minute + 1))
    assert receiver.received == []
    assert all(d.status == "pending" for d in pending())

    clock.move_to(START + timedelta(hours=1))
    receiver.start()
    run_due(clock)

    assert WebhookDelivery.objects.filter(status="succeeded").count() == 60
    seen: dict[int, set[str]] = {}
    for request in receiver.received:
        payload = json.loads(request.body)
        assert request.headers["webhook-id"] == payload["id"]
        seen.setdefault(payload["data"]["seq"], set()).add(payload["id"])
    assert sorted(seen) == list(range(60))
    assert all(len(ids) == 1 for ids in seen.values())  # never twice with different ids
    assert {next(iter(ids)) for ids in seen.values()} == {str(d.event_id) for d in emitted}


def test_an_attempt_is_claimed_by_one_worker_only(clock, acme, endpoint, receiver, monkeypatch):
    monkeypatch.setattr(queueing, "enqueue_delivery", lambda delivery_id: None)
    (delivery,) = emit_event(project=acme.project, event_type=events.CALENDAR_UPDATE, data={})
    first = WebhookDelivery.objects.get(pk=delivery.pk)
    second = WebhookDelivery.objects.get(pk=delivery.pk)  # both workers read the due row
    assert attempts.claim(first, now=START)
    assert not attempts.claim(second, now=START)
    # While the lease runs, nobody else attempts it, the sweeper included.
    assert attempts.attempt(delivery_id=delivery.pk) is None
    assert jobs.sweep() == 0
    assert receiver.received == []


def test_a_worker_whose_lease_lapsed_cannot_overwrite_a_newer_attempt(
    clock, acme, endpoint, monkeypatch
):
    monkeypatch.setattr(queueing, "enqueue_delivery", lambda delivery_id: None)
    (delivery,) = emit_event(project=acme.project, event_type=events.CALENDAR_UPDATE, data={})
    stale = WebhookDelivery.objects.get(pk=delivery.pk)
    assert attempts.claim(stale, now=START)  # attempt 1 hangs...
    clock.move_to(START + attempts.LEASE + timedelta(seconds=1))
    assert attempts.attempt(delivery_id=delivery.pk).outcome == "succeeded"  # attempt 2
    attempts.record(
        stale,
        endpoint=endpoint,
        result=attempts.Result("retrying", error="late"),
        started_at=START,
        duration_ms=1,
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 2)
    assert sorted(delivery.attempts.values_list("number", "outcome")) == [
        (1, "retrying"),
        (2, "succeeded"),
    ]


def test_a_disabled_endpoints_pending_delivery_fails_without_a_request(
    clock, emit, endpoint, receiver
):
    receiver.script = [Answer(500)]
    (delivery,) = emit()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    run_due(clock)
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.error == "The endpoint is disabled."
    assert len(receiver.received) == 1


def test_cleanup_deletes_finished_deliveries_after_the_retention_period(
    clock, emit, endpoint, receiver, settings
):
    settings.WEBHOOKS_RETENTION_DAYS = 30
    old = emit()[0]
    receiver.answer = Answer(500)
    old_pending = emit()[0]
    clock.move_to(START + timedelta(days=31))
    # Its next attempt is not due yet (else the next job would make it, and it would finish).
    WebhookDelivery.objects.filter(pk=old_pending.pk).update(
        next_attempt_at=START + timedelta(days=32)
    )
    receiver.answer = Answer(200)
    recent = emit()[0]
    assert jobs.cleanup() == 1
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {old_pending.pk, recent.pk}
    assert not WebhookAttempt.objects.filter(delivery_id=old.pk).exists()
    clock.shift(1)
    assert deliveries_cleanup(older_than=timedelta(0)) == 1  # still pending: kept


def test_periodic_jobs_are_declared():
    from config.schedules import SCHEDULES

    declared = {job.func: job.minutes for job in SCHEDULES}
    assert declared["webhooks.jobs.sweep"] == 1
    assert declared["webhooks.jobs.cleanup"] == 60

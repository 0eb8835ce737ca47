"""Delivery in waves: a batch claimed together (exactly once among concurrent workers), sent
concurrently over kept-alive connections, logged together; a worker that dies between two steps
leaves every delivery in a state the sweeper repairs."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, connections

from config import faults
from tests.webhooks.receiver import Answer
from webhooks import delivery as attempts
from webhooks import events, jobs, queueing
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import emit_events

START = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def unqueued(monkeypatch):
    """Deliveries are written but no job is queued: the test runs the jobs."""
    monkeypatch.setattr(queueing, "enqueue_delivery", lambda delivery_ids: None)


def emit_many(project, count: int) -> list[WebhookDelivery]:
    items = [(events.CALENDAR_UPDATE, {"n": n}) for n in range(count)]
    return emit_events(project=project, items=items)


def ids(deliveries) -> list[str]:
    return [str(delivery.pk) for delivery in deliveries]


def test_a_wave_costs_the_same_statements_as_one_delivery(
    clock, acme, endpoint, receiver, unqueued, django_assert_max_num_queries
):
    (one,) = emit_many(acme.project, 1)
    # Found; claimed (read again under lock, counted and leased); endpoints read; attempts
    # logged and outcomes written; then the look for other due deliveries. The transactions are
    # savepoints here (4 of the statements).
    with django_assert_max_num_queries(11):
        jobs.deliver(str(one.pk))
    wave = emit_many(acme.project, attempts.SEND_CONCURRENCY)
    with django_assert_max_num_queries(11):
        jobs.deliver(*ids(wave))
    assert WebhookDelivery.objects.filter(status="succeeded").count() == len(wave) + 1
    assert WebhookAttempt.objects.count() == len(wave) + 1
    assert len({request.headers["webhook-id"] for request in receiver.received}) == len(wave) + 1


def test_a_job_also_takes_other_due_deliveries_but_not_retries_that_are_not_due(
    clock, acme, endpoint, receiver, unqueued
):
    own, other, later = emit_many(acme.project, 3)
    WebhookDelivery.objects.filter(pk=later.pk).update(next_attempt_at=START + timedelta(minutes=5))
    jobs.deliver(str(own.pk))
    statuses = dict(WebhookDelivery.objects.values_list("pk", "status"))
    assert statuses == {own.pk: "succeeded", other.pk: "succeeded", later.pk: "pending"}


def test_attempts_reuse_the_connection(clock, acme, endpoint, receiver, unqueued):
    deliveries = emit_many(acme.project, 3)
    for delivery in deliveries:
        attempts.attempt(delivery_id=delivery.pk)
    assert len(receiver.received) == 3
    assert len({request.client_port for request in receiver.received}) == 1


def test_a_kept_connection_never_carries_an_attempt_the_guard_refuses(
    clock, acme, endpoint, receiver, unqueued
):
    """The private-address check still applies to every attempt: guarded attempts have their
    own pool, so a connection opened under the staff allowance is not reused once it ends."""
    first, second = emit_many(acme.project, 2)
    assert attempts.attempt(delivery_id=first.pk).outcome == "succeeded"
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(private_addresses_url="")
    logged = attempts.attempt(delivery_id=second.pk)
    assert logged.outcome == "failed"
    assert logged.error.startswith("Refused destination")
    assert len(receiver.received) == 1


def test_one_success_in_a_wave_ends_the_failure_streak(clock, acme, endpoint, receiver, unqueued):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=START - timedelta(days=1))
    receiver.script = [Answer(500)]
    jobs.deliver(*ids(emit_many(acme.project, 2)))
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None
    assert sorted(WebhookDelivery.objects.values_list("status", flat=True)) == [
        "pending",
        "succeeded",
    ]


def test_every_failed_attempt_of_a_wave_keeps_its_own_retry_time(
    clock, acme, endpoint, receiver, unqueued
):
    receiver.answer = Answer(503)
    deliveries = emit_many(acme.project, 4)
    jobs.deliver(*ids(deliveries))
    rows = list(WebhookDelivery.objects.all())
    assert all(row.status == "pending" and row.attempt_count == 1 for row in rows)
    assert all(row.error == "HTTP 503" and row.response_status == 503 for row in rows)
    waits = [row.next_attempt_at - START for row in rows]
    assert all(timedelta(seconds=24) <= wait <= timedelta(seconds=36) for wait in waits)
    endpoint.refresh_from_db()
    assert endpoint.failing_since == START


class Killed(BaseException):
    """A worker killed at a failure point (BaseException: no `except Exception` catches it)."""


@pytest.mark.parametrize(
    ("point", "sent"),
    [("webhooks.claimed", 0), ("webhooks.sent", 3), ("webhooks.recording", 3)],
)
def test_a_worker_killed_between_steps_leaves_work_the_sweeper_repairs(
    clock, acme, endpoint, receiver, point, sent
):
    deliveries = emit_many(acme.project, 3)

    def die(name):
        if name == point:
            raise Killed(name)

    with faults.installed(die), pytest.raises(Killed):
        jobs.deliver(*ids(deliveries))
    assert len(receiver.received) == sent
    # Claimed and leased, nothing logged (a failure while logging rolls the log back).
    for row in WebhookDelivery.objects.all():
        assert (row.status, row.attempt_count) == ("pending", 1)
        assert row.next_attempt_at == START + attempts.LEASE
    assert not WebhookAttempt.objects.exists()
    assert jobs.sweep() == 0  # the lease holds while the worker could still be alive

    clock.move_to(START + attempts.LEASE)
    assert jobs.sweep() == 3
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 3
    assert sorted(WebhookAttempt.objects.values_list("number", flat=True)) == [2, 2, 2]
    # At least once: a receiver that saw an event before the crash sees it again, same id.
    by_id: dict[str, int] = {}
    for request in receiver.received:
        by_id[request.headers["webhook-id"]] = by_id.get(request.headers["webhook-id"], 0) + 1
    assert sorted(by_id.values()) == [1 + bool(sent)] * 3


# --- Real concurrency (PostgreSQL: row locks, one connection per thread) -------------------------

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks and concurrent connections: PostgreSQL (SQLite serializes writers)",
)


def in_threads(count: int, work) -> list:
    """`work(number)` in `count` threads started together; their results."""
    start = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(number):
        try:
            start.wait()
            results[number] = work(number)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("by_id", [True, False], ids=["their ids", "any due"])
def test_concurrent_claims_take_each_delivery_once(acme, unqueued, by_id):
    WebhookEndpoint.objects.create(project=acme.project, url="https://hooks.acme.example/")
    wanted = ids(emit_many(acme.project, 48))
    now = datetime.now(UTC)

    def claim(number):
        taken = []
        while batch := attempts.claim_due(wanted[number::2] if by_id else None, now=now):
            taken += [str(row.pk) for row in batch]
        return taken

    # Four workers; the ids of every other delivery are handed to two of them (duplicate jobs).
    claimed = [pk for taken in in_threads(4, claim) for pk in taken]
    assert sorted(claimed) == sorted(wanted)  # every delivery, none twice
    assert set(WebhookDelivery.objects.values_list("attempt_count", flat=True)) == {1}


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_jobs_deliver_every_event_once(acme, receiver, unqueued):
    WebhookEndpoint.objects.create(
        project=acme.project, url=receiver.url(), allow_private_addresses=True
    )
    wanted = ids(emit_many(acme.project, 60))
    batches = [wanted[start : start + 20] for start in range(0, 60, 20)]
    # Each job twice, in different workers, as a duplicate queue entry would be.
    in_threads(3, lambda number: [jobs.deliver(*batches[(number + k) % 3]) for k in range(2)])
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 60
    assert WebhookAttempt.objects.count() == 60
    webhook_ids = [request.headers["webhook-id"] for request in receiver.received]
    assert len(webhook_ids) == len(set(webhook_ids)) == 60

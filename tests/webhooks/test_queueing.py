"""Queueing deliveries in batches: one job per DELIVERY_BATCH deliveries, each delivery still
claimed on its own just before its attempt."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import transaction

from config.db import COPY_THRESHOLD
from webhooks import delivery as attempts
from webhooks import events, jobs, queueing
from webhooks.models import WebhookDelivery
from webhooks.services import emit_events

START = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def jobs_queued(monkeypatch) -> list[tuple]:
    """The broker: each queued job's function and arguments."""
    queued = []
    monkeypatch.setattr(
        queueing, "async_task", lambda func, *args, **kwargs: queued.append((func, *args))
    )
    return queued


def emit_many(project, count: int) -> list[WebhookDelivery]:
    items = [(events.CALENDAR_UPDATE, {"n": n}) for n in range(count)]
    return emit_events(project=project, items=items)


def test_a_burst_is_queued_as_a_few_jobs_once_it_commits(
    clock, acme, endpoint, jobs_queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        deliveries = emit_many(acme.project, 120)
        assert jobs_queued == []  # nothing before the commit
    assert len(callbacks) == 1
    assert [func for func, *_ in jobs_queued] == ["webhooks.jobs.deliver"] * 3
    assert [len(ids) for _, *ids in jobs_queued] == [50, 50, 20]
    queued_ids = [delivery_id for _, *ids in jobs_queued for delivery_id in ids]
    assert queued_ids == [str(delivery.pk) for delivery in deliveries]


def test_one_job_delivers_its_batch_each_claimed_once(clock, acme, endpoint, receiver, monkeypatch):
    monkeypatch.setattr(queueing, "enqueue_delivery", lambda delivery_ids: None)
    deliveries = emit_many(acme.project, 3)
    claimed = WebhookDelivery.objects.get(pk=deliveries[1].pk)
    assert attempts.claim(claimed, now=START)  # another worker is attempting this one

    jobs.deliver(*[str(delivery.pk) for delivery in deliveries])

    statuses = {d.pk: d.status for d in WebhookDelivery.objects.all()}
    assert statuses == {
        deliveries[0].pk: "succeeded",
        deliveries[1].pk: "pending",
        deliveries[2].pk: "succeeded",
    }
    assert len(receiver.received) == 2


def test_a_job_out_of_time_queues_the_rest(clock, acme, endpoint, receiver, monkeypatch, settings):
    monkeypatch.setattr(queueing, "enqueue_delivery", lambda delivery_ids: None)
    deliveries = emit_many(acme.project, 5)
    requeued = []
    monkeypatch.setattr(queueing, "enqueue_delivery", requeued.append)
    monkeypatch.setattr(attempts, "SEND_CONCURRENCY", 2)
    settings.Q_TIMEOUT = 0  # no time at all: one wave, then the rest goes back to the queue

    jobs.deliver(*[str(delivery.pk) for delivery in deliveries])

    assert len(receiver.received) == 2
    assert requeued == [[str(delivery.pk) for delivery in deliveries[2:]]]
    assert WebhookDelivery.objects.filter(status="pending").count() == 3


def test_the_sweeper_queues_what_is_due_in_batches(clock, acme, endpoint, jobs_queued, monkeypatch):
    monkeypatch.setattr(queueing, "enqueue_delivery", lambda delivery_ids: None)
    deliveries = emit_many(acme.project, 60)
    monkeypatch.undo()
    monkeypatch.setattr(
        queueing, "async_task", lambda func, *args, **kwargs: jobs_queued.append((func, *args))
    )
    assert jobs.sweep() == 60
    assert [len(ids) for _, *ids in jobs_queued] == [50, 10]
    assert {i for _, *ids in jobs_queued for i in ids} == {str(d.pk) for d in deliveries}


def test_one_id_is_still_accepted(jobs_queued):
    queueing.enqueue_delivery("3f0a4a4e-7f57-4f27-9d36-2d0a0c1e6b11")
    assert jobs_queued == [("webhooks.jobs.deliver", "3f0a4a4e-7f57-4f27-9d36-2d0a0c1e6b11")]


def test_a_big_burst_reads_back_like_saved_deliveries(clock, acme, endpoint, monkeypatch):
    """Above the threshold PostgreSQL gets the outbox rows by COPY: same rows as the ORM's."""
    monkeypatch.setattr(queueing, "enqueue_delivery", lambda delivery_ids: None)
    deliveries = emit_many(acme.project, COPY_THRESHOLD + 10)
    stored = {d.pk: d for d in WebhookDelivery.objects.all()}
    assert len(stored) == len(deliveries)
    for delivery in deliveries:
        row = stored[delivery.pk]
        assert row.payload == delivery.payload
        assert row.payload["data"]["n"] == deliveries.index(delivery)
        assert row.event_id == delivery.event_id and str(row.event_id) == row.payload["id"]
        assert row.endpoint_id == endpoint.pk and row.project_id == acme.project.pk
        assert (row.status, row.attempt_count) == ("pending", 0)
        assert row.next_attempt_at == START and row.created_at == START
        assert row.give_up_at > START


def test_jobs_are_queued_through_one_broker_per_process(monkeypatch):
    """async_task makes a broker per call unless given one: for Redis a new connection each."""
    brokers = []
    monkeypatch.setattr(
        queueing, "async_task", lambda func, *args, q_options: brokers.append(q_options["broker"])
    )
    queueing.enqueue_delivery(["a"])
    queueing.enqueue_delivery(["b"])
    assert len(brokers) == 2 and brokers[0] is brokers[1]

"""Queueing delivery jobs (its own module: services queue through it, and the jobs it queues
call the services).

A job delivers a batch of deliveries in waves, each wave claimed just before it is sent
(`jobs.deliver`, `delivery.attempt_many`), so queueing a thousand deliveries is a few broker
writes, not a thousand.
"""

import os
import uuid
from contextlib import nullcontext

from django.db import transaction
from django_q.brokers import Broker, get_broker
from django_q.conf import Conf
from django_q.tasks import async_task

# Deliveries per job: few broker writes for a burst, yet a burst still spreads over the workers.
DELIVERY_BATCH = 50


def broker_writes():
    """Around many `async_task` calls: with the database as the broker, one transaction for
    all of them (one commit, not one per job). If it fails, none is queued; whoever queues
    has a sweeper behind it."""
    return transaction.atomic() if Conf.ORM and not Conf.SYNC else nullcontext()


_broker: tuple[int, Broker] | None = None


def shared_broker() -> Broker:
    """The process's broker. Without one, `async_task` makes a broker per call - for Redis a new
    connection (connect, HELLO: ~10 ms), which alone held a service emitting events one
    transaction at a time to ~35 a second."""
    global _broker
    if _broker is None or _broker[0] != os.getpid():
        _broker = (os.getpid(), get_broker())
    return _broker[1]


def enqueue_delivery(delivery_ids) -> None:
    """Queue the delivery of one id or of an iterable of ids: one job per DELIVERY_BATCH."""
    if isinstance(delivery_ids, str | uuid.UUID | int):
        delivery_ids = [delivery_ids]
    ids = [str(delivery_id) for delivery_id in delivery_ids]
    with broker_writes():
        for start in range(0, len(ids), DELIVERY_BATCH):
            batch = ids[start : start + DELIVERY_BATCH]
            async_task(
                "webhooks.jobs.deliver",
                *batch,
                q_options={
                    "broker": shared_broker(),
                    "group": "webhooks",
                    "save": False,
                    "task_name": f"webhook {batch[0]}"
                    + (f" +{len(batch) - 1}" if len(batch) > 1 else ""),
                },
            )

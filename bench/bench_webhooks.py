"""Webhook delivery throughput: events per second to a local receiver.

    .venv/bin/python bench/bench_webhooks.py [--events 2000] [--workers 8]

Emits the events through `emit_event` (one transaction each, like the services do), then
`--workers` processes deliver them as queue workers would (claim, sign, POST, log) to a loopback
receiver that answers 200 at once. Each worker also tries a share of the other workers'
deliveries, as a duplicate queue entry would: the claim must turn those away, so the receiver
sees every event exactly once. Runs on a scratch SQLite database unless DATABASE_URL is set.
The task broker is left out: this measures our delivery path.
"""

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
scratch = tempfile.mkdtemp(prefix="calsync-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3")
os.environ.setdefault("DATA_DIR", scratch)
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"] = "true"  # the receiver is on 127.0.0.1
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from projects.models import Project  # noqa: E402
from tests.webhooks.receiver import Receiver  # noqa: E402
from webhooks import delivery, events, queueing  # noqa: E402
from webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: E402
from webhooks.services import emit_event  # noqa: E402


def work(ids: list, number: int, workers: int) -> None:
    own = ids[number::workers]
    # Every 10th delivery of the next worker too: a duplicate queue entry, refused by the claim.
    duplicates = ids[(number + 1) % workers :: workers][::10] if workers > 1 else []
    for delivery_id in own + duplicates:
        delivery.attempt(delivery_id=delivery_id)
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    receiver = Receiver().start()
    project = Project.objects.create(name="bench")
    WebhookEndpoint.objects.create(project=project, url=receiver.url())
    queueing.enqueue_delivery = lambda delivery_id: None  # the workers below take the deliveries

    started = time.perf_counter()
    for n in range(args.events):
        emit_event(project=project, event_type=events.CALENDAR_UPDATE, data={"n": n})
    emitted = time.perf_counter() - started

    ids = list(WebhookDelivery.objects.filter(project=project).values_list("pk", flat=True))
    connection.close()  # each worker process opens its own
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    workers = [
        context.Process(target=work, args=(ids, number, args.workers))
        for number in range(args.workers)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join()
    delivered = time.perf_counter() - started
    receiver.stop()

    succeeded = WebhookDelivery.objects.filter(project=project, status="succeeded").count()
    requests = len(receiver.received)
    unique = len({request.headers["webhook-id"] for request in receiver.received})
    print(f"database:   {connection.vendor}")
    print(
        f"events:     {args.events}: {succeeded} delivered, {requests} requests received, "
        f"{unique} distinct webhook-ids"
    )
    print(
        f"emit:       {args.events / emitted:,.0f} events/s (outbox writes, one transaction each)"
    )
    print(f"delivery:   {args.events / delivered:,.0f} events/s with {args.workers} workers")


if __name__ == "__main__":
    main()

"""Webhook delivery: throughput with N workers, and latency from emit to receipt at a fixed rate.

    .venv/bin/python bench/bench_webhooks.py [--events 5000] [--workers 2] [--repeat 3]
    .venv/bin/python bench/bench_webhooks.py --latency [--rate 100] [--seconds 20]
    .venv/bin/python bench/bench_webhooks.py --quick          # both, small (CI)

Runs on a scratch SQLite database (the embedded default, django-q2's ORM broker) unless
DATABASE_URL is set (a database of its own: it deletes every webhook endpoint it finds there);
set REDIS_URL too for the Redis broker (latency mode). DEBUG is off, as in production.

Throughput: the events are written to the outbox (`emit_events`), then `--workers` processes
run the delivery jobs (`webhooks.jobs.deliver`, 50 deliveries a job, as the queue hands them
out) against a loopback receiver in its own process that answers 200 at once. Each worker also
runs every 10th job of the next worker, as a duplicate queue entry would: the claim must turn
those away, so the receiver sees every event exactly once and every delivery has one attempt
logged. The broker is left out: this measures the delivery path (claim, sign, POST, log).

Latency: `manage.py qcluster` runs with the configured broker (its default 2 workers); the
benchmark emits `--rate` events a second for `--seconds`, each in its own transaction like a
service (delivery queued when it commits), and the receiver notes when each event arrives.
Reports p50/p95/max of emit -> received.
"""

import argparse
import asyncio
import atexit
import base64
import contextlib
import multiprocessing
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
scratch = tempfile.mkdtemp(prefix="calsync-bench-")
atexit.register(shutil.rmtree, scratch, ignore_errors=True)
os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3")
os.environ.setdefault("DATA_DIR", scratch)
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"] = "true"  # the receiver is on 127.0.0.1
# As in production: DEBUG on keeps every SQL statement in memory (connection.queries).
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-" + "s3cr3t-" * 8)
os.environ.setdefault(
    "FIELD_ENCRYPTION_KEYS", base64.urlsafe_b64encode(b"bench" * 6 + b"!!").decode()
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django_q.brokers import get_broker  # noqa: E402

from bench.support import vacuum  # noqa: E402
from projects.models import Project  # noqa: E402
from webhooks import events, jobs, queueing  # noqa: E402
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: E402
from webhooks.services import emit_event, emit_events  # noqa: E402

EMITTERS = 4
TABLES = ["webhooks_webhookdelivery", "webhooks_webhookattempt", "django_q_ormq"]


# --- The receiver: its own process, asyncio, HTTP/1.1 keep-alive ---------------------------------


class _Receiving(asyncio.Protocol):
    """Answers each POST 200 at once and notes (webhook-id, arrival time)."""

    def __init__(self, seen: list):
        self.seen = seen
        self.buffer = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length, webhook_id = 0, ""
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"webhook-id":
                    webhook_id = value.strip().decode()
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.seen.append((webhook_id, time.time()))
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def _receive(listener: socket.socket, control) -> None:
    seen: list = []

    async def serve():
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def on_control():
            if control.recv() == "report":
                control.send(list(seen))
            else:
                done.set_result(None)

        loop.add_reader(control.fileno(), on_control)
        server = await loop.create_server(lambda: _Receiving(seen), sock=listener)
        async with server:
            await done

    asyncio.run(serve())


class Receiver:
    """A loopback receiver in a child process; `received()` lists (webhook-id, time)."""

    def __enter__(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(512)
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
        self.control, child = multiprocessing.get_context("fork").Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=_receive, args=(listener, child), daemon=True
        )
        self.process.start()
        listener.close()
        return self

    def received(self) -> list[tuple[str, float]]:
        self.control.send("report")
        return self.control.recv()

    def __exit__(self, *exc):
        self.control.send("stop")
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()


# --- Throughput --------------------------------------------------------------------------------


def _work(batches: list[list[str]]) -> None:
    for batch in batches:
        jobs.deliver(*batch)
    connection.close()


def throughput(project, receiver: Receiver, *, count: int, workers: int) -> dict:
    WebhookDelivery.objects.filter(project=project).delete()
    items = [(events.CALENDAR_UPDATE, {"n": n, "calendar_id": "c" * 20}) for n in range(count)]
    deliveries = emit_events(project=project, items=items)
    ids = [str(delivery.pk) for delivery in deliveries]
    vacuum(connection, TABLES)
    size = queueing.DELIVERY_BATCH
    batches = [ids[start : start + size] for start in range(0, len(ids), size)]
    shares = []
    for number in range(workers):
        own = batches[number::workers]
        # Every 10th job of the next worker too: a duplicate queue entry, refused by the claim.
        duplicates = batches[(number + 1) % workers :: workers][::10] if workers > 1 else []
        shares.append(own + duplicates)
    before = len(receiver.received())
    connection.close()  # each worker process opens its own
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_work, args=(share,)) for share in shares]
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
    received = receiver.received()[before:]
    delivered = WebhookDelivery.objects.filter(project=project, status="succeeded").count()
    logged = WebhookAttempt.objects.filter(delivery__project=project).count()
    unique = {webhook_id for webhook_id, _ in received}
    if not (delivered == len(received) == len(unique) == logged == count):
        raise AssertionError(
            f"{count} events: {delivered} delivered, {len(received)} requests, "
            f"{len(unique)} distinct ids, {logged} attempts logged"
        )
    return {"rate": count / elapsed, "cpu": cpu / count}


# --- Latency -----------------------------------------------------------------------------------


def latency(project, receiver: Receiver, *, rate: float, seconds: float) -> dict:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with Path(scratch, "qcluster.log").open("w") as log:
        cluster = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        emitted: dict[str, float] = {}

        def emit(n: int) -> None:
            at = time.time()
            with transaction.atomic():
                (delivery,) = emit_event(
                    project=project, event_type=events.CALENDAR_UPDATE, data={"n": n}
                )
            emitted[str(delivery.event_id)] = at

        def arrived() -> dict[str, float]:
            return {webhook_id: at for webhook_id, at in receiver.received()}

        # Warm up: the cluster's processes start and the first delivery goes through.
        emit(-1)
        _wait(lambda: set(emitted) <= set(arrived()), 60, "the first delivery")
        emitted.clear()
        vacuum(connection, TABLES)

        # Events come from several processes in a service: a few emitting threads, so that
        # one emitter's own transaction time (~15 ms on PostgreSQL here) does not set the rate.
        count = round(rate * seconds)
        with ThreadPoolExecutor(EMITTERS) as emitters:
            started = time.monotonic()
            for n in range(count):
                pause = started + n / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                emitters.submit(emit, n)
        emitting = time.monotonic() - started
        _wait(lambda: set(emitted) <= set(arrived()), 60, "every delivery")
        got = arrived()
        waits = sorted(got[webhook_id] - at for webhook_id, at in emitted.items())
        backlog = get_broker().queue_size()
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            cluster.wait(15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(cluster.pid, signal.SIGKILL)  # a straggler of the cluster's
    return {
        "events": count,
        "rate": count / emitting,
        "p50": statistics.median(waits),
        "p95": waits[max(0, round(0.95 * len(waits)) - 1)],
        "max": waits[-1],
        "backlog": backlog,
    }


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


# --- Main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="throughput: events")
    parser.add_argument("--workers", type=int, default=2, help="throughput: worker processes")
    parser.add_argument("--repeat", type=int, default=1, help="throughput: runs (median)")
    parser.add_argument("--latency", action="store_true", help="the latency mode instead")
    parser.add_argument("--rate", type=float, default=100, help="latency: events per second")
    parser.add_argument("--seconds", type=float, default=20, help="latency: how long")
    parser.add_argument("--quick", action="store_true", help="both modes, small (CI)")
    args = parser.parse_args()
    if args.quick:
        args.events, args.repeat, args.seconds = 1000, 1, 3

    call_command("migrate", verbosity=0)
    broker = "redis" if settings.QUEUE_BROKER == "redis" else "ORM"
    print(f"database: {connection.vendor}, broker: {broker}, load: {os.getloadavg()[0]:.2f}")
    # A database of the benchmark's own: what earlier runs left (pending deliveries to their
    # receivers, gone now) would be taken by the jobs here.
    WebhookEndpoint.objects.only("pk").delete()
    with Receiver() as receiver:
        project = Project.objects.create(name="bench")
        WebhookEndpoint.objects.create(project=project, url=receiver.url)
        if not args.latency or args.quick:
            runs = [
                throughput(project, receiver, count=args.events, workers=args.workers)
                for _ in range(args.repeat)
            ]
            rates = sorted(run["rate"] for run in runs)
            cpu = statistics.median(run["cpu"] for run in runs)
            print(
                f"throughput: {statistics.median(rates):,.0f} deliveries/s with "
                f"{args.workers} workers, {args.events} events (runs: "
                f"{', '.join(f'{rate:,.0f}' for rate in rates)}); every event received once, "
                f"one attempt logged each; the workers' CPU {cpu * 1e6:,.0f} µs per delivery"
            )
        if args.latency or args.quick:
            WebhookDelivery.objects.filter(project=project).delete()
            result = latency(project, receiver, rate=args.rate, seconds=args.seconds)
            print(
                f"latency:    emit -> received at {result['rate']:.0f} events/s "
                f"({result['events']} events): p50 {result['p50'] * 1000:.0f} ms, "
                f"p95 {result['p95'] * 1000:.0f} ms, max {result['max'] * 1000:.0f} ms; "
                f"{result['backlog']} jobs still queued then"
            )
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

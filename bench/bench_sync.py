"""Benchmark the sync engine against the loopback Google fake (issue 4's figures).

Run (PostgreSQL, as the figures in the README):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/calsync_bench .venv/bin/python bench/bench_sync.py

Prints:
- the initial sync of a 10,000-event calendar (pages of 2,500), `--runs` times (a new calendar
  each time): events per second end to end, CPU seconds of the syncing process, its peak memory
  (RSS), and the median;
- an incremental sync after one event changed, for a 1,000- and a 10,000-event calendar:
  provider requests and SQL statements (bot reconciliation and webhook outbox included).

The fake serves from a child process, so the syncing process's time and memory are its own.
The database named in DATABASE_URL is created when missing and migrated.
"""

import argparse
import cProfile
import multiprocessing
import os
import pstats
import resource
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SMALL, BIG = "small@bench.test", "big@bench.test"
# The tables a sync writes.
TABLES = (
    "meetings_meeting",
    "bots_bot",
    "bots_bot_meetings",
    "webhooks_webhookdelivery",
    "calendars_calendarsyncevent",
)


def serve_fake(conn, sizes: dict[str, int], provider: str = "google") -> None:
    """Child process: a FakeGoogle (or FakeMicrosoft) with one account per calendar size, driven
    through `conn`."""
    from tests.fakes.generators import populate
    from tests.fakes.google import FakeGoogle
    from tests.fakes.microsoft import FakeMicrosoft

    with FakeGoogle() if provider == "google" else FakeMicrosoft() as fake:
        now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        tokens = {}
        for seed, (email, n) in enumerate(sizes.items(), start=7):
            fake.add_account(email)
            populate(
                fake,
                email,
                seed=seed,
                n=n,
                series_ratio=0,
                window_start=now,
                window_end=now + timedelta(days=50),
            )
            tokens[email] = fake.grant(email)
        fake.prerender()
        if provider == "google":
            settings = {
                "GOOGLE_OAUTH_AUTHORIZE_URL": fake.authorize_url,
                "GOOGLE_OAUTH_TOKEN_URL": fake.token_url,
                "GOOGLE_USERINFO_URL": fake.userinfo_url,
                "GOOGLE_CALENDAR_API_URL": fake.calendar_api_url,
            }
        else:  # HTTPS, with its own certificate authority
            settings = {
                "MICROSOFT_AUTHORITY_HOST": fake.authority_host,
                "MICROSOFT_GRAPH_URL": fake.graph_url,
                "REQUESTS_CA_BUNDLE": fake.ca_bundle_path,
            }
        conn.send(
            {
                "settings": settings,
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
                "tokens": tokens,
            }
        )
        while True:
            command, *args = conn.recv()
            if command == "stop":
                break
            if command == "reset":
                fake.reset_requests()
                conn.send(None)
            elif command == "count":
                conn.send(len(fake.requests))
            elif command == "touch":
                event_id = sorted(fake.event_ids(args[0]))[len(fake.event_ids(args[0])) // 2]
                fake.update_event(event_id, summary="Changed by the benchmark")
                conn.send(event_id)


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5, help="initial syncs to take the median of")
    parser.add_argument(
        "--record",
        action="store_true",
        help="give each calendar a user who records external meetings (bots are scheduled)",
    )
    parser.add_argument(
        "--connecting",
        action="store_true",
        help="calendars start 'connecting', as a newly connected one's first sync does",
    )
    parser.add_argument("--provider", choices=["google", "microsoft"], default="google")
    parser.add_argument("--profile", action="store_true", help="cProfile the initial syncs")
    parser.add_argument(
        "--quick", action="store_true", help="CI: 2,000 and 200 events, 2 runs (it still runs)"
    )
    options = parser.parse_args()
    if options.quick:
        options.events, options.small, options.runs = 2_000, 200, 2

    parent, child = multiprocessing.Pipe()
    fake = multiprocessing.Process(
        target=serve_fake,
        args=(child, {SMALL: options.small, BIG: options.events}, options.provider),
        daemon=True,
    )
    fake.start()  # before Django is set up: the child inherits no database connection
    info = parent.recv()

    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/calsync_bench")
    from cryptography.fernet import Fernet

    os.environ.update(
        # Production mode: DEBUG would keep every SQL statement in memory.
        DEBUG="false",
        SECRET_KEY=Fernet.generate_key().decode() * 2,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="localhost",
        DJANGO_SETTINGS_MODULE="config.settings",
        PUSH_NOTIFICATIONS="false",
        LOG_LEVEL="WARNING",
        **info["settings"],
    )
    if os.environ["DATABASE_URL"].startswith("postgres"):
        ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.support import vacuum
    from bots.models import Bot
    from calendars.models import Calendar, CalendarUser, OAuthApp
    from calendars.sync import sync_calendar_by_id
    from meetings.models import Meeting
    from projects.models import Project

    call_command("migrate", verbosity=0)
    project = Project.objects.create(name=f"bench {time.time():.0f}")
    OAuthApp.objects.create(
        project=project,
        platform=options.provider,
        client_id=info["client_id"],
        client_secret=info["client_secret"],
    )

    def calendar_for(email: str) -> Calendar:
        user = None
        if options.record:
            user = CalendarUser.objects.create(
                project=project, external_id=uuid.uuid4().hex, record_external=True
            )
        return Calendar.objects.create(
            project=project,
            calendar_user=user,
            platform=options.provider,
            email=email,
            refresh_token=info["tokens"][email],
            state="connecting" if options.connecting else "connected",
        )

    print(f"database: {connection.vendor}; python {sys.version.split()[0]}; cpus {os.cpu_count()}")

    # 1. Initial sync of the big calendar: a new calendar row per run, so every run starts empty.
    profiler = cProfile.Profile() if options.profile else None
    rates, peak = [], 0.0
    for run in range(options.runs):
        big = calendar_for(BIG)
        vacuum(connection, TABLES)  # what autovacuum does between a production's syncs
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cpu_before = time.process_time()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result = sync_calendar_by_id(big.pk)
        elapsed = time.perf_counter() - started
        if profiler:
            profiler.disable()
        cpu = time.process_time() - cpu_before
        stored = Meeting.objects.filter(calendar=big).count()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rates.append(stored / elapsed)
        bots = Bot.objects.filter(meetings__calendar=big).distinct().count()
        print(
            f"initial sync, run {run + 1}: {stored} events in {elapsed:.2f} s = "
            f"{stored / elapsed:,.0f} events/s (sync process CPU {cpu:.2f} s, both threads); "
            f"peak RSS {peak:.0f} MB (before {rss_before:.0f} MB); {bots} bots; status {result.status}"
        )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    print(
        f"initial sync: median {statistics.median(rates):,.0f} events/s over {options.runs} "
        f"run(s) (min {min(rates):,.0f}, max {max(rates):,.0f}); peak RSS {peak:.0f} MB"
    )

    # 2. One change, incremental sync: provider requests and SQL statements.
    for label, email, calendar in (("1,000", SMALL, calendar_for(SMALL)), ("10,000", BIG, big)):
        if email == SMALL:
            sync_calendar_by_id(calendar.pk)
        parent.send(("touch", email))
        parent.recv()
        parent.send(("reset",))
        parent.recv()
        with CaptureQueriesContext(connection) as queries:
            result = sync_calendar_by_id(calendar.pk)
        parent.send(("count",))
        requests = parent.recv()
        print(
            f"incremental sync, {label}-event calendar, 1 event changed: {requests} provider "
            f"request(s), {len(queries.captured_queries)} SQL statements "
            f"(changed {result.upserted}, status {result.status})"
        )
        if os.environ.get("BENCH_SHOW_SQL"):
            for query in queries.captured_queries:
                print("   ", query["sql"][:160])

    parent.send(("stop",))
    fake.join(timeout=10)
    project.delete()  # the next run starts from a table of the same size


if __name__ == "__main__":
    main()

"""Benchmark the server API's event list (GET /api/v1/calendar_events/) with 100,000 events.

Run (PostgreSQL, as the figures in the README):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/calsync_bench_events .venv/bin/python bench/bench_event_list.py

Builds one project with 20 calendars x 5,000 events (100,000 meetings over 60 days, one in
ten with a bot), plus a second project of the same size so every query must scope by project,
then VACUUM ANALYZE. Then times each list query through the whole stack (API key auth, filters,
cursor pagination, serialization) and prints p50/p95 in milliseconds and the SQL statements per
request. `--quick` (CI): 2 x 10,000 events, 10 runs. `--explain`: each filter's plan.
`--keep`: leave the data for the next run (which reuses it when the sizes match).
The database named in DATABASE_URL is created when missing and migrated.
"""

import argparse
import base64
import gc
import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Fixed, so data kept with --keep reads back in the next run; a benchmark's key, no secret.
BENCH_KEY = base64.urlsafe_b64encode(b"calsync-bench-key-not-a-secret!!").decode()
PROJECTS = ("bench events", "bench neighbour")
TABLES = ("meetings_meeting", "bots_bot", "bots_bot_meetings", "calendars_calendar")


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/calsync_bench_events")
    os.environ.update(
        DEBUG="false",
        SECRET_KEY=BENCH_KEY * 2,
        FIELD_ENCRYPTION_KEYS=BENCH_KEY,
        ALLOWED_HOSTS="testserver,localhost",
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
    )
    if os.environ["DATABASE_URL"].startswith("postgres"):
        ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def add_bot(bots: list, links: list, project, meeting: dict, now) -> None:
    """A bot row for `meeting` (a row of `copy_rows`), and its link."""
    from bots.models import Bot

    bot_id = uuid.uuid4()
    bots.append(
        {
            "id": bot_id,
            "project_id": project.pk,
            "meeting_url": meeting["meeting_url"],
            "join_at": meeting["start_time"],
            "name": "Notetaker",
            "deduplication_key": str(meeting["id"]),
            "created_at": now,
            "updated_at": now,
        }
    )
    links.append(Bot.meetings.through(bot_id=bot_id, meeting_id=meeting["id"]))


def copy_rows(model, rows: list[dict]) -> None:
    """Insert rows (by attname; the other columns at their defaults) with COPY on PostgreSQL,
    `created_at`/`updated_at` as given: building 100,000 meetings through the ORM took
    minutes."""
    from django.db import connection, models

    from config.db import new_instances

    instances = new_instances(model, rows)
    if connection.vendor != "postgresql":
        model.objects.bulk_create(instances, batch_size=2000)
        return
    fields = model._meta.concrete_fields
    names = [field.attname for field in fields]
    as_json = {field.attname for field in fields if isinstance(field, models.JSONField)}
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    statement = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for instance in instances:
            values = instance.__dict__
            copy.write_row([_column(values[n], n in as_json) for n in names])


def _column(value, as_json: bool):
    """A nullable JSON column's None is SQL NULL, as the ORM stores it."""
    return json.dumps(value) if as_json and value is not None else value


def populate(project, *, calendars: int, per_calendar: int, now: datetime) -> list:
    from bots.models import Bot
    from calendars.models import Calendar
    from meetings.models import Meeting

    made, meetings, bots, links = [], [], [], []
    for c in range(calendars):
        calendar = Calendar.objects.create(
            project=project,
            platform="google" if c % 2 else "microsoft",
            email=f"user{c}@bench.test",
            oauth_client_id="bench",
            deduplication_key=f"{project.pk}-cal-{c}",
            state="connected",
        )
        made.append(calendar)
        for n in range(per_calendar):
            start = now - timedelta(days=1) + timedelta(minutes=17 * n)
            meeting = {
                "id": uuid.uuid4(),
                "project_id": project.pk,
                "calendar_id": calendar.pk,
                "platform_event_id": f"evt-{c}-{n}",
                "ical_uid": f"uid-{c}-{n}@bench.test",
                "series_id": f"series-{c}-{n % 50}" if n % 3 == 0 else "",
                "title": f"Meeting {n}",
                "start_time": start,
                "end_time": start + timedelta(minutes=30),
                "organizer_email": f"user{(c + n) % calendars}@bench.test",
                "attendees": [
                    {
                        "name": f"Guest {k}",
                        "email": f"guest{(n + k) % 500}@other.test",
                        "is_organizer": False,
                        "status": "accepted",
                    }
                    for k in range(4)
                ],
                "meeting_url": f"https://meet.google.com/{c:03d}-{n:04d}-xyz",
                "meeting_platform": "google_meet" if n % 2 else "zoom",
                "raw": {"id": f"evt-{c}-{n}", "summary": f"Meeting {n}", "etag": "x" * 40},
                "created_at": now - timedelta(days=2),
                "updated_at": now - timedelta(minutes=per_calendar - n),
            }
            meetings.append(meeting)
            if n % 10 == 0:
                add_bot(bots, links, project, meeting, now)
    copy_rows(Meeting, meetings)
    copy_rows(Bot, bots)
    Bot.meetings.through.objects.bulk_create(links, batch_size=5000)
    return made


def build(*, calendars: int, per_calendar: int, keep: bool, now: datetime) -> list:
    """[(project, its calendars)] for PROJECTS: reused when kept from an earlier run with the
    same sizes, else made afresh (and any older copy deleted)."""
    from django.db import connection

    from bench.support import vacuum
    from calendars.models import Calendar
    from meetings.models import Meeting
    from projects.models import Project

    total = calendars * per_calendar
    found = list(Project.objects.filter(name__in=PROJECTS).order_by("name"))
    if keep and len(found) == 2:
        counts = [Meeting.objects.filter(project=p).count() for p in found]
        if counts == [total, total]:
            by_name = {p.name: p for p in found}
            print(f"reusing the kept data ({total:,} events per project)")
            return [
                (by_name[n], list(Calendar.objects.filter(project=by_name[n]).order_by("email")))
                for n in PROJECTS
            ]
    for project in found:
        project.delete()
    started = time.perf_counter()
    made = []
    for name in PROJECTS:
        project = Project.objects.create(name=name)
        made.append(
            (project, populate(project, calendars=calendars, per_calendar=per_calendar, now=now))
        )
    vacuum(connection, TABLES)
    print(
        f"{connection.vendor}: {total:,} events per project, 2 projects, "
        f"built and vacuumed in {time.perf_counter() - started:.0f} s"
    )
    return made


def explain(client, url: str) -> str:
    """The plan of the request's events query (the one that reads `raw`)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    sql = next(q["sql"] for q in queries if '"raw"' in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


HEADER = f"{'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>7} {'rows':>5} {'SQL':>4}"


def timed(client, url: str, runs: int, *, key: str | None = "results") -> str:
    """One line: p50 and p95 in ms, the median CPU time of this process per request (less
    sensitive to a busy machine than the wall clock; PostgreSQL's share is not in it), rows of
    the last answer, SQL statements per request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, cpu = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            begin, begin_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - begin) * 1000)
            cpu.append((time.process_time() - begin_cpu) * 1000)
        assert response.status_code == 200, response.content
    body = response.json()
    rows = len(body[key] if key else body)
    p50, p95 = statistics.median(timings), statistics.quantiles(timings, n=20)[18]
    return f"{p50:8.1f} {p95:8.1f} {statistics.median(cpu):7.1f} {rows:5d} {len(queries):4d}"


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options this benchmark and bench_v1_meetings.py share."""
    parser.add_argument("--keep", action="store_true", help="keep the data for the next run")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() before timing, as a server that freezes its start-up objects: the "
        "collector's full passes then skip them (they make most of the p95 tail)",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calendars", type=int, default=20)
    parser.add_argument("--per-calendar", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="2 x 10,000 events, 10 runs (CI)")
    parser.add_argument("--explain", action="store_true", help="print each filter's plan")
    add_run_options(parser)
    options = parser.parse_args()
    if options.quick:
        options.calendars, options.per_calendar, options.runs = 10, 1_000, 10
    setup_django()

    from rest_framework.test import APIClient

    from projects.models import ApiKey

    # Minutes: the events' times, and the feed's cap, move with the clock.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    projects = build(
        calendars=options.calendars,
        per_calendar=options.per_calendar,
        keep=options.keep,
        now=now,
    )
    project, calendars = projects[0]
    _, raw_key = ApiKey.issue(project=project, name="bench")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw_key}")
    client.get("/api/v1/calendar_events/")

    first = client.get("/api/v1/calendar_events/").json()
    last = options.per_calendar - 1
    cases = {
        "default (upcoming, 100/page)": {},
        "page 2 (cursor)": first["next"],
        "calendar_id": {"calendar_id": str(calendars[-1].pk)},
        "calendar_deduplication_key": {
            "calendar_deduplication_key": calendars[0].deduplication_key
        },
        "updated_at_gte (feed)": {
            "updated_at_gte": (now - timedelta(minutes=options.per_calendar * 3 // 5)).isoformat()
        },
        "start_time range": {
            "start_time_gte": (now + timedelta(days=10)).isoformat(),
            "start_time_lte": (now + timedelta(days=11)).isoformat(),
        },
        "status=past": {"status": "past"},
        "status=all, -start_time": {"status": "all", "ordering": "-start_time"},
        "organizer_email": {"organizer_email": "USER5@bench.test"},
        "attendee_email": {"attendee_email": "guest42@other.test"},
        "ical_uid": {"ical_uid": f"uid-7-{last}@bench.test"},
        "meeting_platform": {"meeting_platform": "zoom"},
    }
    if options.gc_freeze:
        gc.freeze()
    print(f"{'query':34} {HEADER}")
    for label, params in cases.items():
        url = params if isinstance(params, str) else "/api/v1/calendar_events/?" + urlencode(params)
        print(f"{label:34} {timed(client, url, options.runs)}")
        if options.explain:
            print("    " + explain(client, url).replace("\n", "\n    "))

    if not options.keep:  # leave the database as it was found, so runs do not pile up
        for project, _ in projects:
            project.delete()


if __name__ == "__main__":
    main()

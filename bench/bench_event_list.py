"""Benchmark the server API's event list (GET /api/v1/calendar_events/) with 100,000 events.

Run (PostgreSQL, as the figures in the README):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/calsync_bench_events .venv/bin/python bench/bench_event_list.py

Builds one project with 20 calendars x 5,000 events (100,000 meetings over 60 days, one in
ten with a bot), plus a second project of the same size so every query must scope by project.
Then times each list query through the whole stack (API key auth, filters, cursor pagination,
serialization) and prints p50/p95 in milliseconds and the SQL statements per request.
The database named in DATABASE_URL is created when missing and migrated.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/calsync_bench_events")
    from cryptography.fernet import Fernet

    os.environ.update(
        DEBUG="false",
        SECRET_KEY=Fernet.generate_key().decode() * 2,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
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


def populate(project, *, calendars: int, per_calendar: int, now: datetime) -> list:
    from bots.models import Bot
    from calendars.models import Calendar
    from meetings.models import Meeting

    made = []
    bot_links = []
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
        rows = []
        for n in range(per_calendar):
            start = now - timedelta(days=1) + timedelta(minutes=17 * n)
            rows.append(
                Meeting(
                    project=project,
                    calendar=calendar,
                    platform_event_id=f"evt-{c}-{n}",
                    ical_uid=f"uid-{c}-{n}@bench.test",
                    series_id=f"series-{c}-{n % 50}" if n % 3 == 0 else "",
                    title=f"Meeting {n}",
                    start_time=start,
                    end_time=start + timedelta(minutes=30),
                    organizer_email=f"user{(c + n) % calendars}@bench.test",
                    attendees=[
                        {
                            "name": f"Guest {k}",
                            "email": f"guest{(n + k) % 500}@other.test",
                            "is_organizer": False,
                            "status": "accepted",
                        }
                        for k in range(4)
                    ],
                    meeting_url=f"https://meet.google.com/{c:03d}-{n:04d}-xyz",
                    meeting_platform="google_meet" if n % 2 else "zoom",
                    raw={"id": f"evt-{c}-{n}", "summary": f"Meeting {n}", "etag": "x" * 40},
                    updated_at=now - timedelta(minutes=per_calendar - n),
                )
            )
        meetings = Meeting.objects.bulk_create(rows, batch_size=2500)
        bots = Bot.objects.bulk_create(
            [
                Bot(
                    project=project,
                    meeting_url=m.meeting_url,
                    join_at=m.start_time,
                    name="Notetaker",
                    deduplication_key=f"{m.pk}",
                )
                for m in meetings[::10]
            ],
            batch_size=2500,
        )
        bot_links += [
            Bot.meetings.through(bot_id=b.pk, meeting_id=m.pk)
            for b, m in zip(bots, meetings[::10], strict=True)
        ]
    Bot.meetings.through.objects.bulk_create(bot_links, batch_size=5000)
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calendars", type=int, default=20)
    parser.add_argument("--per-calendar", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=50)
    options = parser.parse_args()
    setup_django()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from projects.models import ApiKey, Project

    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    projects = []
    for name in ("bench events", "bench neighbour"):
        project = Project.objects.create(name=f"{name} {time.time():.0f}")
        calendars = populate(
            project, calendars=options.calendars, per_calendar=options.per_calendar, now=now
        )
        projects.append((project, calendars))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    total = options.calendars * options.per_calendar
    print(
        f"{connection.vendor}: {total:,} events per project, 2 projects, "
        f"built in {time.perf_counter() - started:.0f} s"
    )

    project, calendars = projects[0]
    _, raw_key = ApiKey.issue(project=project, name="bench")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw_key}")
    client.get("/api/v1/calendar_events/")

    first = client.get("/api/v1/calendar_events/").json()
    cases = {
        "default (upcoming, 100/page)": {},
        "page 2 (cursor)": first["next"],
        "calendar_id": {"calendar_id": str(calendars[-1].pk)},
        "calendar_deduplication_key": {
            "calendar_deduplication_key": calendars[0].deduplication_key
        },
        "updated_at_gte (feed)": {"updated_at_gte": (now - timedelta(minutes=3000)).isoformat()},
        "start_time range": {
            "start_time_gte": (now + timedelta(days=10)).isoformat(),
            "start_time_lte": (now + timedelta(days=11)).isoformat(),
        },
        "status=past": {"status": "past"},
        "status=all, -start_time": {"status": "all", "ordering": "-start_time"},
        "organizer_email": {"organizer_email": "USER5@bench.test"},
        "attendee_email": {"attendee_email": "guest42@other.test"},
        "ical_uid": {"ical_uid": "uid-7-1234@bench.test"},
        "meeting_platform": {"meeting_platform": "zoom"},
    }
    print(f"{'query':34} {'p50 ms':>8} {'p95 ms':>8} {'rows':>5} {'SQL':>4}")
    for label, params in cases.items():
        url = params if isinstance(params, str) else "/api/v1/calendar_events/?" + urlencode(params)
        timings = []
        for _ in range(options.runs):
            with CaptureQueriesContext(connection) as queries:
                begin = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - begin) * 1000)
            assert response.status_code == 200, response.content
        rows = len(response.json()["results"])
        p50 = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[18]
        print(f"{label:34} {p50:8.1f} {p95:8.1f} {rows:5d} {len(queries):4d}")

    # Leave the database as it was found, so runs do not pile up.
    for project, _ in projects:
        project.delete()


if __name__ == "__main__":
    main()

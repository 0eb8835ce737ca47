"""Benchmark Recall Calendar V1's meeting list (GET /api/v1/calendar/meetings/, calendar auth
token) for a user with 10 meetings and one with 1,000, among 100,000 meetings in the table.

Run (PostgreSQL, as the figures in the README):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/calsync_bench_events .venv/bin/python bench/bench_v1_meetings.py

Builds one project whose calendar users have one calendar each: "ten" (10 meetings),
"thousand" (1,000) and 10 others sharing the rest (~9,900 each), every meeting with a ~2 kB provider
payload (which the V1 format does not return) and one in ten with a bot; then VACUUM ANALYZE.
Prints p50/p95 in milliseconds and the SQL statements per request. `--quick` (CI): 10,000
meetings, 10 runs. `--keep`: leave the data for the next run (reused when the size matches).
"""

import argparse
import gc
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_event_list import (  # noqa: E402
    HEADER,
    add_bot,
    add_run_options,
    copy_rows,
    setup_django,
    timed,
)

PROJECT = "bench v1 meetings"
TABLES = ("meetings_meeting", "bots_bot", "bots_bot_meetings", "calendars_calendar")
SIZES = {"ten": 10, "thousand": 1_000}
FILLERS = 10


def payload(n: int) -> dict:
    """A provider event of about 2 kB, as Graph sends (an HTML body)."""
    return {
        "id": f"AAMkAGI2-{n}",
        "subject": f"Meeting {n}",
        "body": {"contentType": "html", "content": "<p>Agenda</p>" * 140},
        "attendees": [{"emailAddress": {"address": f"guest{k}@other.test"}} for k in range(4)],
    }


def populate(project, *, total: int, now: datetime) -> None:
    from bots.models import Bot
    from calendars.models import Calendar, CalendarUser
    from meetings.models import Meeting

    fillers = [f"filler-{k}" for k in range(FILLERS)]
    counts = dict(SIZES)
    rest = total - sum(SIZES.values())
    for k, name in enumerate(fillers):
        counts[name] = rest // FILLERS + (1 if k < rest % FILLERS else 0)
    meetings, bots, links = [], [], []
    for c, (external_id, count) in enumerate(counts.items()):
        user = CalendarUser.objects.create(project=project, external_id=external_id)
        calendar = Calendar.objects.create(
            project=project,
            calendar_user=user,
            platform="microsoft" if c % 2 else "google",
            email=f"{external_id}@bench.test",
            state="connected",
        )
        for n in range(count):
            start = now - timedelta(days=30) + timedelta(minutes=61 * n)
            meeting = {
                "id": uuid.uuid4(),
                "project_id": project.pk,
                "calendar_id": calendar.pk,
                "platform_event_id": f"evt-{c}-{n}",
                "ical_uid": f"uid-{c}-{n}@bench.test",
                "title": f"Meeting {n}",
                "description": "Agenda: numbers.",
                "start_time": start,
                "end_time": start + timedelta(minutes=30),
                "organizer_email": f"{external_id}@bench.test",
                "attendees": [
                    {
                        "name": f"Guest {k}",
                        "email": f"guest{k}@other.test",
                        "is_organizer": False,
                        "status": "accepted",
                    }
                    for k in range(4)
                ],
                "meeting_url": f"https://teams.microsoft.com/l/meetup-join/{c}-{n}",
                "meeting_platform": "microsoft_teams",
                "meeting_invite": {"meeting_id": f"{c}-{n}", "passcode": None},
                "raw": payload(n),
                "is_external": True,
                "will_record": n % 10 == 0,
                "created_at": now,
                "updated_at": now,
            }
            meetings.append(meeting)
            if n % 10 == 0:
                add_bot(bots, links, project, meeting, now)
    copy_rows(Meeting, meetings)
    copy_rows(Bot, bots)
    Bot.meetings.through.objects.bulk_create(links, batch_size=5000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetings", type=int, default=100_000, help="meetings in the table")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="10,000 meetings, 10 runs (CI)")
    add_run_options(parser)
    options = parser.parse_args()
    if options.quick:
        options.meetings, options.runs = 10_000, 10
    setup_django()

    from django.db import connection
    from rest_framework.test import APIClient

    from bench.support import vacuum
    from calendars import tokens
    from calendars.authentication import TOKEN_HEADER
    from calendars.models import CalendarUser
    from meetings.models import Meeting
    from projects.models import ApiKey, Project

    project = Project.objects.filter(name=PROJECT).first()
    if not (
        options.keep
        and project is not None
        and Meeting.objects.filter(project=project).count() == options.meetings
    ):
        if project is not None:
            project.delete()
        started = time.perf_counter()
        project = Project.objects.create(name=PROJECT)
        populate(project, total=options.meetings, now=datetime.now(UTC).replace(microsecond=0))
        vacuum(connection, TABLES)
        print(
            f"{connection.vendor}: {options.meetings:,} meetings, built and vacuumed in "
            f"{time.perf_counter() - started:.0f} s"
        )
    else:
        print(f"reusing the kept data ({options.meetings:,} meetings)")

    key, _ = ApiKey.issue(project=project, name="bench")
    if options.gc_freeze:
        gc.freeze()
    print(f"{'user':34} {HEADER}")
    for external_id, count in SIZES.items():
        user = CalendarUser.objects.get(project=project, external_id=external_id)
        client = APIClient()
        client.credentials(
            **{
                f"HTTP_{TOKEN_HEADER.upper().replace('-', '_')}": tokens.mint(
                    user, api_key_id=key.pk
                )
            }
        )
        client.get("/api/v1/calendar/meetings/")
        line = timed(client, "/api/v1/calendar/meetings/", options.runs, key=None)
        print(f"{f'{count:,} meetings':34} {line}")

    if not options.keep:
        project.delete()


if __name__ == "__main__":
    main()

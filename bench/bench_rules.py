"""Benchmark auto-join rules (issue 16): re-deciding a calendar user's upcoming meetings after a
rule change, bots created in bulk.

Run (PostgreSQL, as the figures in the README):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/calsync_bench .venv/bin/python bench/bench_rules.py

One calendar user who records external meetings (a preference) has `--meetings` upcoming
meetings (default 10,000; `--quick`: 1,000), half of them external, so half have a bot. Then:
- the engine alone: the compiled rules matched against every meeting, in memory;
- the dry run of a rule that joins internal meetings (it flips the other half);
- `rule_create` of that rule: the user's upcoming meetings reconciled in the change's
  transaction, a bot created for each flipped meeting in bulk, and the queue writes after
  commit (backend pushes through the task broker);
- the same again (`rule_delete`, then `rule_create`) with a webhook endpoint, so every new bot
  also writes an outbox row and queues its delivery.

With REDIS_URL unset the task broker is the database (django-q2's ORM broker), as in a default
install; the queued jobs are deleted at the end, with the project.

The database named in DATABASE_URL is created when missing and migrated; the project is deleted
at the end.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# The tables a rule change writes.
TABLES = (
    "meetings_meeting",
    "bots_bot",
    "bots_bot_meetings",
    "webhooks_webhookdelivery",
    "django_q_ormq",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 meetings")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each change N times; print the median and best"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the rule changes")
    parser.add_argument("--slowest", type=int, default=0, help="print the N slowest statements")
    parser.add_argument(
        "--sort", default="cumulative", help="profile order (cumulative, tottime, ...)"
    )
    parser.add_argument(
        "--profile-filter", default="", help="only profile lines matching this regular expression"
    )
    options = parser.parse_args()
    count = 1_000 if options.quick else options.meetings

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
    )
    if os.environ["DATABASE_URL"].startswith("postgres"):
        from bench.bench_sync import ensure_database

        ensure_database(os.environ["DATABASE_URL"])

    import django

    from bench.support import vacuum

    django.setup()
    import django_q.tasks
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from django_q.models import OrmQ

    import webhooks.queueing
    from bots.models import Bot
    from bots.reconcile import reconcile_pending
    from calendars.models import Calendar, CalendarUser
    from calendars.rule_services import (
        proposed_rules,
        rule_build,
        rule_create,
        rule_delete,
        rules_dry_run,
    )
    from meetings.models import AutoJoinRule, Meeting
    from meetings.rules import compile_rule_set, match
    from projects.models import Project
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    call_command("migrate", verbosity=0)
    queued_before = OrmQ.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    print(f"database: {connection.vendor}; python {sys.version.split()[0]}; cpus {os.cpu_count()}")

    project = Project.objects.create(name=f"bench rules {time.time():.0f}")
    user = CalendarUser.objects.create(
        project=project, external_id=uuid.uuid4().hex, record_external=True
    )
    calendar = Calendar.objects.create(
        project=project,
        calendar_user=user,
        platform="google",
        email="me@acme.test",
        refresh_token="bench",
        state="connected",
    )
    join_internal = {
        "name": "Internal meetings too",
        "action": "join",
        "audience": "internal",
        "bot_name": "Bench Notetaker",
    }
    others = [
        {"name": f"never {n}", "priority": 10 + n, "match_mode": "keyword", "keywords": [f"zz{n}"]}
        for n in range(7)
    ] + [
        {
            "name": "hours",
            "priority": 5,
            "days_of_week": [5, 6],
            "time_window_start": "09:00",
            "time_window_end": "18:00",
            "timezone": "Europe/Berlin",
            "min_attendees": 5,
        },
        {
            "name": "legal",
            "priority": 4,
            "match_mode": "organizer",
            "organizer_emails": ["@law.test"],
        },
    ]
    # The rules the user has already (they match nothing here), saved before the meetings are
    # decided: the engine pays for them on every meeting.
    for d in others:
        AutoJoinRule.objects.create(project=project, calendar_user=user, **d)
    start = timezone.now() + timedelta(hours=1)
    meetings = []
    for n in range(count):
        external = n % 2 == 0
        guests = [f"guest{n % 7}@{'globex' if external else 'acme'}.test", "me@acme.test"]
        meetings.append(
            Meeting(
                project=project,
                calendar=calendar,
                platform_event_id=f"event-{n}",
                title=["Weekly sync", "Interview", "Customer call", "1:1"][n % 4] + f" #{n}",
                description="Agenda: numbers, plans and questions. " * 10,
                start_time=start + timedelta(minutes=15 * n),
                end_time=start + timedelta(minutes=15 * n + 30),
                organizer_email="boss@acme.test",
                attendees=[{"email": e, "status": "accepted"} for e in guests],
                is_external=external,
                meeting_url=f"https://zoom.us/j/{1000000000 + n}",
                meeting_platform="zoom",
                needs_reconcile=True,
            )
        )
    Meeting.objects.bulk_create(meetings, batch_size=2000)
    del meetings  # a worker holds no such list: it would only make garbage collection slower
    started = time.perf_counter()
    reconcile_pending(calendar_ids=[calendar.pk])
    setup_took = time.perf_counter() - started
    # As autovacuum would have by the time of a rule change (and before each one below).
    vacuum(connection, TABLES)
    print(
        f"setup: {count:,} upcoming meetings, decided ({len(others)} rules, then the "
        f"preferences) in "
        f"{setup_took:.2f} s; {Bot.objects.filter(project=project).count():,} "
        "bots"
    )

    proposed = proposed_rules(
        calendar_user=user,
        upsert=rule_build(project=project, calendar_user=user, data=join_internal),
    )

    # 1. The engine alone, in memory.
    loaded = list(Meeting.objects.filter(calendar=calendar))
    compiled = compile_rule_set(proposed)
    started = time.perf_counter()
    matched = sum(1 for m in loaded if match(m, compiled, "google") is not None)
    del loaded
    print(
        f"engine: {count:,} meetings x {len(compiled)} rules in "
        f"{time.perf_counter() - started:.3f} s ({matched:,} matched)"
    )

    # 2. The dry run (reads only).
    started = time.perf_counter()
    changes = rules_dry_run(calendar_user=user, rules=proposed)
    flipped = sum(1 for c in changes if c.will_record_before != c.will_record_after)
    print(
        f"dry run: {len(changes):,} decisions would change ({flipped:,} would start recording) "
        f"in {time.perf_counter() - started:.2f} s"
    )

    # 3. The rule change, bots created in bulk.
    profiler = cProfile.Profile() if options.profile else None
    spent = {"queue": 0.0, "sql": 0.0, "statements": 0, "each": []}

    def timed(enqueue):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return enqueue(*args, **kwargs)
            finally:
                spent["queue"] += time.perf_counter() - started

        return wrapper

    def sql_timer(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            spent["sql"] += took
            spent["statements"] += 1
            spent["each"].append((took, sql))

    # The queue writes after commit (one broker INSERT per job), timed apart.
    django_q.tasks.async_task = timed(django_q.tasks.async_task)
    webhooks.queueing.async_task = timed(webhooks.queueing.async_task)

    def timed_change(label: str, action) -> float:
        vacuum(connection, TABLES)
        spent.update(queue=0.0, sql=0.0, statements=0, each=[])
        if profiler:
            profiler.enable()
        started, cpu = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(sql_timer):
            result = action()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        spent["elapsed"] = elapsed
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats(options.sort).print_stats(options.profile_filter, 40)
            profiler.clear()
        print(
            f"{label}: {elapsed:.2f} s (this process's CPU {cpu:.2f} s), of which "
            f"{spent['sql']:.2f} s in "
            f"{spent['statements']:,} SQL statements (queue writes included) and "
            f"{spent['queue']:.2f} s queue writes after commit"
        )
        for took, sql in sorted(spent["each"], key=lambda item: -item[0])[: options.slowest]:
            print(f"  {took * 1000:7.1f} ms  {' '.join(sql.split())[:150]}")
        return result

    def create(label: str) -> AutoJoinRule:
        bots_before = Bot.objects.filter(project=project).exclude(status="cancelled").count()
        rule = timed_change(
            f"rule_create ({label}), {count:,} meetings re-decided",
            lambda: rule_create(project=project, calendar_user=user, data=join_internal),
        )
        bots = Bot.objects.filter(project=project).exclude(status="cancelled").count()
        recorded = Meeting.objects.filter(calendar=calendar, will_record=True).count()
        print(
            f"  {bots - bots_before:,} bots created in bulk; {recorded:,} meetings now recorded; "
            f"{WebhookDelivery.objects.filter(project=project).count():,} webhook outbox rows"
        )
        return rule

    took = {"rule_create": [], "rule_delete": [], "rule_create with a webhook endpoint": []}
    for _ in range(options.repeat):
        rule = create("no webhook endpoint")
        took["rule_create"].append(spent["elapsed"])
        timed_change(
            "rule_delete (the bots of the flipped meetings cancelled)",
            lambda rule=rule: rule_delete(rule=rule),
        )
        took["rule_delete"].append(spent["elapsed"])
        live = Bot.objects.filter(project=project).exclude(status="cancelled").count()
        print(f"  {live:,} live bots left")
    endpoint = WebhookEndpoint.objects.create(project=project, url="https://hooks.bench.test/in")
    for _ in range(options.repeat):
        rule = create("webhook endpoint")
        took["rule_create with a webhook endpoint"].append(spent["elapsed"])
        endpoint.is_active = False  # the way back is not the figure
        endpoint.save()
        rule_delete(rule=rule)
        endpoint.is_active = True
        endpoint.save()
        WebhookDelivery.objects.filter(project=project).delete()
    if options.repeat > 1:
        print(f"{options.repeat} runs each, median (best):")
        for label, runs in took.items():
            print(f"  {label}: {statistics.median(runs):.2f} s ({min(runs):.2f} s)")

    project.delete()
    # Nothing runs the jobs the changes queued (backend pushes, deliveries): drop them.
    OrmQ.objects.filter(pk__gt=queued_before).delete()


if __name__ == "__main__":
    main()

"""Benchmark: scale-out of the sync workers (issue 18). N `manage.py qcluster` processes (django-q2
on Redis) against one PostgreSQL sync many Google calendars at once; how long it takes, and proof
that no calendar is synced twice and no worker waits on another.

Run (PostgreSQL `calsync_bench_scale`, dropped and created; Redis database 9, flushed):

    .venv/bin/python bench/bench_scale_out.py                    # 200 calendars x 1,000 events, 4 workers
    .venv/bin/python bench/bench_scale_out.py --workers 1,2,4    # the same with 1, 2 and 4 workers
    .venv/bin/python bench/bench_scale_out.py --quick            # CI: 20 x 200 events, 2 workers
    .venv/bin/python bench/bench_scale_out.py --workers 1 --calendars 400 --events 500 \
        --page-size 125 --requeue-after 65     # a backlog over a minute: jobs queued twice

What it does, all on loopback:
- a FakeGoogle in a child process with one account per calendar (generated events, pages of
  `--page-size`), counting per account the first pages, the next pages and the token requests;
- migrates the database once; per worker count: empties the tables (TRUNCATE), creates a project,
  its OAuth app and the calendars (connected, not yet due), VACUUM ANALYZE;
- starts `--workers` qcluster processes (each a machine of its own: `Q_WORKERS` worker
  processes, its own scheduler, its own connections), each in a process group of its own;
- marks every calendar due and runs the sweeper once (`calendars.jobs.sweep_due_calendars`, the
  minute's job that queues due calendars in production): the clock starts;
- waits until every calendar is synced and the queue is empty and stays empty, sampling meanwhile
  the sessions waiting on a lock (pg_stat_activity) and the service's TCP peers (loopback only);
- with `--requeue-after S`, runs the sweeper again S s after the start: past the queued grace
  (60 s) it queues every calendar whose job still waits a second time, as production's minute's
  sweep does to jobs a worker has prefetched; those jobs must find their calendar synced
  ("answered") and ask nothing of the provider;
- stops the clusters, then checks: per calendar exactly one sync job, one attempt in its sync
  history, the expected pages at the fake (one first page, the rest by page token, one token
  request), every event one meeting; the meetings table's inserts equal the events (no row
  written twice), no update or delete of a meeting; no deadlock (pg_stat_database), no retried
  transaction, traceback, error or warning in the workers' logs.

Prints total time, per-calendar sync time p50/p95 (the attempt, from the calendar's sync history),
the wait in the queue, events/s overall, connections, Redis commands, the machine's load.
Every process it starts is killed at the end (process groups), also on failure.
"""

import argparse
import base64
import contextlib
import json
import math
import multiprocessing
import os
import pickle
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import manage, wait_for  # noqa: E402

PG_DATABASE = "calsync_bench_scale"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_URL = f"{PG_SERVER}/{PG_DATABASE}"
REDIS_DB = 9
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
QUEUE_KEY = "django_q:calsync:q"  # django-q2's list for the cluster name in config/settings.py
PROJECT = "scale-out bench"

# Tables the runs write: emptied before each run, then VACUUM ANALYZE (autovacuum may be off).
TABLES = (
    "meetings_meeting",
    "calendars_calendar",
    "calendars_calendarsyncevent",
    "calendars_oauthapp",
    "projects_project",
    "django_q_task",
    "django_q_schedule",
)

# `manage.py shell -c`: empty the tables, a project, its OAuth app and one connected calendar per
# account (not due yet: the run starts them all at once). Prints {calendar id: email} as JSON.
SETUP = """
import json, os
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from bench.support import vacuum
from calendars.models import Calendar, OAuthApp
from projects.models import Project

with connection.cursor() as cursor:
    cursor.execute("TRUNCATE projects_project, django_q_task, django_q_ormq CASCADE")
project = Project.objects.create(name=os.environ["BENCH_PROJECT"])
OAuthApp.objects.create(
    project=project,
    platform="google",
    client_id=os.environ["BENCH_CLIENT_ID"],
    client_secret=os.environ["BENCH_CLIENT_SECRET"],
)
later = timezone.now() + timedelta(days=1)
ids = {}
for email, token in json.loads(os.environ["BENCH_TOKENS"]).items():
    calendar = Calendar.objects.create(
        project=project,
        platform="google",
        email=email,
        refresh_token=token,
        state="connected",
        sync_due_at=later,
    )
    ids[str(calendar.pk)] = email
vacuum(connection, os.environ["BENCH_TABLES"].split(","))
print(json.dumps(ids))
"""

# `manage.py shell -c`: every calendar due now, and the sweeper queues them (as its minute's run
# does in production). Prints the time the clock starts and how many were queued.
TRIGGER = """
import time
from django.utils import timezone
from calendars.jobs import sweep_due_calendars
from calendars.models import Calendar

Calendar.objects.update(sync_due_at=timezone.now())
started = time.time()
print(started, sweep_due_calendars())
"""

# `manage.py shell -c`: the minute's sweep (`--requeue-after`). Prints how many it queued.
SWEEP = """
from calendars.jobs import sweep_due_calendars
print(sweep_due_calendars())
"""

# The workers' log lines that mean contention or trouble.
TROUBLE = re.compile(
    r"deadlock|transient database error|retrying|Traceback|ERROR|CRITICAL|WARNING|crashed"
    r"|could not|timed out",
    re.IGNORECASE,
)


# --- the fake, in a child process -----------------------------------------------------------


def serve_fake(conn, *, calendars: int, events: int) -> None:
    """Child process: a FakeGoogle with `calendars` accounts of `events` events each, driven
    through `conn`. Sends the URLs and refresh tokens first, then "ready" once the events are
    generated and pre-rendered."""
    from tests.fakes.generators import populate
    from tests.fakes.google import FakeGoogle

    class CountingGoogle(FakeGoogle):
        """Counts, per account, the first pages, next pages and token requests it answers."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.per_account: dict[str, Counter] = defaultdict(Counter)
            self.owner_of_refresh_token: dict[str, str] = {}

        def _record(self, request, response, route) -> None:
            super()._record(request, response, route)
            email, kind = "?", route or "unrouted"
            if route == "events.list":
                with self.lock:
                    record, _ = self.oauth.check_access_token(request.bearer_token())
                email = record.email if record else "?"
                kind = "next_pages" if request.arg("pageToken") else "first_pages"
            elif route == "oauth.token":
                email = self.owner_of_refresh_token.get(request.form().get("refresh_token"), "?")
                kind = "tokens"
            with self.lock:
                self.per_account[email][kind] += 1
                if response.status != 200:
                    self.per_account[email][f"status {response.status}"] += 1

    with CountingGoogle() as fake:
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        emails = [f"user{i:04d}@scale.bench.test" for i in range(calendars)]
        tokens = {}
        for email in emails:
            fake.add_account(email)
            tokens[email] = fake.grant(email)
            fake.owner_of_refresh_token[tokens[email]] = email
        conn.send(
            {
                "authorize_url": fake.authorize_url,
                "token_url": fake.token_url,
                "userinfo_url": fake.userinfo_url,
                "calendar_api_url": fake.calendar_api_url,
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
                "tokens": tokens,
            }
        )
        for seed, email in enumerate(emails, start=100):
            populate(
                fake,
                email,
                seed=seed,
                n=events,
                series_ratio=0,
                window_start=today + timedelta(days=1),
                window_end=today + timedelta(days=50),
            )
        listed = {email: len(fake.event_ids(email)) for email in emails}
        fake.prerender()
        conn.send(("ready", listed))
        while True:
            command, *_ = conn.recv()
            if command == "stop":
                break
            if command == "reset":
                fake.reset_requests()
                with fake.lock:
                    fake.per_account.clear()
                conn.send(None)
            elif command == "counts":
                with fake.lock:
                    conn.send(
                        (
                            {email: dict(c) for email, c in fake.per_account.items()},
                            len(fake.internal_errors),
                        )
                    )


# --- processes ------------------------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    children = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                children += [int(child) for child in text.split()]
    return children + [grandchild for child in children for grandchild in descendants(child)]


def remote_peers(pids: list[int]) -> set[str]:
    """The remote addresses of the established TCP connections of these processes."""
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    peers = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes and fields[3] == "01":  # ESTABLISHED
                    peers.add(fields[2].rsplit(":", 1)[0])
    return peers


LOOPBACK = re.compile(
    r"^(0100007F|0000000000000000FFFF00000100007F|00000000000000000000000001000000)$"
)


class Cluster:
    """One `manage.py qcluster` in a process group of its own, its output in a file."""

    def __init__(self, name: str, env: dict, log_dir: Path):
        self.log_path = log_dir / f"qcluster-{name}.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def running(self) -> bool:
        return "running" in self.log_path.read_text()

    def stop(self) -> None:
        """SIGTERM to the main process (it stops its pusher, workers and monitor in order), then
        SIGKILL to the whole group whatever is left."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self.log.close()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Sampler(threading.Thread):
    """Every `interval` s: the sessions of the database waiting on a lock (and their queries),
    the connections open; every second the non-loopback TCP peers of the clusters' processes and
    the CPU time of the clusters, of the database's server processes and of the fake."""

    def __init__(self, clusters: list[Cluster], fake_pid: int, interval: float = 0.25):
        super().__init__(daemon=True)
        import psycopg

        self.connection = psycopg.connect(PG_URL, autocommit=True)
        self.clusters, self.fake_pid, self.interval = clusters, fake_pid, interval
        self.stopping = threading.Event()
        self.samples = self.lock_samples = self.max_connections = 0
        self.waiting: Counter[str] = Counter()
        self.foreign_peers: set[str] = set()
        # (group, pid) -> [CPU seconds when first seen, when last seen]
        self.cpu: dict[tuple[str, int], list[float]] = {}
        self.backends: set[int] = set()
        self.sample_cpu()

    def sample_cpu(self) -> None:
        cluster_pids = [
            pid for c in self.clusters for pid in [c.process.pid, *descendants(c.process.pid)]
        ]
        groups = [("workers", pid) for pid in cluster_pids]
        groups += [("postgres", pid) for pid in self.backends] + [("fake", self.fake_pid)]
        for key in groups:
            seconds = cpu_seconds(key[1])
            if seconds is not None:
                self.cpu.setdefault(key, [seconds, seconds])[1] = seconds
        self.foreign_peers |= {
            peer for peer in remote_peers(cluster_pids) if not LOOPBACK.match(peer)
        }

    def cpu_used(self, group: str) -> float:
        return sum(last - first for (name, _), (first, last) in self.cpu.items() if name == group)

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            rows = self.connection.execute(
                "SELECT pid, wait_event_type, wait_event || ': '"
                " || left(regexp_replace(query, '\\s+', ' ', 'g'), 100)"
                " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [PG_DATABASE],
            ).fetchall()
            self.samples += 1
            self.max_connections = max(self.max_connections, len(rows))
            self.backends |= {pid for pid, _, _ in rows}
            waits = [query for _, kind, query in rows if kind == "Lock"]
            if waits:
                self.lock_samples += 1
                self.waiting.update(waits)
            if self.samples % 4 == 0:
                self.sample_cpu()

    def stop(self) -> None:
        """Stop sampling, with a last sample (call it while the clusters still run)."""
        self.stopping.set()
        self.join(5)
        self.sample_cpu()
        self.connection.close()


# --- one run --------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def table_counters(db) -> dict:
    row = db.execute(
        "SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables"
        " WHERE relname = 'meetings_meeting'"
    ).fetchone()
    deadlocks = db.execute(
        "SELECT deadlocks FROM pg_stat_database WHERE datname = %s", [PG_DATABASE]
    ).fetchone()[0]
    return {"ins": row[0], "upd": row[1], "del": row[2], "deadlocks": deadlocks}


def run(
    options, *, workers: int, env: dict, parent, fake_pid: int, listed: dict, log_dir: Path
) -> dict:
    import psycopg
    import redis

    print(
        f"\n== {workers} worker process(es) (qcluster x {workers}, Q_WORKERS={options.per_cluster})"
    )
    queue = redis.Redis.from_url(REDIS_URL)
    queue.flushdb()
    env = {**env, "BENCH_TABLES": ",".join(TABLES)}
    ids = json.loads(manage(sys.executable, env, "shell", "-c", SETUP).strip().splitlines()[-1])
    email_of = ids
    parent.send(("reset",))
    parent.recv()

    db = psycopg.connect(PG_URL, autocommit=True)
    clusters: list[Cluster] = []
    sampler = timer = None
    try:
        for index in range(workers):
            clusters.append(Cluster(f"{workers}w-{index}", env, log_dir))
        wait_for(
            lambda: all(c.running() for c in clusters), timeout=90, what="the clusters to start"
        )
        time.sleep(1)
        before = table_counters(db)
        commands_before = queue.info("stats")["total_commands_processed"]
        load_before = load()
        sampler = Sampler(clusters, fake_pid)
        sampler.start()
        started, queued = manage(sys.executable, env, "shell", "-c", TRIGGER).split()[-2:]
        started, queued = float(started), int(queued)
        print(f"queued {queued} calendar syncs; load before {load_before}")
        requeued = []
        if options.requeue_after:
            # The minute's sweep, run while jobs older than the queued grace still wait: it
            # queues their calendars again (it cannot tell a waiting job from a lost one).
            def sweep():
                requeued.append(int(manage(sys.executable, env, "shell", "-c", SWEEP).split()[-1]))

            timer = threading.Timer(started + options.requeue_after - time.time(), sweep)
            timer.daemon = True
            timer.start()

        def all_synced():
            return db.execute(
                "SELECT count(*) = %s FROM calendars_calendar"
                " WHERE sync_finished_at IS NOT NULL AND sync_cursor <> ''"
                " AND sync_lease_expires_at IS NULL",
                [len(ids)],
            ).fetchone()[0]

        wait_for(
            all_synced, timeout=options.timeout, what="every calendar to be synced", interval=0.2
        )
        load_after = load()
        if options.requeue_after:
            timer.join()  # and then its jobs run

        # Quiet: the queue empty, no calendar leased, for 3 s in a row (a job queued twice would
        # run now, after the calendar's first sync).
        quiet_since = None
        deadline = time.monotonic() + options.timeout
        while time.monotonic() < deadline:
            busy = (
                queue.llen(QUEUE_KEY)
                or db.execute(
                    "SELECT count(*) FROM calendars_calendar WHERE sync_lease_expires_at IS NOT NULL"
                ).fetchone()[0]
            )
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= 3:
                break
            time.sleep(0.2)
        sampler.stop()
        commands = queue.info("stats")["total_commands_processed"] - commands_before
        if options.requeue_after:
            print(
                f"the sweep {options.requeue_after:.0f} s after the start queued"
                f" {requeued[0] if requeued else '?'} calendar(s) again"
            )
    finally:
        if timer is not None:
            timer.cancel()
        if sampler is not None and sampler.is_alive():
            sampler.stop()
        for cluster in clusters:
            cluster.stop()
    time.sleep(0.5)  # the stopped backends' statistics reach pg_stat
    after = table_counters(db)

    # -- what happened, per calendar
    finished = db.execute(
        "SELECT extract(epoch FROM max(sync_finished_at)),"
        " extract(epoch FROM min(last_attempted_sync_at)) FROM calendars_calendar"
    ).fetchone()
    total = float(finished[0]) - started
    history = defaultdict(list)
    for calendar_id, kind, full, changed, duration in db.execute(
        'SELECT calendar_id, kind, "full", changed, duration_ms FROM calendars_calendarsyncevent'
    ):
        history[str(calendar_id)].append((kind, full, changed, duration))
    meetings = {
        str(calendar_id): (n, distinct)
        for calendar_id, n, distinct in db.execute(
            "SELECT calendar_id, count(*), count(DISTINCT platform_event_id)"
            " FROM meetings_meeting WHERE NOT is_deleted GROUP BY calendar_id"
        )
    }
    jobs = defaultdict(Counter)  # calendar id -> the results of its sync jobs
    results = Counter()
    for args, result in db.execute(
        "SELECT args, result FROM django_q_task WHERE func = 'calendars.jobs.sync_calendar'"
    ):
        # django-q2 keeps them pickled, in base64: ('<calendar id>', ...) and the job's status.
        status = str(pickle.loads(base64.b64decode(result)))  # noqa: S301 (our own rows)
        jobs[str(pickle.loads(base64.b64decode(args))[0])][status] += 1  # noqa: S301
        results[status] += 1
    waits = [
        float(w)
        for (w,) in db.execute(
            "SELECT extract(epoch FROM last_attempted_sync_at) - %s FROM calendars_calendar",
            [started],
        )
    ]
    parent.send(("counts",))
    requests, fake_errors = parent.recv()
    db.close()

    pages = math.ceil(options.events / options.page_size)
    problems = []
    durations = []
    for calendar_id, email in email_of.items():
        events = listed[email]
        expected_pages = max(1, math.ceil(events / options.page_size))
        seen = requests.get(email, {})
        got = (seen.get("first_pages", 0), seen.get("next_pages", 0), seen.get("tokens", 0))
        if got != (1, expected_pages - 1, 1) or len(seen) != 3:
            problems.append(f"calendar {calendar_id}: requests at the fake {seen}")
        attempts = history.get(calendar_id, [])
        if len(attempts) != 1 or attempts[0][:3] != ("synced", True, events):
            problems.append(f"calendar {calendar_id}: sync history {attempts}")
        durations += [a[3] / 1000 for a in attempts if a[0] == "synced" and a[1]]
        if meetings.get(calendar_id) != (events, events):
            problems.append(f"calendar {calendar_id}: meetings {meetings.get(calendar_id)}")
        # A job the sweeper queued again finds the calendar synced ("answered"): harmless.
        if jobs[calendar_id]["synced"] != 1 or set(jobs[calendar_id]) - {"synced", "answered"}:
            problems.append(f"calendar {calendar_id}: sync jobs {dict(jobs[calendar_id])}")
    expected_events = sum(listed[email] for email in email_of.values())
    inserted = after["ins"] - before["ins"]
    if inserted != expected_events:
        problems.append(f"meetings inserted {inserted}, expected {expected_events}")
    if after["upd"] != before["upd"] or after["del"] != before["del"]:
        problems.append(
            f"meetings updated {after['upd'] - before['upd']}, deleted {after['del'] - before['del']}"
        )
    if not durations:
        durations = [0.0]
    if after["deadlocks"] != before["deadlocks"]:
        problems.append(f"{after['deadlocks'] - before['deadlocks']} deadlock(s) in the database")
    if set(results) - {"synced", "answered"}:
        problems.append(f"sync job results {dict(results)}")
    if requests.get("?"):
        problems.append(f"requests at the fake no account was found for: {requests['?']}")
    if fake_errors:
        problems.append(f"{fake_errors} internal error(s) in the fake")
    if sampler.foreign_peers:
        problems.append(f"connections to non-loopback addresses: {sampler.foreign_peers}")
    trouble = [
        f"{cluster.log_path.name}: {line}"
        for cluster in clusters
        for line in cluster.log_path.read_text().splitlines()
        if TROUBLE.search(line)
    ]

    rate = expected_events / total
    print(
        f"{len(ids)} calendars x {options.events} events ({expected_events} events, pages of"
        f" {options.page_size}: {pages} per calendar) in {total:.1f} s = {rate:,.0f} events/s"
        f" overall; load {load_before} before, {load_after} at the end"
    )
    print(
        f"per-calendar sync (attempt, from its history): p50 {percentile(durations, 0.5):.2f} s,"
        f" p95 {percentile(durations, 0.95):.2f} s, max {max(durations):.2f} s; wait in the queue"
        f" p50 {percentile(waits, 0.5):.1f} s, max {max(waits):.1f} s"
    )
    print(
        f"sessions waiting on a lock: {sampler.lock_samples} of {sampler.samples} samples;"
        f" database connections at most {sampler.max_connections}"
        f" ({sampler.max_connections / workers:.1f} per qcluster); Redis commands {commands:,}"
        f" ({commands / len(ids):.0f} per calendar)"
    )
    for query, n in sampler.waiting.most_common(5):
        print(f"    waited {n} x: {query}")
    cpu = {group: sampler.cpu_used(group) for group in ("workers", "postgres", "fake")}
    print(
        "CPU seconds while it ran: workers (qcluster processes) {workers:.1f}, PostgreSQL (their"
        " server processes) {postgres:.1f}, the fake {fake:.1f}; per 1,000 events: workers"
        " {w:.2f} s, PostgreSQL {p:.2f} s".format(
            **cpu,
            w=cpu["workers"] * 1000 / expected_events,
            p=cpu["postgres"] * 1000 / expected_events,
        )
    )
    print(
        f"fake: {sum(c.get('first_pages', 0) for c in requests.values())} first pages,"
        f" {sum(c.get('next_pages', 0) for c in requests.values())} next pages,"
        f" {sum(c.get('tokens', 0) for c in requests.values())} token requests;"
        f" sync jobs {sum(results.values())} ({dict(results)}); meetings inserted {inserted},"
        f" updated {after['upd'] - before['upd']}; deadlocks {after['deadlocks'] - before['deadlocks']}"
    )
    for line in trouble[:10]:
        print(f"    log: {line[:200]}")
    if trouble:
        problems.append(f"{len(trouble)} log line(s) of trouble (above)")
    for problem in problems[:20]:
        print(f"    PROBLEM: {problem}")
    verdict = (
        "each calendar synced exactly once, no lease contention (no busy job), no deadlock"
        if not problems
        else f"{len(problems)} problem(s)"
    )
    print(f"=> {verdict}")
    return {
        "workers": workers,
        "total": total,
        "rate": rate,
        "p50": percentile(durations, 0.5),
        "p95": percentile(durations, 0.95),
        "problems": problems,
        "cpu": cpu,
        "load": load_after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workers", default="4", help="qcluster processes; a comma list runs each (1,2,4)"
    )
    parser.add_argument("--per-cluster", type=int, default=1, help="Q_WORKERS of each qcluster")
    parser.add_argument("--calendars", type=int, default=200)
    parser.add_argument("--events", type=int, default=1000, help="events per calendar")
    parser.add_argument("--page-size", type=int, default=250)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--requeue-after",
        type=float,
        default=0,
        help="run the sweeper again this many seconds after the start (over 60: it queues the"
        " calendars whose jobs still wait again)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the workers' logs")
    parser.add_argument(
        "--quick", action="store_true", help="CI: 20 calendars x 200 events, 2 workers"
    )
    options = parser.parse_args()
    if options.quick:
        options.calendars, options.events, options.page_size = 20, 200, 50
        if options.workers == parser.get_default("workers"):
            options.workers = "2"
    counts = [int(n) for n in options.workers.split(",")]
    # SIGTERM (a CI time-out) unwinds like Ctrl-C, so the `finally`s stop every process started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from cryptography.fernet import Fernet

    log_dir = Path(tempfile.mkdtemp(prefix="calsync-scale-bench-"))
    parent, child = multiprocessing.Pipe()
    fake = multiprocessing.Process(
        target=serve_fake,
        args=(child,),
        kwargs={"calendars": options.calendars, "events": options.events},
        daemon=True,
    )
    fake.start()
    results = []
    try:
        info = parent.recv()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CACHE_URL")}
        env.update(
            # Production mode: DEBUG would keep every SQL statement in the workers' memory.
            DEBUG="false",
            SECRET_KEY=Fernet.generate_key().decode() * 2,
            FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
            ALLOWED_HOSTS="localhost",
            DATABASE_URL=PG_URL,
            REDIS_URL=REDIS_URL,
            Q_WORKERS=str(options.per_cluster),
            GOOGLE_PAGE_SIZE=str(options.page_size),
            GOOGLE_OAUTH_AUTHORIZE_URL=info["authorize_url"],
            GOOGLE_OAUTH_TOKEN_URL=info["token_url"],
            GOOGLE_USERINFO_URL=info["userinfo_url"],
            GOOGLE_CALENDAR_API_URL=info["calendar_api_url"],
            # Never used (no Microsoft calendar), and loopback all the same.
            MICROSOFT_AUTHORITY_HOST="https://127.0.0.1:9",
            MICROSOFT_GRAPH_URL="https://127.0.0.1:9/v1.0/",
            PUSH_NOTIFICATIONS="false",
            LOG_LEVEL="INFO",
            LOG_FORMAT="text",
            PYTHONUNBUFFERED="1",
            BENCH_PROJECT=PROJECT,
            BENCH_CLIENT_ID=info["client_id"],
            BENCH_CLIENT_SECRET=info["client_secret"],
            BENCH_TOKENS=json.dumps(info["tokens"]),
        )
        for sql in (f"DROP DATABASE IF EXISTS {PG_DATABASE}", f"CREATE DATABASE {PG_DATABASE}"):
            subprocess.run(  # noqa: S603
                ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", sql],  # noqa: S607
                check=True,
            )
        manage(sys.executable, env, "migrate", "--no-input", "--verbosity", "0")
        ready, listed = parent.recv()
        assert ready == "ready"
        for workers in counts:
            results.append(
                run(
                    options,
                    workers=workers,
                    env=env,
                    parent=parent,
                    fake_pid=fake.pid,
                    listed=listed,
                    log_dir=log_dir,
                )
            )
    finally:
        with contextlib.suppress(OSError, BrokenPipeError):
            parent.send(("stop",))
        fake.join(10)
        if fake.is_alive():
            fake.kill()
        if not options.keep_logs:
            for path in log_dir.iterdir():
                path.unlink()
            log_dir.rmdir()
        else:
            print(f"workers' logs: {log_dir}")
    print(
        "\nworkers  total s  events/s  sync p50 s  p95 s  CPU workers/PG s  load at end  problems"
    )
    for r in results:
        print(
            f"{r['workers']:>7}  {r['total']:>7.1f}  {r['rate']:>8,.0f}  {r['p50']:>10.2f}"
            f"  {r['p95']:>5.2f}  {r['cpu']['workers']:>7.0f} / {r['cpu']['postgres']:<5.0f}"
            f"  {r['load']:<11}  {len(r['problems'])}"
        )
    if any(r["problems"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Benchmark: a sync worker killed with SIGKILL mid-sync, and how long until everything it was
doing is done (issue 12, "crash recovery in seconds, on both brokers").

Run:

    .venv/bin/python bench/bench_crash_recovery.py --broker orm      # SQLite + ORM broker
    .venv/bin/python bench/bench_crash_recovery.py --broker redis    # PostgreSQL + Redis

What it does, all on loopback:
- a FakeGoogle in this process with a generated calendar (`--events`, pages of `--page-size`,
  every API request slowed by `--delay` s, so the sync takes a while);
- a scratch DATA_DIR; migrates (SQLite, or the PostgreSQL database `calsync_bench_crash`, dropped
  and created; Redis database 15, flushed); a project, its OAuth app, a calendar user who records
  every meeting and its connected calendar;
- starts `manage.py qcluster` with one worker and queues the calendar's sync;
- once a few pages are written (the lease is held, meetings exist), finds the worker process
  (the one connected to the fake) and kills it with SIGKILL; django-q2's sentinel starts a new
  worker; with Redis the task is lost, with the ORM broker it would come back after
  Q_TIMEOUT + 60 s;
- polls the database until the calendar has converged: an attempt ended after the kill, the
  round finished (a cursor), every recorded meeting has exactly one live bot, nothing is left
  marked for reconciliation, the announcement watermark past the attempt.

Prints the recovery time (kill -> converged) and where it went (lease expiry, the sweeper's
re-queue, the sync). Child processes are stopped in every case.
"""

import argparse
import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import CONNECTED_CALENDAR, google_fake_env, manage, wait_for  # noqa: E402

EMAIL = "crash@bench.test"
PG_DATABASE = "calsync_bench_crash"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/15"

QUEUE = """
import os
from django_q.tasks import async_task
async_task("calendars.jobs.sync_calendar", os.environ["BENCH_CALENDAR_ID"])
"""

STATE = {
    "meetings": "SELECT count(*) FROM meetings_meeting WHERE calendar_id = %(c)s AND NOT is_deleted",
    "marked": "SELECT count(*) FROM meetings_meeting WHERE calendar_id = %(c)s AND needs_reconcile",
    "without_bot": "SELECT count(*) FROM meetings_meeting m WHERE m.calendar_id = %(c)s"
    " AND m.will_record AND NOT EXISTS (SELECT 1 FROM bots_bot_meetings l JOIN bots_bot b"
    " ON b.id = l.bot_id WHERE l.meeting_id = m.id AND b.status IN ('scheduled', 'dispatched'))",
    "duplicate_bots": "SELECT count(*) FROM (SELECT l.meeting_id FROM bots_bot_meetings l"
    " JOIN bots_bot b ON b.id = l.bot_id JOIN meetings_meeting m ON m.id = l.meeting_id"
    " WHERE m.calendar_id = %(c)s AND b.status NOT IN ('done', 'fatal', 'cancelled')"
    " GROUP BY l.meeting_id HAVING count(*) > 1) d",
}


class Database:
    def __init__(self, broker: str, data_dir: Path):
        self.broker = broker
        if broker == "orm":
            path = data_dir / "db.sqlite3"
            self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        else:
            import psycopg

            self.connection = psycopg.connect(PG_URL, autocommit=True)

    def one(self, sql: str, calendar_id: str):
        if self.broker == "orm":
            sql = sql.replace("%(c)s", "?").replace("NOT is_deleted", "is_deleted = 0")
            sql = sql.replace("AND needs_reconcile", "AND needs_reconcile = 1")
            return self.connection.execute(sql, (calendar_id.replace("-", ""),)).fetchone()
        return self.connection.execute(sql, {"c": calendar_id}).fetchone()

    def calendar(self, calendar_id: str) -> dict:
        columns = "sync_cursor, announced_through, last_attempted_sync_at, sync_finished_at"
        sql = f"SELECT {columns} FROM calendars_calendar WHERE id = %(c)s"  # noqa: S608
        row = self.one(sql, calendar_id)
        return dict(zip(("cursor", "announced", "attempted", "finished"), row, strict=True))

    def close(self) -> None:
        self.connection.close()


def stamp(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def socket_inodes_to(port: int) -> set[str]:
    """Inodes of this machine's TCP sockets connected to 127.0.0.1:`port` (client side)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port == port and fields[3] == "01":  # ESTABLISHED
                    inodes.add(fields[9])
    return inodes


def process_with_socket(pids: list[int], inodes: set[str]) -> int | None:
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:[") and target[8:-1] in inodes:
                        return pid
    return None


def descendants(pid: int) -> list[int]:
    children = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                children += [int(child) for child in text.split()]
    return children + [grandchild for child in children for grandchild in descendants(child)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", choices=("orm", "redis"), default="orm")
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.4, help="seconds per provider request")
    parser.add_argument("--timeout", type=float, default=300)
    options = parser.parse_args()

    from cryptography.fernet import Fernet

    from tests.fakes.generators import populate
    from tests.fakes.google import FakeGoogle

    data_dir = Path(tempfile.mkdtemp(prefix="calsync-crash-bench-"))
    python = sys.executable
    cluster = None
    db = None
    fake = FakeGoogle().start()
    try:
        fake.add_account(EMAIL)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        populate(
            fake,
            EMAIL,
            seed=12,
            n=options.events,
            window_start=today + timedelta(days=1),
            window_end=today + timedelta(days=30),
            series_ratio=0,
            all_day_ratio=0,
        )
        refresh_token = fake.grant(EMAIL)

        env = dict(os.environ)
        for name in ("DATABASE_URL", "REDIS_URL", "CACHE_URL"):
            env.pop(name, None)
        env.update(
            DEBUG="true",
            SECRET_KEY=Fernet.generate_key().decode() * 2,
            DATA_DIR=str(data_dir),
            GOOGLE_PAGE_SIZE=str(options.page_size),
            Q_WORKERS="1",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
            BENCH_PROJECT="crash recovery bench",
            BENCH_RECORD="1",
            **google_fake_env(fake, email=EMAIL, refresh_token=refresh_token),
        )
        if options.broker == "redis":
            env.update(DATABASE_URL=PG_URL, REDIS_URL=REDIS_URL)
            for sql in (f"DROP DATABASE IF EXISTS {PG_DATABASE}", f"CREATE DATABASE {PG_DATABASE}"):
                subprocess.run(  # noqa: S603
                    ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", sql],  # noqa: S607
                    check=True,
                )
            subprocess.run(["redis-cli", "-n", "15", "FLUSHDB"], check=True, capture_output=True)  # noqa: S607

        manage(python, env, "migrate", "--no-input", "--verbosity", "0")
        calendar_id = (
            manage(python, env, "shell", "-c", CONNECTED_CALENDAR).strip().splitlines()[-1]
        )
        db = Database(options.broker, data_dir)
        log = (data_dir / "worker.log").open("w")
        cluster = subprocess.Popen(  # noqa: S603
            [python, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        time.sleep(2)  # the cluster's processes start
        env["BENCH_CALENDAR_ID"] = calendar_id
        manage(python, env, "shell", "-c", QUEUE)
        half = options.page_size * 3
        wait_for(
            lambda: db.one(STATE["meetings"], calendar_id)[0] >= half,
            timeout=options.timeout,
            what="the sync to write a few pages",
        )
        worker = process_with_socket(descendants(cluster.pid), socket_inodes_to(fake.port))
        if worker is None:
            raise RuntimeError("could not find the worker talking to the fake")
        written = db.one(STATE["meetings"], calendar_id)[0]
        os.kill(worker, signal.SIGKILL)
        killed_at = time.time()
        print(f"killed worker {worker} mid-sync after {written} meetings were written")

        def converged():
            state = db.calendar(calendar_id)
            finished, attempted = stamp(state["finished"]), stamp(state["attempted"])
            return (
                state["cursor"]
                and finished is not None
                and finished > killed_at
                and attempted is not None
                and finished >= attempted
                and (stamp(state["announced"]) or 0) >= attempted
                and db.one(STATE["marked"], calendar_id)[0] == 0
                and db.one(STATE["without_bot"], calendar_id)[0] == 0
            )

        retaken_at = None
        deadline = time.monotonic() + options.timeout
        while time.monotonic() < deadline:
            attempted = stamp(db.calendar(calendar_id)["attempted"])
            if retaken_at is None and attempted and attempted > killed_at:
                retaken_at = time.time()
            if converged():
                break
            time.sleep(0.2)
        else:
            raise TimeoutError("the calendar did not converge in time")
        recovered = time.time() - killed_at
        meetings = db.one(STATE["meetings"], calendar_id)[0]
        duplicates = db.one(STATE["duplicate_bots"], calendar_id)[0]
        broker = "SQLite + ORM broker" if options.broker == "orm" else "PostgreSQL + Redis"
        print(
            f"{broker}: recovered {recovered:.1f} s after the kill"
            f" (next attempt started {retaken_at - killed_at:.1f} s after it);"
            f" {meetings} meetings, every recorded one with one live bot"
            f" ({duplicates} meetings with more than one), nothing left marked"
        )
    finally:
        if cluster is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait(10)
        if db is not None:
            db.close()
        fake.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

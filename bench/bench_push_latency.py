"""Benchmark: provider change -> updated meeting, through a real push notification (issue 4).

Run (the embedded default: SQLite + django-q2's ORM broker, no other server):

    .venv/bin/python bench/bench_push_latency.py [--changes 20] [--web gunicorn|runserver]

What it does, all on loopback:
- starts a FakeGoogle in this process (one account, a few events) and a scratch DATA_DIR;
- migrates, creates a project, its Google OAuth app and a connected Calendar (a `manage.py
  shell` subprocess, so this process never sets Django up);
- starts the web server (gunicorn, as the Procfile) and the worker (`manage.py qcluster`),
  waits for /healthz;
- runs the first sync (`manage.py sync_calendars --all`); the worker then opens the push
  channel (calendars.jobs.ensure_push_channel, queued after the sync);
- N times, once the calendar is idle and after a random pause (so changes do not all land at
  the same phase of the worker's broker polling): renames one event at the fake (the fake POSTs
  a Google notification to /api/v1/push/google/), starts the clock, and polls the SQLite file
  (read-only) every ~20 ms until the meeting has the new title.

Prints the median, p90 and max latency, where the time went (notification answered; sync task
queued and finished, from django-q2's task records), and the machine. Bounded: `--timeout` per
change, `--budget` for the whole loop. Child processes are stopped in every case (their process
groups are killed); `--keep` leaves the scratch DATA_DIR with the web and worker logs.
"""

import argparse
import contextlib
import math
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import CONNECTED_CALENDAR, google_fake_env, wait_for  # noqa: E402
from bench.support import manage as run_manage  # noqa: E402

EMAIL = "push@bench.test"
POLL_SECONDS = 0.02


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our http URL)
            return response.status == 200
    except OSError:
        return False


def parse_ts(value: str | None) -> float | None:
    """A Django DateTimeField as SQLite stores it (UTC, naive text) -> epoch seconds."""
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Database:
    """Read-only access to the service's SQLite file (WAL: readers never block the writers)."""

    def __init__(self, path: Path):
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)

    def one(self, sql: str, params=()):
        return self.connection.execute(sql, params).fetchone()

    def all(self, sql: str, params=()):
        return self.connection.execute(sql, params).fetchall()

    def close(self) -> None:
        self.connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=20, help="title changes to time")
    parser.add_argument("--events", type=int, default=5, help="events in the calendar")
    parser.add_argument("--web", choices=("gunicorn", "runserver"), default="gunicorn")
    parser.add_argument(
        "--budget", type=float, default=600, help="give up on further changes after this many s"
    )
    parser.add_argument("--timeout", type=float, default=90, help="longest wait for one change (s)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch DATA_DIR")
    options = parser.parse_args()

    from cryptography.fernet import Fernet

    from tests.fakes.google import FakeGoogle

    data_dir = Path(tempfile.mkdtemp(prefix="calsync-push-bench-"))
    port = free_port()
    python = sys.executable
    processes: list[subprocess.Popen] = []
    logs = []
    db = None
    fake = FakeGoogle().start()
    try:
        fake.add_account(EMAIL)
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        event_ids = [
            fake.add_event(
                EMAIL,
                summary=f"Bench meeting {n}",
                start=start + timedelta(hours=2 * n),
                end=start + timedelta(hours=2 * n, minutes=30),
                location="https://meet.google.com/abc-defg-hij",
            )
            for n in range(options.events)
        ]
        refresh_token = fake.grant(EMAIL)

        env = dict(os.environ)
        for name in ("DATABASE_URL", "REDIS_URL", "CACHE_URL"):
            env.pop(name, None)  # the embedded default: SQLite + the ORM broker
        env.update(
            DEBUG="true",
            SECRET_KEY=Fernet.generate_key().decode() * 2,
            DATA_DIR=str(data_dir),
            PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
            PUSH_NOTIFICATIONS="true",
            LOG_LEVEL="WARNING",
            HOST="127.0.0.1",
            PORT=str(port),
            PYTHONUNBUFFERED="1",
            BENCH_PROJECT="push latency bench",
            **google_fake_env(fake, email=EMAIL, refresh_token=refresh_token),
        )

        def manage(*args: str, timeout: float = 120) -> str:
            return run_manage(python, env, *args, timeout=timeout)

        def spawn(name: str, command: list[str]) -> None:
            log = open(data_dir / f"{name}.log", "w")  # noqa: SIM115 (closed in finally)
            logs.append(log)
            processes.append(
                subprocess.Popen(  # noqa: S603 (our own command line)
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, killed as a whole
                )
            )

        manage("migrate", "--no-input", "--verbosity", "0", timeout=300)
        calendar_id = manage("shell", "-c", CONNECTED_CALENDAR).strip().splitlines()[-1]
        db = Database(data_dir / "db.sqlite3")

        if options.web == "gunicorn":
            gunicorn = Path(python).with_name("gunicorn")
            web = [str(gunicorn) if gunicorn.exists() else "gunicorn", "config.wsgi"]
            web += ["--bind", f"127.0.0.1:{port}", "--workers", env.get("WEB_CONCURRENCY", "2")]
            # As in the Procfile: no shared ~/.gunicorn/gunicorn.ctl between instances.
            web += ["--no-control-socket"]
        else:
            web = [python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
        spawn("web", web)
        spawn("worker", [python, "manage.py", "qcluster"])
        wait_for(lambda: healthy(f"http://127.0.0.1:{port}/healthz/"), timeout=60, what="/healthz")

        out = manage("sync_calendars", "--all")
        print("first sync:", out.strip().splitlines()[0])
        wait_for(
            lambda: db.one(
                "SELECT push_channel_id FROM calendars_calendar WHERE id = ?",
                [calendar_id.replace("-", "")],
            )[0],
            timeout=90,
            what="the worker to open the push channel",
        )
        wait_for(lambda: fake.active_channels(EMAIL), timeout=10, what="an active channel")
        print(f"push channel open ({len(fake.active_channels(EMAIL))} active at the fake)")

        latencies: list[float] = []
        rounds: list[tuple[float, float, float | None]] = []  # (change at, seen after, acked)
        jitter = random.Random(4)  # noqa: S311 (timing jitter, not a secret)
        began = time.monotonic()
        for n in range(options.changes):
            if time.monotonic() - began > options.budget:
                print(f"budget of {options.budget:.0f} s used up after {n} changes")
                break
            # Start from quiet: no sync due or running.
            wait_for(
                lambda: db.one(
                    "SELECT sync_due_at IS NULL AND sync_lease_owner = '' "
                    "FROM calendars_calendar WHERE id = ?",
                    [calendar_id.replace("-", "")],
                )[0],
                timeout=options.timeout,
                interval=POLL_SECONDS,
                what="the calendar to be idle",
            )
            # Settle, then change at a random moment: a fixed pause would land every change at
            # the same phase of the worker's broker polling and bias the figure.
            time.sleep(jitter.uniform(0.3, 1.3))
            event_id = event_ids[n % len(event_ids)]
            title = f"Renamed {n} {uuid.uuid4().hex[:8]}"
            deliveries_before = len(fake.deliverer.deliveries)
            changed_wall = time.time()
            changed = time.perf_counter()
            fake.update_event(event_id, summary=title)
            deadline = changed + options.timeout
            seen = None
            while time.perf_counter() < deadline:
                row = db.one(
                    "SELECT title FROM meetings_meeting WHERE platform_event_id = ?", [event_id]
                )
                if row and row[0] == title:
                    seen = time.perf_counter() - changed
                    break
                time.sleep(POLL_SECONDS)
            if seen is None:
                print(f"change {n + 1}: not seen within {options.timeout:.0f} s")
                continue
            latencies.append(seen)
            acked = None  # when our receiver answered the notification
            for delivery in fake.deliverer.deliveries[deliveries_before:]:
                if delivery.kind == "google.exists":
                    acked = delivery.at.timestamp() + delivery.duration - changed_wall
                    if delivery.error:
                        print(f"change {n + 1}: notification failed: {delivery.error}")
            rounds.append((changed_wall, seen, acked))
            print(
                f"change {n + 1:2}: {seen:6.3f} s"
                + (f"  (notification answered after {acked:.3f} s)" if acked is not None else "")
            )

        # Where the time went, from django-q2's task records (written by the cluster's monitor
        # after the task, so read at the end): `started` is when the receiver queued the sync,
        # `stopped` when the worker finished it; the rest of `seen` is the pick-up wait (the
        # ORM broker polls every `poll` seconds) and our 20 ms polling.
        time.sleep(1)
        tasks = [
            (parse_ts(started), parse_ts(stopped))
            for started, stopped in db.all(
                "SELECT started, stopped FROM django_q_task WHERE func = ? ORDER BY started",
                ["calendars.jobs.sync_calendar"],
            )
        ]
        queued_after, done_after, pickup_and_sync = [], [], []
        for changed_wall, seen, _ in rounds:
            task = next((t for t in tasks if t[0] >= changed_wall), None)
            if task and task[0] - changed_wall < seen:
                queued_after.append(task[0] - changed_wall)
                done_after.append(task[1] - changed_wall)
                pickup_and_sync.append(task[1] - task[0])

        print()
        print(
            f"machine: {os.cpu_count()} CPUs ({cpu_model()}), "
            f"{platform.system()} {platform.release()}, python {sys.version.split()[0]}; "
            f"web {options.web}, worker qcluster (SQLite + ORM broker)"
        )
        if latencies:
            print(
                f"notification -> updated meeting, {len(latencies)} of {options.changes} "
                f"changes: median {statistics.median(latencies):.3f} s, "
                f"p90 {percentile(latencies, 0.9):.3f} s, max {max(latencies):.3f} s, "
                f"min {min(latencies):.3f} s"
            )
            acks = [acked for _, _, acked in rounds if acked is not None]
            for label, values in (
                ("notification answered", acks),
                ("sync task queued", queued_after),
                ("sync task finished", done_after),
                ("queued -> finished (broker pick-up + sync)", pickup_and_sync),
            ):
                if values:
                    print(f"  {label}: median {statistics.median(values):.3f} s")
        else:
            print("no change was seen")
    except BaseException:
        for log in logs:
            log.flush()
            tail = Path(log.name).read_text(errors="replace").splitlines()[-15:]
            print(f"--- last lines of {log.name}:", *tail, sep="\n", file=sys.stderr)
        raise
    finally:
        if db is not None:
            db.close()
        for process in processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for log in logs:
            log.close()
        fake.stop()
        if options.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

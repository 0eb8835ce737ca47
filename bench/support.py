"""What the benchmarks that run the service in child processes share: the connected calendar
they set up, the fake's settings, waiting, and `manage.py` calls."""

import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# `manage.py shell -c` code: a project, its Google OAuth app and a connected calendar at the
# fake (BENCH_* variables); with BENCH_RECORD set, a calendar user who records every meeting.
# Prints the calendar's id.
CONNECTED_CALENDAR = """
import os
from calendars.models import Calendar, CalendarUser, OAuthApp
from projects.models import Project

project = Project.objects.create(name=os.environ["BENCH_PROJECT"])
OAuthApp.objects.create(
    project=project,
    platform="google",
    client_id=os.environ["BENCH_CLIENT_ID"],
    client_secret=os.environ["BENCH_CLIENT_SECRET"],
)
user = None
if os.environ.get("BENCH_RECORD"):
    user = CalendarUser.objects.create(
        project=project, external_id="bench", record_internal=True, record_external=True
    )
calendar = Calendar.objects.create(
    project=project,
    calendar_user=user,
    platform="google",
    email=os.environ["BENCH_EMAIL"],
    refresh_token=os.environ["BENCH_REFRESH_TOKEN"],
    state="connected",
)
print(calendar.pk)
"""


def google_fake_env(fake, *, email: str, refresh_token: str) -> dict[str, str]:
    """The service's settings for the fake, and what CONNECTED_CALENDAR reads."""
    return {
        "GOOGLE_OAUTH_AUTHORIZE_URL": fake.authorize_url,
        "GOOGLE_OAUTH_TOKEN_URL": fake.token_url,
        "GOOGLE_USERINFO_URL": fake.userinfo_url,
        "GOOGLE_CALENDAR_API_URL": fake.calendar_api_url,
        "BENCH_CLIENT_ID": fake.client_id,
        "BENCH_CLIENT_SECRET": fake.client_secret,
        "BENCH_EMAIL": email,
        "BENCH_REFRESH_TOKEN": refresh_token,
    }


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def manage(python: str, env: dict, *args: str, timeout: float = 300) -> str:
    """Run `manage.py` with the service's environment; its output, or an error with it."""
    done = subprocess.run(  # noqa: S603 (our own command line)
        [python, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    return done.stdout


def vacuum(connection, tables) -> None:
    """VACUUM ANALYZE these tables (PostgreSQL; nothing elsewhere): what autovacuum does to a
    production database between changes. Without it - where autovacuum is off, as on our CI
    machines - every run leaves dead rows behind and the next runs measure a table bloated
    many times over."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")

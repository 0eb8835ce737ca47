"""API fuzzing: Schemathesis over the live OpenAPI schema of a scratch calsync.

    .venv/bin/python .ci/fuzz.py                      # the CI budget (--examples 5)
    .venv/bin/python .ci/fuzz.py --examples 40        # a bigger run (about 5,000 cases)
    .venv/bin/python .ci/fuzz.py --database-url postgres://postgres@127.0.0.1:5432/calsync_fuzz

What it does: a fresh database (a scratch SQLite file, or the PostgreSQL database named, dropped
and created again) is migrated and seeded with one project: its API key, OAuth apps, a calendar
user whose Google calendar (at the loopback Google fake) is synced, so meetings and bots exist, a
server-API calendar and a webhook endpoint pointing at a loopback receiver. The service is then
started with the Procfile's `web` command (gunicorn) on 127.0.0.1, and Schemathesis runs every
phase over `/api/schema/` with a fixed seed: API-key operations with the project's key, the
Meeting BaaS v1 compatible operations (/compat/meetingbaas/) with the same key in their
`x-meeting-baas-api-key` header, the Calendar V1 token operations with a calendar auth token
minted through the API, and the Aitronos meeting-buddy operations (/compat/aitronos/) with the
same token as `Authorization: Bearer`. It fails on any 5xx and on any response that does not
match the schema (status, content type, headers, body).

Operations left out, and why: `DELETE /api/v1/api_keys/{id}/` (it could revoke the run's own key
and turn the rest of the run into 401s) and `DELETE /api/v1/calendar/user/` (it deletes the
user the token belongs to); `DELETE /api/v1/calendar_users/{external_id}/` is only sent with an
id no user has (the fuzzer renames users, the token's too). All three have ordinary tests.

Nothing leaves the machine: run as root, the whole run is in a network namespace of its own with
only the loopback interface (PostgreSQL is reached through its Unix socket); in any case the
service's name resolution answers loopback addresses only (`.ci/fuzz_netguard`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
ISOLATED = "CALSYNC_FUZZ_ISOLATED"
PG_SOCKET_DIR = "/var/run/postgresql"
FUZZ_USER = "fuzz-user"
# The only id DELETE /calendar_users/{external_id}/ is sent with: no user has it, and since no
# response ever shows it, no rename can give it to the token's user (a real decoy was renamed
# onto, then deleted with the token's user). Deleting a user has its ordinary tests.
ABSENT_USER = "fuzz-absent-user"
FUZZ_EMAIL = "fuzz.user@example.com"
GOOGLE_REFRESH_TOKEN = "1//0fake-fuzz-seed"
SKIPPED_OPERATIONS = ["v1_api_keys_destroy", "v1_calendar_user_destroy"]
# Every check but the data-acceptance ones (the schema cannot say that a cursor must be one we
# issued, or that a Google app takes no tenant) and response time.
# Schemathesis' closing count: "  2436 generated, 2436 passed, 84 skipped" or
# "  253 generated, 81 found 81 unique failures".
CASES_LINE = re.compile(r"^\s+(?P<cases>\d+) generated, (?:(?P<failed>\d+) found|\d+ passed)")
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--examples", type=int, default=5, help="cases per operation in the fuzzing phase"
    )
    parser.add_argument("--seed", type=int, default=20261213)
    parser.add_argument("--workers", type=int, default=1, help="concurrent Schemathesis workers")
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument(
        "--checks", default=",".join(CHECKS), help="Schemathesis checks (default: %(default)s)"
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL database to drop, create and use (default: a scratch SQLite file)",
    )
    parser.add_argument("--report-dir", default="", help="keep Schemathesis' reports here")
    parser.add_argument(
        "--no-isolation", action="store_true", help="do not use a network namespace"
    )
    return parser.parse_args()


def isolate(args: argparse.Namespace) -> None:
    """Re-run this script in a network namespace with only loopback, when we may (root)."""
    if os.environ.get(ISOLATED) or args.no_isolation or os.geteuid() != 0:
        return
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return
    if args.database_url and not Path(PG_SOCKET_DIR).is_dir():
        return  # PostgreSQL over TCP only: it would be out of reach in the namespace
    probe = subprocess.run(
        ["unshare", "--net", "true"], capture_output=True, check=False, timeout=30
    )
    if probe.returncode != 0:
        return
    command = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$0" "$@"']
    os.environ[ISOLATED] = "1"
    os.execvp("unshare", [*command, sys.executable, *sys.argv])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(args: argparse.Namespace, scratch: Path) -> str:
    if not args.database_url:
        return f"sqlite:///{scratch / 'fuzz.sqlite3'}"
    parts = urlsplit(args.database_url)
    if os.environ.get(ISOLATED) and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        # TCP to the host's loopback is out of reach from our namespace; the socket is not.
        user = f"{parts.username}@" if parts.username else ""
        parts = parts._replace(netloc=user, query=f"host={PG_SOCKET_DIR}")
    return urlunsplit(parts)


def recreate_postgres(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(
        urlunsplit(parts._replace(path="/postgres")), autocommit=True
    ) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def start_fakes():
    sys.path.insert(0, str(ROOT))
    from tests.fakes.generators import populate
    from tests.fakes.google import FakeGoogle
    from tests.fakes.microsoft import FakeMicrosoft
    from tests.fakes.receiver import WebhookReceiver

    google = FakeGoogle(port=free_port()).start()
    google.add_account(FUZZ_EMAIL, name="Fuzz User", time_zone="Europe/Berlin")
    populate(google, FUZZ_EMAIL, seed=1, n=60)
    google.grant(FUZZ_EMAIL, refresh_token=GOOGLE_REFRESH_TOKEN)
    microsoft = FakeMicrosoft(port=free_port()).start()
    receiver = WebhookReceiver().start()
    return google, microsoft, receiver


def service_environment(*, db_url: str, port: int, scratch: Path, google, microsoft) -> dict:
    from cryptography.fernet import Fernet

    return {
        "DEBUG": "false",
        "SECRET_KEY": os.urandom(32).hex(),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": db_url,
        "DATA_DIR": str(scratch),
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
        "PUSH_NOTIFICATIONS": "false",
        "HTTP_TIMEOUT_SECONDS": "5",
        "WEBHOOKS_TIMEOUT_SECONDS": "5",
        "GOOGLE_OAUTH_AUTHORIZE_URL": google.authorize_url,
        "GOOGLE_OAUTH_TOKEN_URL": google.token_url,
        "GOOGLE_USERINFO_URL": google.userinfo_url,
        "GOOGLE_CALENDAR_API_URL": google.calendar_api_url,
        "MICROSOFT_AUTHORITY_HOST": microsoft.authority_host,
        "MICROSOFT_GRAPH_URL": microsoft.graph_url,
        "REQUESTS_CA_BUNDLE": microsoft.ca_bundle_path,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }


def seed(google, microsoft, receiver) -> dict:
    """The project the fuzzer works in: its API key and the ids of what it holds."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from bots.models import Bot
    from calendars import services as calendar_services
    from calendars.providers.base import Grant
    from calendars.rule_services import rule_create
    from calendars.sync import sync_calendar_by_id
    from meetings.models import Meeting
    from projects.services import oauth_app_set, project_create
    from webhooks.models import WebhookEndpoint
    from webhooks.services import endpoint_send_test

    call_command("migrate", "--no-input", verbosity=0)
    project, raw_key = project_create(
        name="Fuzz", allowed_redirect_origins=["https://app.example.com"], api_key_name="fuzz"
    )
    oauth_app_set(
        project=project,
        platform="google",
        client_id=google.client_id,
        client_secret=google.client_secret,
    )
    oauth_app_set(
        project=project,
        platform="microsoft",
        client_id=microsoft.client_id,
        client_secret=microsoft.client_secret,
    )
    user = calendar_services.calendar_user_get_or_create(project=project, external_id=FUZZ_USER)
    calendar_services.calendar_user_update(
        calendar_user=user, preferences={"record_external": True}
    )
    grant = Grant(access_token="", refresh_token=GOOGLE_REFRESH_TOKEN, email=FUZZ_EMAIL)
    calendar = calendar_services.calendar_connect(
        calendar_user=user, platform="google", grant=grant
    )
    sync_calendar_by_id(calendar.pk)
    server_calendar = calendar_services.calendar_create(
        project=project,
        platform="google",
        client_id=google.client_id,
        client_secret=google.client_secret,
        refresh_token=GOOGLE_REFRESH_TOKEN,
        deduplication_key="fuzz-server-calendar",
        external_id="fuzz-server-user",
    )
    sync_calendar_by_id(server_calendar.pk)
    endpoint = WebhookEndpoint.objects.create(
        project=project,
        url=f"{receiver.url}/hooks",
        description="loopback receiver",
        allow_private_addresses=True,
    )
    delivery = endpoint_send_test(endpoint=endpoint)
    # Auto-join rules: one of the token's user, one project default.
    rules = [
        rule_create(
            project=project,
            calendar_user=user,
            data={"name": "Interviews", "match_mode": "keyword", "keywords": ["interview"]},
        ),
        rule_create(
            project=project,
            data={
                "name": "No standups",
                "action": "skip",
                "match_mode": "keyword",
                "keywords": ["standup"],
            },
        ),
    ]

    def upcoming(calendar_, n=5):
        meetings = Meeting.objects.filter(
            calendar=calendar_, is_deleted=False, end_time__gt=timezone.now()
        ).exclude(meeting_url="")
        return [str(pk) for pk in meetings.order_by("start_time").values_list("pk", flat=True)[:n]]

    ids = {
        "api_key": raw_key,
        "meeting_ids": upcoming(calendar),
        "object_ids": [
            *upcoming(server_calendar),
            *(
                str(pk)
                for pk in Bot.objects.filter(project=project).values_list("pk", flat=True)[:5]
            ),
            str(calendar.pk),
            str(server_calendar.pk),
            str(endpoint.pk),
            *(str(rule.pk) for rule in rules),
        ],
        "delivery_ids": [str(delivery.pk)],
        "calendar_ids": [str(calendar.pk), str(server_calendar.pk)],
        "external_ids": [FUZZ_USER, "fuzz-server-user"],
    }
    connections.close_all()
    return ids


def start_service(env: dict, scratch: Path) -> subprocess.Popen:
    web = next(
        line.split(":", 1)[1].strip()
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    service_env = {
        **os.environ,
        **env,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT / ".ci" / "fuzz_netguard"),
    }
    log = (scratch / "web.log").open("w")
    return subprocess.Popen(
        ["bash", "-c", f"exec {web}"],
        cwd=ROOT,
        env=service_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until_up(base: str, service: subprocess.Popen, scratch: Path) -> None:
    for _ in range(120):
        if service.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    print((scratch / "web.log").read_text(), file=sys.stderr)
    raise SystemExit("fuzz: the service did not start")


def mint_token(base: str, api_key: str) -> str:
    request = urllib.request.Request(  # noqa: S310 - loopback, ours
        f"{base}/api/v1/calendar/authenticate/",
        data=json.dumps({"user_id": FUZZ_USER}).encode(),
        headers={"Authorization": f"Token {api_key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)["token"]


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string for these values


def write_config(path: Path, *, base: str, ids: dict, token: str, args) -> None:
    skipped = "".join(
        f"\n[[operations]]\ninclude-operation-id = {toml_string(op)}\nenabled = false\n"
        for op in SKIPPED_OPERATIONS
    )
    # Half the path ids are real ones (meetings, events, bots, calendars, the endpoint and its
    # delivery), so writes reach the services and not only the 404.
    dictionaries = "".join(
        f"\n[dictionaries.{name}]\nvalues = [{', '.join(toml_string(v) for v in values)}]\n"
        for name, values in (
            ("meeting-ids", ids["meeting_ids"]),
            ("object-ids", ids["object_ids"]),
            ("delivery-ids", ids["delivery_ids"]),
            ("calendar-ids", ids["calendar_ids"]),
            ("external-ids", ids["external_ids"]),
        )
        if values
    )
    # The Meeting BaaS surface names its path ids `uuid`, and its event list needs a calendar.
    bindings = "".join(
        f'"{parameter}" = {{ dictionary = "{name}", probability = 0.5 }}\n'
        for parameter, name in (
            ("path.meeting_id", "meeting-ids"),
            ("path.id", "object-ids"),
            ("path.uuid", "object-ids"),
            ("path.delivery_id", "delivery-ids"),
            ("query.calendar_id", "calendar-ids"),
            ("path.event_id", "meeting-ids"),
            ("path.credential_id", "calendar-ids"),
            ("path.external_id", "external-ids"),
        )
        if ids[name.replace("-", "_")]
    )
    path.write_text(
        f"""base-url = {toml_string(base)}
seed = {args.seed}
workers = {args.workers}
request-timeout = 30

[generation]
max-examples = {args.examples}
database = "none"

# Sequences of calls with valid data only: a negative value for an id taken from a response
# (an empty string) makes the client collapse the path into another operation's.
[phases.stateful.generation]
mode = "positive"

[auth]
auto-signup = false

[parameters]
{bindings}
[auth.openapi.ApiKey]
api_key = {toml_string("Token " + ids["api_key"])}

[auth.openapi.MeetingBaasApiKey]
api_key = {toml_string(ids["api_key"])}

[auth.openapi.CalendarAuthToken]
api_key = {toml_string(token)}

[auth.openapi.AitronosBearer]
bearer = {toml_string(token)}
{dictionaries}{skipped}
# Ids drawn from earlier responses could name the token's own user.
[[operations]]
include-operation-id = "v1_calendar_users_destroy"
parameters = {{ "path.external_id" = {toml_string(ABSENT_USER)} }}
"""
    )


# Operations that destroy what the others need (the seeded calendars, meetings, endpoint): they
# run in a second pass, so the first one reaches real objects for as long as it runs.
DESTRUCTIVE = r"^(DELETE |POST /api/v1/calendar/user/disconnect/$)"


def run_schemathesis(
    config: Path, base: str, args, report_dir: Path, *, only: str
) -> tuple[int, int, int]:
    """Runs one pass; returns its exit code, how many cases it ran and how many failed."""
    command = [
        str(VENV_BIN / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{base}/api/schema/",
        "--checks",
        args.checks,
        "--phases",
        args.phases,
        "--report",
        "junit,ndjson",
        "--report-dir",
        str(report_dir),
        "--no-color",
        "--include-name-regex" if only == "destructive" else "--exclude-name-regex",
        DESTRUCTIVE,
    ]
    print(f"\nfuzz: {only} operations", flush=True)
    # Its working directory gets a cache folder: the scratch one, not the repository.
    with subprocess.Popen(
        command, cwd=config.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as run:
        cases = failed = 0
        for line in run.stdout:
            print(line, end="", flush=True)
            if match := CASES_LINE.match(line):
                cases = int(match["cases"])
                failed = int(match["failed"] or 0)
    if run.returncode and not failed:
        failed = 1  # an error without a counted failure (the schema did not load...)
    return run.returncode, cases, failed


def main() -> int:
    args = parse_args()
    isolate(args)
    print(
        "fuzz: network namespace of its own (loopback only)"
        if os.environ.get(ISOLATED)
        else "fuzz: no network namespace; the service resolves loopback names only",
        flush=True,
    )
    scratch = Path(tempfile.mkdtemp(prefix="calsync-fuzz-"))
    service = None
    fakes = ()
    try:
        db_url = database_url(args, scratch)
        if db_url.startswith("postgres"):
            recreate_postgres(db_url)
        fakes = start_fakes()
        google, microsoft, receiver = fakes
        port = free_port()
        env = service_environment(
            db_url=db_url, port=port, scratch=scratch, google=google, microsoft=microsoft
        )
        os.environ.update(env)
        ids = seed(google, microsoft, receiver)
        service = start_service(env, scratch)
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, service, scratch)
        token = mint_token(base, ids["api_key"])
        config = scratch / "schemathesis.toml"
        write_config(config, base=base, ids=ids, token=token, args=args)
        report_dir = Path(args.report_dir) if args.report_dir else scratch / "report"
        passes = [
            run_schemathesis(config, base, args, report_dir, only=only)
            for only in ("non-destructive", "destructive")
        ]
        code = max(code for code, _, _ in passes)
        shutil.copy(scratch / "web.log", report_dir / "web.log")  # tracebacks of any 500
        errors = [
            line
            for line in (scratch / "web.log").read_text().splitlines()
            if "Traceback" in line or "ERROR" in line
        ]
        if errors:
            print(f"fuzz: the service logged {len(errors)} error lines; first ones:")
            print("\n".join(errors[:20]))
        cases = sum(cases for _, cases, _ in passes)
        failed = sum(failed for _, _, failed in passes)
        print(f"fuzz: {cases - failed} passed, {failed} failed")
        return code
    finally:
        if service is not None and service.poll() is None:
            os.killpg(service.pid, signal.SIGTERM)
            try:
                service.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(service.pid, signal.SIGKILL)
        for fake in fakes:
            fake.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

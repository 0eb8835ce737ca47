"""The quick start as a newcomer meets it (issue 17, item 5): the public URL follows PORT, a
landing page at /, the demo webhook receiver, a request log without a line per static file,
progress in long commands, the database in pytest's header, the demo's soon meeting and its
bot, and `./dev`'s checks before it changes anything."""

import io
import json
import logging
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import OutputWrapper

from config.middleware import _request_log_level
from config.progress import Progress

ROOT = Path(__file__).resolve().parents[2]


# --- PUBLIC_BASE_URL follows PORT -----------------------------------------------------------------


def read_setting(name: str, **overrides: str) -> str:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PORT", "PUBLIC_BASE_URL", "DEBUG", "DATABASE_URL", "REDIS_URL"}
    }
    environ.update(DATA_DIR="/tmp/calsync-settings-test", DJANGO_SETTINGS_MODULE="config.settings")
    environ.update(overrides)
    code = f"from django.conf import settings; print(settings.{name})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_public_base_url_follows_port():
    assert read_setting("PUBLIC_BASE_URL") == "http://localhost:8000"
    assert read_setting("PUBLIC_BASE_URL", PORT="8611") == "http://localhost:8611"
    # Set explicitly, it wins (a proxy's public name).
    assert (
        read_setting("PUBLIC_BASE_URL", PORT="8611", PUBLIC_BASE_URL="https://cal.example.com/")
        == "https://cal.example.com"
    )


def test_the_oauth_redirect_uses_the_port(settings):
    from calendars.oauth import callback_url

    settings.PUBLIC_BASE_URL = read_setting("PUBLIC_BASE_URL", PORT="8611")
    assert callback_url("google").startswith("http://localhost:8611/")


# --- / is a landing page; /api/ keeps its JSON 404s ----------------------------------------------


@pytest.mark.django_db
def test_landing_page_links_the_places_to_start(client, settings):
    settings.DEBUG = True
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    for href in ('href="/api/docs/"', 'href="/admin/"', 'href="/healthz"', "#readme"):
        assert href in page
    assert 'href="/demo/webhooks/"' in page


@pytest.mark.django_db
def test_landing_page_hides_the_demo_receiver_in_production(client, settings):
    settings.DEBUG = False
    page = client.get("/").content.decode()
    assert "/demo/webhooks/" not in page and 'href="/api/docs/"' in page


@pytest.mark.django_db
def test_api_404s_stay_json(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"
    assert client.post("/").status_code == 405


# --- the demo's webhook receiver ------------------------------------------------------------------


@pytest.fixture
def demo_receiver(settings, tmp_path):
    settings.DEBUG = True
    settings.DATA_DIR = tmp_path
    return tmp_path / "demo-webhooks.jsonl"


def test_demo_receiver_records_and_shows_deliveries(client, demo_receiver):
    body = {"id": "msg_1", "event": "bot.dispatch", "data": {"bot": {"id": "b1"}}}
    response = client.post(
        "/demo/webhooks/",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_WEBHOOK_ID="msg_1",
    )
    assert response.status_code == 204
    entry = json.loads(demo_receiver.read_text().splitlines()[-1])
    assert entry["webhook_id"] == "msg_1" and json.loads(entry["body"]) == body
    page = client.get("/demo/webhooks/").content.decode()
    assert "bot.dispatch" in page and "msg_1" in page


def test_demo_receiver_is_loopback_and_development_only(client, demo_receiver, settings):
    outside = client.post("/demo/webhooks/", data="{}", content_type="application/json",
                          REMOTE_ADDR="203.0.113.9")  # fmt: skip
    assert outside.status_code == 404
    settings.DEBUG = False
    assert client.get("/demo/webhooks/").status_code == 404
    assert (
        client.post("/demo/webhooks/", data="{}", content_type="application/json").status_code
        == 404
    )
    assert not demo_receiver.exists()


# --- the request log skips served static files -----------------------------------------------------


def test_static_files_are_logged_at_debug_only():
    assert _request_log_level("/static/admin/css/base.css", 200) == logging.DEBUG
    assert _request_log_level("/static/admin/css/base.css", 304) == logging.DEBUG
    assert _request_log_level("/static/missing.css", 404) == logging.INFO
    assert _request_log_level("/api/v1/project/", 200) == logging.INFO
    assert _request_log_level("/staticky", 200) == logging.INFO


@pytest.mark.django_db
def test_request_log_keeps_other_requests(client, caplog):
    with caplog.at_level(logging.INFO, logger="calsync.request"):
        client.get("/")
    assert [r.getMessage() for r in caplog.records if r.name == "calsync.request"] == ["GET / 200"]


# --- progress in long commands --------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_plain_lines_off_a_terminal():
    out = io.StringIO()
    progress = Progress(2, stream=OutputWrapper(out))
    progress.advance("a synced")
    progress.advance("b failed")
    progress.finish()
    assert out.getvalue() == "1/2 a synced\n2/2 b failed\n"


def test_progress_bar_on_a_terminal():
    out = Terminal()
    progress = Progress(2, stream=OutputWrapper(out))
    progress.advance("a synced")
    progress.advance("b synced")
    progress.finish()
    text = out.getvalue()
    assert text.startswith("[" + "." * 30 + "] 0/2")
    assert "\r\x1b[Ka synced\n[" + "#" * 15 + "." * 15 + "] 1/2" in text
    assert text.endswith("\r\x1b[Kb synced\n[" + "#" * 30 + "] 2/2\n")


@pytest.mark.django_db
def test_long_commands_draw_a_bar_on_a_terminal():
    out = Terminal()
    call_command("reencrypt_secrets", stdout=out)
    assert "\r\x1b[K" in out.getvalue() and "] " in out.getvalue()
    plain = io.StringIO()
    call_command("reencrypt_secrets", stdout=plain)
    assert "\r" not in plain.getvalue() and "row(s) re-encrypted." in plain.getvalue()


# --- pytest's header --------------------------------------------------------------------------------


def test_pytest_header_names_the_database_without_its_password(settings, monkeypatch):
    from django.db import connection

    from tests.conftest import pytest_report_header

    monkeypatch.setitem(settings.DATABASES["default"], "PASSWORD", "hunter2")
    header = pytest_report_header(None)
    assert header.startswith(f"database: {connection.vendor}")
    assert "hunter2" not in header
    if connection.vendor == "postgresql":
        assert settings.DATABASES["default"]["NAME"] in header


# --- the demo: a meeting a few minutes ahead, its bot and its webhook ------------------------------


@pytest.mark.django_db(transaction=True)  # the sync commits as it goes
def test_demo_has_a_bot_dispatched_within_minutes(fake_google, monkeypatch):
    from bots.dispatch import dispatch_bot
    from bots.models import Bot
    from tests.fakes.generators import add_meeting_soon
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)
    email = "dana.lee@example.com"
    fake_google.add_account(email, name="Dana Lee")
    add_meeting_soon(fake_google, email, minutes_ahead=4)
    fake_google.grant(email, refresh_token="1//0fake-demo")
    receiver = "http://127.0.0.1:8000/demo/webhooks/"
    demo = (
        f"--demo-google={email}",
        f"--google-client-id={fake_google.client_id}",
        f"--google-client-secret={fake_google.client_secret}",
        "--google-refresh-token=1//0fake-demo",
        f"--demo-webhook-url={receiver}",
    )
    for _ in range(2):  # repeatable: one endpoint, however often the demo starts
        out = io.StringIO()
        call_command("setup_demo", *demo, stdout=out)
    lines = out.getvalue().splitlines()
    assert "Bots:         1 scheduled" in lines
    next_bot = next(line for line in lines if line.startswith("Next bot:"))
    assert "Demo: customer call with Globex" in next_bot

    bot = Bot.objects.get(status=Bot.Status.SCHEDULED)
    meeting = bot.meetings.get()
    assert bot.join_at == meeting.start_time - timedelta(seconds=120)
    assert timedelta(minutes=1) <= bot.join_at - fake_google.now() <= timedelta(minutes=4)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.url == receiver and endpoint.allow_private_addresses
    assert endpoint.event_types == ["bot.dispatch", "bot.status_change"]

    with time_machine.travel(bot.join_at + timedelta(seconds=5), tick=False):
        assert dispatch_bot(bot_id=bot.pk, join_at=bot.join_at) == "dispatched"
    events = set(
        WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event_type", flat=True)
    )
    assert "bot.dispatch" in events


# --- ./dev checks before it changes anything ----------------------------------------------------------


def run_dev(*args: str, data_dir: Path, **environ: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"PORT", "VIRTUAL_ENV", "DATABASE_URL"}}
    env.update(DATA_DIR=str(data_dir), **environ)
    # Not activated: the commands must work from a plain shell.
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p
    )
    return subprocess.run(
        [str(ROOT / "dev"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_dev_up_refuses_a_busy_port_before_touching_anything(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_dev("up", data_dir=tmp_path, PORT=str(port))
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is in use" in result.stderr
    assert "API key" not in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no database, no pid file left


def test_second_dev_up_leaves_the_running_one_alone(tmp_path):
    running = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / "dev-up.pid").write_text(f"{running.pid} 8123\n")
        result = run_dev("up", data_dir=tmp_path, PORT="8124")
        assert result.returncode == 1
        assert f"already running from this folder (./dev up, pid {running.pid})" in result.stderr
        assert "http://localhost:8123/" in result.stderr
        assert (tmp_path / "dev-up.pid").read_text() == f"{running.pid} 8123\n"
        assert not (tmp_path / "db.sqlite3").exists()
        # ./dev reset will not pull the data from under it either.
        assert run_dev("reset", data_dir=tmp_path).returncode == 1
        assert (tmp_path / "dev-up.pid").exists()
    finally:
        running.kill()
        running.wait()
    assert run_dev("reset", data_dir=tmp_path).returncode == 0
    assert not tmp_path.exists()


def test_a_stale_pid_file_does_not_block_dev_up(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    (tmp_path / "dev-up.pid").write_text(f"{gone.pid} 8123\n")
    with socket.socket() as busy:  # stop it right after the pid file check, at the port check
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run_dev("up", data_dir=tmp_path, PORT=str(busy.getsockname()[1]))
    assert "already running" not in result.stderr and "is in use" in result.stderr
    assert not (tmp_path / "dev-up.pid").exists()  # taken over, and released at exit


def test_dev_manage_runs_commands_without_an_activated_virtualenv(tmp_path):
    result = run_dev("manage", "help", "sync_calendars", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--all" in result.stdout


# --- a prompt stop ---------------------------------------------------------------------------------


def test_gunicorn_graceful_timeout_is_set_from_the_environment(monkeypatch):
    import gc
    import importlib

    from config import gunicorn as gunicorn_settings

    monkeypatch.setenv("WEB_GRACEFUL_TIMEOUT", "1")
    assert importlib.reload(gunicorn_settings).graceful_timeout == 1
    monkeypatch.delenv("WEB_GRACEFUL_TIMEOUT")
    assert importlib.reload(gunicorn_settings).graceful_timeout == 30
    # An exiting worker keeps the app out of the final collection (a fast exit).
    try:
        gunicorn_settings.worker_exit(None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()

"""The Procfile's gunicorn accepts the request lines the service documents (an OAuth callback
with an 8,192-character `state`) and refuses longer ones (issue 13, section 6)."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from calendars.oauth import MAX_STATE_LENGTH
from config import gunicorn as gunicorn_settings

ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "/api/v1/calendar/google_oauth_callback/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """The Procfile's web line, as honcho runs it, on a free loopback port."""
    line = next(
        line.removeprefix("web:").strip()
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    assert "-c python:config.gunicorn" in line
    port = free_port()
    data_dir = tmp_path_factory.mktemp("gunicorn")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}",
    }
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        ["bash", "-c", f"exec {line}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"gunicorn did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
    yield port
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def get(port: int, target: str, headers: str = "") -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers_seen = {
        name.strip().lower(): value.strip()
        for name, value in (line.split(":", 1) for line in header_lines)
    }
    return int(status_line.split()[1]), headers_seen, body


def longest_state() -> str:
    """A state of exactly MAX_STATE_LENGTH characters, mostly characters that percent-encode."""
    state = {"recall_calendar_auth_token": "x", "success_url": "https://app.example.com/"}
    pad = MAX_STATE_LENGTH - len(json.dumps(state, separators=(",", ":"))) - len(',"pad":""')
    state["pad"] = ("/:?&=" * MAX_STATE_LENGTH)[:pad]
    text = json.dumps(state, separators=(",", ":"))
    assert len(text) == MAX_STATE_LENGTH
    return text


def test_callback_with_the_longest_state_reaches_the_service(web):
    target = f"{CALLBACK}?state={quote(longest_state(), safe='')}&code={'4/0A' + 'c' * 2000}"
    assert len(target) > 8190  # gunicorn's own ceiling, and its default was 4,094
    status, headers, body = get(web, target)
    # Our page, not gunicorn's: the service answered (with the state's own error).
    assert "x-request-id" in headers
    assert status == 400 and b"Calendar connection failed" in body


def test_request_line_over_the_limit_is_414(web):
    target = f"{CALLBACK}?state={'a' * gunicorn_settings.limit_request_line}"
    status, headers, _ = get(web, target)
    assert status == 414
    assert "x-request-id" not in headers


def test_header_up_to_its_limit_is_accepted(web):
    name = "X-Padding"
    value = "v" * (gunicorn_settings.limit_request_field_size - len(name) - 10)
    status, headers, _ = get(web, "/api/v1/nothing/", f"{name}: {value}\r\n")
    assert status == 404 and "x-request-id" in headers

"""A tiny loopback webhook endpoint for tests: records what the fakes push to it.

By default it answers 202, and answers Graph's validation handshake correctly (200,
`text/plain`, the decoded `validationToken`). Tests can make it misbehave per path.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address) -> None:
        pass  # the fake gave up waiting (timeout tests): nothing to report


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Behaviour:
    status: int = 202
    delay: float = 0.0
    #: "echo" (correct), "wrong" (echo something else), "json" (right text, wrong type), "ignore"
    validation: str = "echo"


class WebhookReceiver:
    """`with WebhookReceiver() as hooks:` then point the fakes at `hooks.url + "/google"` etc."""

    def __init__(self):
        self._lock = threading.Condition()
        self._requests: list[ReceivedRequest] = []
        self._behaviours: dict[str, Behaviour] = {}
        self.default = Behaviour()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = ReceivedRequest(
                    "POST",
                    parts.path,
                    parse_qs(parts.query),
                    dict(self.headers.items()),
                    body,
                )
                behaviour = receiver.behaviour_for(parts.path)
                if behaviour.delay:
                    time.sleep(behaviour.delay)
                status, content_type, reply = receiver._reply(request, behaviour)
                with receiver._lock:
                    receiver._requests.append(request)
                    receiver._lock.notify_all()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_PUT = do_PATCH = do_POST

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "receiver not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def behave(self, path: str | None = None, **changes: Any) -> None:
        """Set how `path` (or, with None, every path) answers: `status`, `delay`, `validation`."""
        with self._lock:
            if path is None:
                for name, value in changes.items():
                    setattr(self.default, name, value)
            else:
                current = self._behaviours.get(path, Behaviour(**vars(self.default)))
                for name, value in changes.items():
                    setattr(current, name, value)
                self._behaviours[path] = current

    def behaviour_for(self, path: str) -> Behaviour:
        with self._lock:
            return self._behaviours.get(path, self.default)

    @staticmethod
    def _reply(request: ReceivedRequest, behaviour: Behaviour) -> tuple[int, str, bytes]:
        token = request.query.get("validationToken")
        if token and behaviour.validation != "ignore":
            if behaviour.validation == "wrong":
                return 200, "text/plain", b"not the token"
            if behaviour.validation == "json":
                return 200, "application/json", token[0].encode()
            return 200, "text/plain; charset=utf-8", token[0].encode()
        return behaviour.status, "text/plain", b""

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def received(self, path: str | None = None) -> list[ReceivedRequest]:
        """Requests so far (optionally for one path), validation handshakes excluded."""
        return [
            r
            for r in self.requests
            if "validationToken" not in r.query and (path is None or r.path == path)
        ]

    def wait_for(
        self,
        count: int = 1,
        *,
        path: str | None = None,
        timeout: float = 5.0,
        where: Callable[[ReceivedRequest], bool] = lambda r: True,
    ) -> list[ReceivedRequest]:
        """Block until `count` matching non-handshake requests arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                matching = [r for r in self.received(path) if where(r)]
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"got {len(matching)} of {count} requests")
                self._lock.wait(remaining)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

"""A loopback HTTP server for tests: records every request and answers as scripted."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int = 0  # the sender's port: one per connection


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class Receiver:
    """`Receiver().start()` listens on 127.0.0.1 (or `::1`) on a free port.

    `answer` is what every request gets; `script` (a list of Answers) is used first, one per
    request. While `hold` is clear, requests wait (up to 10 s) before being answered: a receiver
    that is too slow. `stop()` closes the port (a receiver that is down); `start()` reopens it.
    """

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.port = 0
        self.received: list[Received] = []
        self.answer = Answer()
        self.script: list[Answer] = []
        self.hold = threading.Event()
        self.hold.set()
        self._lock = threading.Lock()
        self._server: _Server | None = None

    def url(self, path: str = "/hook", host: str | None = None) -> str:
        host = host or self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}{path}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(
                        Received(
                            self.command,
                            self.path,
                            dict(self.headers.items()),
                            body,
                            self.client_address[1],
                        )
                    )
                    answer = receiver.script.pop(0) if receiver.script else receiver.answer
                receiver.hold.wait(10)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        server_class = _Server6 if ":" in self.host else _Server
        self._server = server_class((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self.hold.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

"""Shared machinery for the loopback provider fakes.

One `FakeServer` is one `ThreadingHTTPServer` on 127.0.0.1 (ephemeral port) running in a
background thread. The same port speaks plain HTTP and HTTPS: the first byte of each connection
decides (a TLS handshake starts with 0x16). HTTPS exists because msal refuses `http://`
authorities; its certificate comes from a throwaway CA generated once per process (`tls_files()`).

Subclasses register routes (`self.route(...)`) and render provider-shaped errors
(`error_response`). Everything a test may want to look at - received requests, counters,
outbound deliveries, internal errors - is recorded here, under one lock.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime as dt
import email.utils
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

UTC = dt.UTC
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(UTC)


class FakeClock:
    """A controllable `now()` for the fakes (and for the code under test, if it accepts one).

    >>> clock = FakeClock(dt.datetime(2024, 6, 1, 12, tzinfo=UTC)); clock.advance(minutes=5)
    """

    def __init__(self, start: dt.datetime | None = None):
        self._now = start or utc_now().replace(microsecond=0)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        with self._lock:
            self._now += (delta or dt.timedelta()) + dt.timedelta(**kwargs)
            return self._now

    def set(self, when: dt.datetime) -> None:
        with self._lock:
            self._now = when


def new_id(nbytes: int = 16) -> str:
    return secrets.token_urlsafe(nbytes).rstrip("=")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def http_date(when: dt.datetime) -> str:
    return email.utils.format_datetime(when.astimezone(UTC), usegmt=True)


# --- Requests and responses ----------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any  # http.client.HTTPMessage: case-insensitive .get()
    body: bytes
    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """`scheme://host:port` exactly as the client addressed us (used for absolute links)."""
        return f"{self.scheme}://{self.headers.get('Host', '127.0.0.1')}"

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def arg_ci(self, name: str) -> str | None:
        """Case-insensitive query lookup (Graph treats `startDateTime` and `startdatetime` alike)."""
        lowered = name.lower()
        for key, values in self.query.items():
            if key.lower() == lowered and values:
                return values[0]
        return None

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def bearer_token(self) -> str | None:
        value = self.headers.get("Authorization") or ""
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class Abort(Exception):
    """Raised by handlers to answer early with a ready-made (usually error) response."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def json_response(
    status: int, payload: Any, headers: dict[str, str] | None = None, *, content_type: str = ""
) -> Response:
    """`payload` may be pre-serialised (str/bytes) so big pages can be assembled from cached JSON."""
    if isinstance(payload, bytes):
        body = payload
    elif isinstance(payload, str):
        body = payload.encode()
    else:
        body = json.dumps(payload, separators=(",", ":")).encode()
    all_headers = {"Content-Type": content_type or "application/json; charset=UTF-8"}
    all_headers.update(headers or {})
    return Response(status, body, all_headers)


_encoder = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def dumps(payload: Any) -> str:
    return _encoder.encode(payload)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int
    route: str | None
    at: dt.datetime

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class FailureRule:
    remaining: int
    status: int
    retry_after: float | None
    path_prefix: str
    method: str | None
    reason: str | None

    def matches(self, request: Request) -> bool:
        return request.path.startswith(self.path_prefix) and (
            self.method is None or self.method == request.method
        )


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[Request], Response]
    name: str


# --- Outbound deliveries (push notifications, validation handshakes) -----------------------------


@dataclass
class Delivery:
    kind: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None
    response_body: bytes = b""
    response_headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    duration: float = 0.0
    at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def post(
    url: str, body: bytes, headers: dict[str, str], timeout: float, kind: str = "post"
) -> Delivery:
    """POST with `http.client` (no proxies, no default Content-Type, invisible to `responses`).

    Never raises: failures are part of the returned `Delivery`. HTTPS receivers are not
    verified (they are loopback test servers).
    """
    delivery = Delivery(kind=kind, url=url, headers=dict(headers), body=body, at=utc_now())
    started = time.monotonic()
    try:
        parts = urlsplit(url)
        if parts.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname,
                parts.port,
                timeout=timeout,
                context=ssl._create_unverified_context(),
            )
        elif parts.scheme == "http":
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        else:
            raise ValueError(f"unsupported URL {url!r}")
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            connection.request("POST", target, body=body, headers=headers)
            reply = connection.getresponse()
            delivery.status = reply.status
            delivery.response_headers = dict(reply.getheaders())
            delivery.response_body = reply.read()
        finally:
            connection.close()
        if not 200 <= reply.status < 300:
            delivery.error = f"HTTP {reply.status}"
    except (OSError, ValueError, http.client.HTTPException) as exc:  # refused, timeout, bad URL
        delivery.error = f"{type(exc).__name__}: {exc}"
    delivery.duration = time.monotonic() - started
    return delivery


class Deliverer:
    """Sends notifications in order from one background thread, or inline when `synchronous`."""

    def __init__(self, *, synchronous: bool = False, timeout: float = 5.0):
        self.synchronous = synchronous
        self.timeout = timeout
        self._lock = threading.Condition()
        self._queue: list[tuple[str, str, bytes, dict[str, str], Callable[[Delivery], None]]] = []
        self._busy = False
        self._stopped = False
        self.deliveries: list[Delivery] = []
        self._thread = threading.Thread(target=self._run, name="fake-deliverer", daemon=True)
        self._thread.start()

    def send(
        self,
        kind: str,
        url: str,
        body: bytes,
        headers: dict[str, str],
        on_done: Callable[[Delivery], None] = lambda d: None,
    ) -> None:
        if self.synchronous:
            self._deliver(kind, url, body, headers, on_done)
            return
        with self._lock:
            self._queue.append((kind, url, body, headers, on_done))
            self._lock.notify_all()

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until everything queued so far has been attempted. False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
        return True

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
        self._thread.join(timeout=2)

    def _deliver(self, kind, url, body, headers, on_done) -> None:
        delivery = post(url, body, headers, self.timeout, kind)
        with self._lock:
            self.deliveries.append(delivery)
        on_done(delivery)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopped:
                    self._lock.wait()
                if self._stopped:
                    return
                item = self._queue.pop(0)
                self._busy = True
            try:
                self._deliver(*item)
            finally:
                with self._lock:
                    self._busy = False
                    self._lock.notify_all()


# --- TLS material --------------------------------------------------------------------------------

_tls_lock = threading.Lock()
_tls_cache: dict[str, str] = {}


def tls_files() -> dict[str, str]:
    """Paths of a throwaway CA and a 127.0.0.1/localhost server certificate signed by it.

    Keys: `ca` (CA certificate), `cert`, `key`, `bundle` (the system CA bundle plus our CA, for
    `REQUESTS_CA_BUNDLE`). Generated once per process into a temporary directory.
    """
    with _tls_lock:
        if not _tls_cache:
            _tls_cache.update(_generate_tls_files())
        return dict(_tls_cache)


# Valid for years either side of "now": the first fake of a test process may start under a
# frozen clock (time_machine) years away from the real one, which TLS checks against.
VALIDITY = dt.timedelta(days=3650)


def _generate_tls_files() -> dict[str, str]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = utc_now()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "calsync test fakes CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - VALIDITY)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - VALIDITY)
        .not_valid_after(now + VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder = tempfile.mkdtemp(prefix="calsync-fakes-tls-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    paths = {name: os.path.join(folder, f"{name}.pem") for name in ("ca", "cert", "key", "bundle")}
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    with open(paths["ca"], "wb") as f:
        f.write(ca_pem)
    with open(paths["cert"], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["key"], "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    system_bundle = b""
    for candidate in (os.environ.get("REQUESTS_CA_BUNDLE"), _certifi_where()):
        if candidate and os.path.isfile(candidate):
            with open(candidate, "rb") as f:
                system_bundle = f.read()
            break
    with open(paths["bundle"], "wb") as f:
        f.write(system_bundle.rstrip() + b"\n" + ca_pem)
    return paths


def _certifi_where() -> str | None:
    try:
        import certifi
    except ImportError:
        return None
    return certifi.where()


# --- The server ----------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: benchmarks reuse connections
    server_version = "calsync-fake/1.0"
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = self._read_chunked()
        scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
        fake = self.server.fake
        if fake.api_delay and self.path.startswith(fake.api_prefix):
            time.sleep(fake.api_delay)  # a slow provider (benchmarks: a sync that takes a while)
        response = fake._dispatch(self.command, self.path, self.headers, body, scheme)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status not in (204, 304):
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.status not in (204, 304) and response.body:
            self.wfile.write(response.body)

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, fake: FakeServer, ssl_context: ssl.SSLContext):
        self.fake = fake
        self.ssl_context = ssl_context
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address) -> None:
        connection = request
        try:
            request.settimeout(_Handler.timeout)
            first = request.recv(1, socket.MSG_PEEK)
            if not first:
                return
            if first == b"\x16":
                connection = self.ssl_context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            self.RequestHandlerClass(connection, client_address, self)
        finally:
            if connection is not request:
                with contextlib.suppress(OSError):
                    connection.close()

    def handle_error(self, request, client_address) -> None:
        pass  # client hung up mid-request: not interesting


class FakeServer:
    """Base class: lifecycle, routing, recording, failure injection, outbound delivery."""

    #: scheme of `.url`; both schemes are served on the same port regardless
    default_scheme = "http"
    #: path prefix that `fail_next()` targets when no `path_prefix` is given
    api_prefix = "/"
    #: seconds every API request (under `api_prefix`) waits before it is answered
    api_delay = 0.0

    def __init__(
        self,
        *,
        now: Clock | None = None,
        synchronous_delivery: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.now: Clock = now or utc_now
        self.lock = threading.RLock()
        self._routes: list[_Route] = []
        self._requests: list[RecordedRequest] = []
        self._path_counts: Counter[str] = Counter()
        self._route_counts: Counter[str] = Counter()
        self._failures: list[FailureRule] = []
        self.internal_errors: list[str] = []
        self.deliverer = Deliverer(synchronous=synchronous_delivery)
        self._host = host
        self._port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeServer:
        if self._httpd is not None:
            return self
        files = tls_files()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(files["cert"], files["key"])
        self._httpd = _HTTPServer((self._host, self._port), self, context)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self.deliverer.stop()
        self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("fake server is not running; use start() or a with block")
        return self._httpd.server_address[1]

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Base URL, no trailing slash."""
        return self.https_url if self.default_scheme == "https" else self.http_url

    @property
    def ca_path(self) -> str:
        """CA certificate that signs the HTTPS side (pass as `verify=` to requests/msal)."""
        return tls_files()["ca"]

    @property
    def ca_bundle_path(self) -> str:
        """System CA bundle + `ca_path`: suitable for `REQUESTS_CA_BUNDLE`."""
        return tls_files()["bundle"]

    # routing --------------------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Callable[[Request], Response], name: str):
        """Register `handler` for `method` and a path regex (named groups become `params`)."""
        self._routes.append(_Route(method, re.compile(f"^{pattern}$"), handler, name))

    def _dispatch(self, method: str, target: str, headers, body: bytes, scheme: str) -> Response:
        parts = urlsplit(target)
        request = Request(
            method=method,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            body=body,
            scheme=scheme,
        )
        route = None
        path_matched = False
        for candidate in self._routes:
            match = candidate.pattern.match(parts.path)
            if match:
                path_matched = True
                if candidate.method == method:
                    route = candidate
                    request.params = {
                        k: unquote(v) for k, v in match.groupdict().items() if v is not None
                    }
                    break
        try:
            failure = self._take_failure(request)
            if failure is not None:
                response = self.failure_response(request, failure)
            elif route is None:
                response = self.error_response(request, 405 if path_matched else 404)
            else:
                response = route.handler(request)
        except Abort as abort:
            response = abort.response
        except Exception:
            self.internal_errors.append(traceback.format_exc())
            response = self.error_response(request, 500)
        self._record(request, response, route.name if route else None)
        return response

    # recording ------------------------------------------------------------------------------

    def _record(self, request: Request, response: Response, route: str | None) -> None:
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            headers=dict(request.headers.items()),
            body=request.body,
            status=response.status,
            route=route,
            at=self.now(),
        )
        with self.lock:
            self._requests.append(recorded)
            self._path_counts[request.path] += 1
            if route:
                self._route_counts[route] += 1

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.lock:
            return list(self._requests)

    def count(
        self, path: str | None = None, *, route: str | None = None, method: str | None = None
    ) -> int:
        """Requests received: in total, for an exact `path`, or for a named `route`
        (e.g. `"events.list"`), optionally only with `method`."""
        with self.lock:
            if method is None and route is None and path is None:
                return len(self._requests)
            if method is None and route is None:
                return self._path_counts[path]
            if method is None and path is None:
                return self._route_counts[route]
            return sum(
                1
                for r in self._requests
                if (path is None or r.path == path)
                and (route is None or r.route == route)
                and (method is None or r.method == method)
            )

    def counts(self) -> dict[str, int]:
        """Requests per path."""
        with self.lock:
            return dict(self._path_counts)

    def route_counts(self) -> dict[str, int]:
        with self.lock:
            return dict(self._route_counts)

    def reset_requests(self) -> None:
        with self.lock:
            self._requests.clear()
            self._path_counts.clear()
            self._route_counts.clear()

    # failure injection ----------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 429,
        *,
        retry_after: float | None = None,
        path_prefix: str | None = None,
        method: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Answer the next `n` matching requests with an error in the provider's shape.

        Matching: path starts with `path_prefix` (default: the API prefix, so token endpoints
        are spared unless targeted explicitly) and, if given, `method`. `reason` picks a variant
        where the provider has several for one status (Google 403 `rateLimitExceeded` /
        `userRateLimitExceeded` / `quotaExceeded`). Rules queue in order.
        """
        with self.lock:
            self._failures.append(
                FailureRule(
                    remaining=n,
                    status=status,
                    retry_after=retry_after,
                    path_prefix=path_prefix if path_prefix is not None else self.api_prefix,
                    method=method,
                    reason=reason,
                )
            )

    def clear_failures(self) -> None:
        with self.lock:
            self._failures.clear()

    def _take_failure(self, request: Request) -> FailureRule | None:
        with self.lock:
            for rule in self._failures:
                if rule.remaining > 0 and rule.matches(request):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._failures.remove(rule)
                    return rule
        return None

    def failure_response(self, request: Request, rule: FailureRule) -> Response:
        response = self.error_response(request, rule.status, reason=rule.reason)
        if rule.retry_after is not None:
            value = rule.retry_after
            response.headers["Retry-After"] = str(
                int(value) if float(value).is_integer() else value
            )
        return response

    def error_response(
        self, request: Request, status: int, *, reason: str | None = None
    ) -> Response:
        """Provider-shaped error for `status` (override in subclasses)."""
        return json_response(status, {"error": {"code": status, "message": reason or "error"}})

    # outbound -------------------------------------------------------------------------------

    @property
    def deliveries(self) -> list[Delivery]:
        with self.deliverer._lock:
            return list(self.deliverer.deliveries)

    @property
    def synchronous_delivery(self) -> bool:
        return self.deliverer.synchronous

    @synchronous_delivery.setter
    def synchronous_delivery(self, value: bool) -> None:
        self.deliverer.synchronous = value

    def wait_for_deliveries(self, timeout: float = 10.0) -> list[Delivery]:
        """Wait until queued notifications have been attempted; return all deliveries so far."""
        if not self.deliverer.wait(timeout):
            raise TimeoutError("notifications still pending")
        return self.deliveries

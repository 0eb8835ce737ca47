"""The one way out: every outbound HTTP request of the service goes through this module.

    from config import http

    response = http.request("GET", url)                       # provider APIs
    response = http.request("POST", customer_url, guard_private=True,
                            max_bytes=2048, truncate=True)    # customer-chosen URLs

What it adds to `requests`:
- a timeout on every request (`settings.HTTP_TIMEOUT_SECONDS` unless given); it also bounds the
  time spent reading the body, so a server that trickles bytes cannot hold a worker;
- our `User-Agent` (`settings.HTTP_USER_AGENT`);
- no redirects unless `allow_redirects=True` is passed;
- bounded bodies: at most `max_bytes` are read (`ResponseTooLarge`, or a cut body with
  `response.truncated = True` when `truncate=True`);
- with `guard_private=True`, a refusal (`UnsafeDestination`) of any destination that is not a
  public unicast address. The check runs when the connection is opened, on the addresses the
  socket then connects to (the host is resolved once, vetted, and the socket connects to the
  vetted address while the Host header and TLS SNI/certificate check keep the name), so a DNS
  answer that changes between a check and the connection (DNS rebinding) cannot slip through.
  Every redirect hop goes through the same check. Guarded sessions ignore proxy variables from
  the environment, whose address would be checked instead of the destination's.

`send()` is the lean form for a hot path (webhook deliveries, a thousand a second): the same
guarded connections, timeouts and bounded body, on one keep-alive pool per process (thread-safe)
without `requests`' per-request machinery (cookies, hooks, environment and proxy look-ups), which
costs about twice the rest of a delivery. It never uses a proxy.

`resolve()` is the one resolver of every connection made here (proxies aside); tests
monkeypatch it instead of touching DNS.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.timeout import _DEFAULT_TIMEOUT

__all__ = [
    "DEFAULT_MAX_BYTES",
    "OutboundSession",
    "Reply",
    "ResponseTooLarge",
    "UnsafeDestination",
    "check_url",
    "is_public_address",
    "request",
    "resolve",
    "send",
    "session",
]

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
_CHUNK_BYTES = 64 * 1024

# NAT64 (RFC 6052) embeds an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeDestination(requests.exceptions.RequestException):
    """The destination is, or resolves to, an address the guard refuses (private, loopback,
    link-local, CGNAT, multicast, reserved...)."""


class ResponseTooLarge(requests.exceptions.RequestException):
    """The response body is longer than `max_bytes`."""


class _Refused(Exception):
    # Raised inside urllib3, which wraps every OSError (and so every RequestException) into a
    # retry or connection error; a plain Exception passes through and is re-raised as
    # UnsafeDestination by OutboundSession.send.
    pass


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    # IPv4-compatible (deprecated) ::a.b.c.d, but not :: and ::1 themselves.
    if int(ip) >> 32 == 0 and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip))
    return None


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address; False for loopback, private (10/8,
    172.16/12, 192.168/16), link-local (169.254/16, fe80::/10), CGNAT (100.64/10), ULA (fc00::/7),
    multicast, unspecified, reserved and documentation ranges, and IPv6 forms that embed such
    an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[tuple]:
    """`socket.getaddrinfo` for TCP: [(family, type, proto, canonname, sockaddr), ...]."""
    return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)


def _addresses(host: str, port: int, *, guard: bool) -> list[tuple]:
    addresses = resolve(host.strip("[]"), port)
    if guard:
        refused = sorted({info[4][0] for info in addresses if not is_public_address(info[4][0])})
        if refused:
            # One bad answer refuses the name: otherwise a host could list a public address
            # first and an internal one second, and win on a retry.
            raise _Refused(f"{host} resolves to a non-public address ({', '.join(refused)}).")
    return addresses


def check_url(url: str) -> None:
    """Resolve the URL's host now and raise `UnsafeDestination` if the guard would refuse it.

    For validation when a URL is saved; the guard itself runs again on every connection.
    `socket.gaierror` propagates when the name does not resolve.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        raise UnsafeDestination(f"{url!r} has no host.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        _addresses(parts.hostname, port, guard=True)
    except _Refused as exc:
        raise UnsafeDestination(str(exc)) from None


class _ResolvingConnectionMixin:
    """Resolves through `resolve()` and connects to the address it checked (when guarding)."""

    guard = False

    def _new_conn(self) -> socket.socket:
        try:
            addresses = _addresses(self._dns_host, self.port, guard=self.guard)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        last_error: OSError | None = None
        for family, kind, proto, _, sockaddr in addresses:
            sock = socket.socket(family, kind, proto)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                if self.timeout is not _DEFAULT_TIMEOUT:
                    sock.settimeout(self.timeout)
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect(sockaddr)
                return sock
            except TimeoutError as exc:
                sock.close()
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                sock.close()
                last_error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")


def _pool_classes(guard: bool) -> dict[str, type]:
    def connection(base):
        return type(base.__name__, (_ResolvingConnectionMixin, base), {"guard": guard})

    return {
        "http": type("Pool", (HTTPConnectionPool,), {"ConnectionCls": connection(HTTPConnection)}),
        "https": type(
            "Pool", (HTTPSConnectionPool,), {"ConnectionCls": connection(HTTPSConnection)}
        ),
    }


_POOLS = {False: _pool_classes(False), True: _pool_classes(True)}


class _Adapter(HTTPAdapter):
    def __init__(self, *, guard: bool):
        self.guard = guard
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS[self.guard]

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        if self.guard:
            raise _Refused("Proxies are not used for guarded requests.")
        return super().proxy_manager_for(proxy, **proxy_kwargs)


class OutboundSession(requests.Session):
    """A `requests.Session` with the defaults above. Use `session()` or `request()`."""

    def __init__(self, *, guard_private: bool = False):
        super().__init__()
        self.guard_private = guard_private
        self.headers["User-Agent"] = settings.HTTP_USER_AGENT
        if guard_private:
            self.trust_env = False
        self.mount("http://", _Adapter(guard=guard_private))
        self.mount("https://", _Adapter(guard=guard_private))

    def request(
        self,
        method: str,
        url: str,
        *,
        timeout: float | tuple[float, float] | None = None,
        allow_redirects: bool = False,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        truncate: bool = False,
        stream: bool = False,
        **kwargs,
    ) -> requests.Response:
        """`requests.Session.request` with a default timeout, no redirects and a bounded body.

        `stream=True` leaves reading the body (and its bound) to the caller.
        """
        if timeout is None:
            timeout = settings.HTTP_TIMEOUT_SECONDS
        started = time.monotonic()
        response = super().request(
            method, url, timeout=timeout, allow_redirects=allow_redirects, stream=True, **kwargs
        )
        if stream or max_bytes is None:
            if not stream:
                response.content  # noqa: B018 - read it now, as requests does without stream
            return response
        budget = max(timeout) if isinstance(timeout, tuple) else timeout
        _read_bounded(response, max_bytes=max_bytes, truncate=truncate, deadline=started + budget)
        return response

    def send(self, request, **kwargs):
        try:
            return super().send(request, **kwargs)
        except _Refused as exc:
            raise UnsafeDestination(str(exc), request=request) from None


def _read_bounded(
    response: requests.Response, *, max_bytes: int, truncate: bool, deadline: float
) -> None:
    body = bytearray()
    response.truncated = False
    complete = False
    try:
        for chunk in response.iter_content(_CHUNK_BYTES):
            body += chunk
            if len(body) > max_bytes:
                if not truncate:
                    raise ResponseTooLarge(
                        f"Response body is larger than {max_bytes} bytes.", response=response
                    )
                del body[max_bytes:]
                response.truncated = True
                break
            if time.monotonic() > deadline:
                raise requests.exceptions.ReadTimeout(
                    "Reading the response body took longer than the timeout.", response=response
                )
        else:
            complete = True  # the connection went back to the pool by itself
    finally:
        response._content = bytes(body)
        response._content_consumed = True
        if not complete:
            response.close()  # a half-read connection cannot be reused


_local = threading.local()


def session(*, guard_private: bool = False) -> OutboundSession:
    """A new session (connection pooling, cookies) with the defaults above; close it when done."""
    return OutboundSession(guard_private=guard_private)


def request(
    method: str,
    url: str,
    *,
    guard_private: bool = False,
    timeout: float | tuple[float, float] | None = None,
    **kwargs,
) -> requests.Response:
    """One request on a per-thread shared session (so connections are reused). Keyword
    arguments are those of `OutboundSession.request` and `requests.request`."""
    attribute = "guarded" if guard_private else "plain"
    shared = getattr(_local, attribute, None)
    if shared is None:
        shared = session(guard_private=guard_private)
        setattr(_local, attribute, shared)
    return shared.request(method, url, timeout=timeout, **kwargs)


# --- send(): the lean path --------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What `send()` got back: the status, the headers (case-insensitive), the start of the
    body (at most `max_bytes`; `truncated` when there was more)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    truncated: bool


_managers: dict[tuple[int, bool], urllib3.PoolManager] = {}
_managers_lock = threading.Lock()


def _manager(guard: bool) -> urllib3.PoolManager:
    """The process's pool for `guard` (made again in a forked child: sockets are not shared)."""
    key = (os.getpid(), guard)
    with _managers_lock:
        manager = _managers.get(key)
        if manager is None:
            # As requests verifies (certifi's bundle); a connection per sending thread is kept.
            manager = urllib3.PoolManager(
                num_pools=100, maxsize=32, block=False, ca_certs=certifi.where()
            )
            manager.pool_classes_by_scheme = _POOLS[guard]
            _managers[key] = manager
        return manager


def close_pools() -> None:
    """Close this process's kept-alive connections (tests: a server a test started and stopped
    must not keep a request thread waiting on an idle connection of ours)."""
    with _managers_lock:
        managers = list(_managers.values())
        _managers.clear()
    for manager in managers:
        manager.clear()


def send(
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    guard_private: bool = False,
    timeout: float | None = None,
    max_bytes: int = 64 * 1024,
) -> Reply:
    """One request on the process's keep-alive pool, thread-safe, for hot paths. The guard is
    that of `request()`: it runs whenever a connection is opened, on the address the socket
    connects to, and a guarded request never reuses an unguarded connection (one pool per
    guard). `timeout` bounds the connection, each wait for data and the whole body. Redirects
    are not followed; the body is cut at `max_bytes` (`Reply.truncated`). Errors are those of
    `requests` (`UnsafeDestination`, `Timeout`, `ConnectionError`), so callers handle one
    family whichever form they use."""
    if timeout is None:
        timeout = settings.HTTP_TIMEOUT_SECONDS
    started = time.monotonic()
    try:
        pool = _manager(guard_private).connection_from_url(url)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        response = pool.urlopen(
            method,
            target,
            body=body,
            headers={"User-Agent": settings.HTTP_USER_AGENT, **(headers or {})},
            retries=False,
            redirect=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            preload_content=False,
            assert_same_host=False,
        )
        content, truncated, complete = bytearray(), False, False
        try:
            while chunk := response.read1(_CHUNK_BYTES):
                content += chunk
                if len(content) > max_bytes:
                    del content[max_bytes:]
                    truncated = True
                    break
                if time.monotonic() - started > timeout:
                    raise requests.exceptions.ReadTimeout(
                        "Reading the response body took longer than the timeout."
                    )
            else:
                complete = True
        finally:
            if not complete:
                response.close()  # a half-read connection cannot be reused
            response.release_conn()
    except requests.exceptions.RequestException:
        raise
    except _Refused as exc:
        raise UnsafeDestination(str(exc)) from None
    except NewConnectionError as exc:  # urllib3 derives it from ConnectTimeoutError
        raise requests.exceptions.ConnectionError(str(exc)) from exc
    except ConnectTimeoutError as exc:
        raise requests.exceptions.ConnectTimeout(str(exc)) from exc
    except ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(str(exc)) from exc
    except urllib3.exceptions.SSLError as exc:
        raise requests.exceptions.SSLError(str(exc)) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise requests.exceptions.ConnectionError(str(exc)) from exc
    return Reply(response.status, response.headers, bytes(content), truncated)

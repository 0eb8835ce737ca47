import socket

import pytest
import requests

from config import http
from tests.webhooks.receiver import Answer, Receiver


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def fake_dns(monkeypatch, table: dict[str, list[str]]):
    """Answers for the guard's resolver; any other name does not exist."""
    calls = []

    def resolve(host, port):
        calls.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answers = table[host]
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port, 0, 0) if ":" in address else (address, port),
            )
            for address in answers
        ]

    monkeypatch.setattr(http, "resolve", resolve)
    return calls


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fd00::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "::127.0.0.1",
        "not-an-ip",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert not http.is_public_address(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_pass(address):
    assert http.is_public_address(address)


def test_defaults_user_agent_and_timeout(receiver, settings):
    response = http.request("GET", receiver.url())
    assert response.status_code == 200
    assert response.content == b"ok"
    assert receiver.received[0].headers["User-Agent"] == settings.HTTP_USER_AGENT

    settings.HTTP_TIMEOUT_SECONDS = 0.2
    receiver.hold.clear()  # the receiver answers too late
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.request("GET", receiver.url())


def test_redirects_are_not_followed_unless_asked(receiver):
    receiver.script = [Answer(302, b"", {"Location": "/elsewhere"})]
    response = http.request("GET", receiver.url())
    assert response.status_code == 302
    assert [r.path for r in receiver.received] == ["/hook"]

    receiver.script = [Answer(302, b"", {"Location": "/elsewhere"})]
    response = http.request("GET", receiver.url(), allow_redirects=True)
    assert response.status_code == 200
    assert [r.path for r in receiver.received][1:] == ["/hook", "/elsewhere"]


def test_body_is_read_bounded(receiver):
    receiver.answer = Answer(200, b"x" * 5000)
    with pytest.raises(http.ResponseTooLarge):
        http.request("GET", receiver.url(), max_bytes=1000)
    response = http.request("GET", receiver.url(), max_bytes=1000, truncate=True)
    assert response.content == b"x" * 1000
    assert response.truncated
    response = http.request("GET", receiver.url(), max_bytes=5000)
    assert len(response.content) == 5000
    assert not response.truncated


def test_connections_are_reused(receiver):
    with http.session() as session:
        for _ in range(3):
            assert session.request("GET", receiver.url()).status_code == 200
        pool = next(iter(session.get_adapter(receiver.url()).poolmanager.pools._container.values()))
        assert pool.num_connections == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]"])
def test_guard_refuses_loopback_literals(receiver, host):
    url = f"http://{host}:{receiver.port}/hook"
    with pytest.raises(http.UnsafeDestination):
        http.request("POST", url, guard_private=True)
    assert receiver.received == []
    assert http.request("POST", url).status_code == 200  # unguarded, it connects


def test_guard_refuses_ipv6_loopback():
    receiver = Receiver("::1").start()
    try:
        with pytest.raises(http.UnsafeDestination):
            http.request("POST", receiver.url(), guard_private=True)
        assert receiver.received == []
    finally:
        receiver.stop()


@pytest.mark.parametrize(
    "answers", [["127.0.0.1"], ["10.0.0.7"], ["169.254.169.254"], ["::1"], ["8.8.8.8", "127.0.0.1"]]
)
def test_guard_refuses_names_that_resolve_to_private_addresses(monkeypatch, receiver, answers):
    fake_dns(monkeypatch, {"hooks.evil.test": answers})
    with pytest.raises(http.UnsafeDestination, match="non-public"):
        http.request("POST", f"http://hooks.evil.test:{receiver.port}/", guard_private=True)
    with pytest.raises(http.UnsafeDestination):
        http.check_url(f"https://hooks.evil.test:{receiver.port}/")
    assert receiver.received == []


def test_guard_connects_to_the_vetted_address_keeping_the_host_name(monkeypatch, receiver):
    """The name is resolved once per connection: a second answer (DNS rebinding) is never used."""
    monkeypatch.setattr(http, "is_public_address", lambda address: address == "127.0.0.1")
    answers = iter([["127.0.0.1"], ["10.0.0.1"], ["10.0.0.1"]])
    calls = []

    def resolve(host, port):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in next(answers)]

    monkeypatch.setattr(http, "resolve", resolve)
    with http.session(guard_private=True) as session:
        for _ in range(2):
            response = session.post(f"http://rebind.test:{receiver.port}/hook", data=b"{}")
            assert response.status_code == 200
    assert calls == ["rebind.test"]
    assert [r.headers["Host"] for r in receiver.received] == [f"rebind.test:{receiver.port}"] * 2


def test_guard_applies_to_every_redirect_hop(monkeypatch, receiver):
    monkeypatch.setattr(http, "is_public_address", lambda address: address == "127.0.0.1")
    fake_dns(monkeypatch, {"public.test": ["127.0.0.1"], "internal.test": ["127.0.0.3"]})
    receiver.answer = Answer(302, b"", {"Location": f"http://internal.test:{receiver.port}/"})
    with pytest.raises(http.UnsafeDestination):
        http.request(
            "GET", f"http://public.test:{receiver.port}/", guard_private=True, allow_redirects=True
        )
    assert len(receiver.received) == 1


def test_unknown_names_are_connection_errors(monkeypatch):
    fake_dns(monkeypatch, {})
    with pytest.raises(requests.exceptions.ConnectionError):
        http.request("GET", "http://nowhere.test/", guard_private=True)
    with pytest.raises(socket.gaierror):
        http.check_url("https://nowhere.test/")


def test_guarded_requests_ignore_proxy_variables(monkeypatch, receiver):
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.1:3128")
    monkeypatch.setattr(http, "is_public_address", lambda address: address == "127.0.0.1")
    with http.session(guard_private=True) as session:
        assert session.get(receiver.url()).status_code == 200
    with http.session(guard_private=True) as session, pytest.raises(http.UnsafeDestination):
        session.get(receiver.url(), proxies={"http": "http://10.0.0.1:3128"})


# --- send(): the lean form on the process's keep-alive pool -------------------------------------


def test_send_keeps_the_connection_and_bounds_the_body(receiver, settings):
    receiver.answer = Answer(200, b"x" * 5000, {"Retry-After": "7"})
    replies = [http.send("POST", receiver.url(), body=b"{}", max_bytes=1000) for _ in range(3)]
    assert [(r.status_code, r.content, r.truncated) for r in replies] == [
        (200, b"x" * 1000, True)
    ] * 3
    assert replies[0].headers["retry-after"] == "7"  # case-insensitive
    # A cut body closes its connection; whole bodies leave it for the next request.
    receiver.answer = Answer(200, b"ok")
    for _ in range(3):
        assert http.send("POST", receiver.url(), body=b"{}").content == b"ok"
    assert len({r.client_port for r in receiver.received[3:]}) == 1
    assert receiver.received[-1].headers["User-Agent"] == settings.HTTP_USER_AGENT
    assert receiver.received[-1].body == b"{}"


def test_send_refuses_private_destinations_when_guarded(monkeypatch, receiver):
    with pytest.raises(http.UnsafeDestination):
        http.send("POST", receiver.url(), guard_private=True)
    fake_dns(monkeypatch, {"hooks.evil.test": ["10.0.0.7"]})
    with pytest.raises(http.UnsafeDestination, match="non-public"):
        http.send("POST", f"http://hooks.evil.test:{receiver.port}/", guard_private=True)
    assert receiver.received == []


def test_send_guarded_never_reuses_an_unguarded_connection(receiver):
    assert http.send("POST", receiver.url()).status_code == 200
    with pytest.raises(http.UnsafeDestination):
        http.send("POST", receiver.url(), guard_private=True)
    assert len(receiver.received) == 1


def test_send_errors_are_those_of_requests(monkeypatch, receiver):
    receiver.hold.clear()  # the receiver answers too late
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.send("POST", receiver.url(), timeout=0.2)
    receiver.hold.set()
    url = receiver.url()
    receiver.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        http.send("POST", url)
    fake_dns(monkeypatch, {})
    with pytest.raises(requests.exceptions.ConnectionError):
        http.send("GET", "http://nowhere.test/", guard_private=True)

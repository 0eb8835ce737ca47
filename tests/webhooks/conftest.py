import ipaddress
import socket

import pytest
from django_q.conf import Conf

from config import http
from tests.webhooks.receiver import Receiver
from webhooks.models import WebhookDelivery, WebhookEndpoint


@pytest.fixture(autouse=True)
def dns(monkeypatch) -> dict[str, list[str]]:
    """No real DNS in these tests: IP literals resolve to themselves, names to this table."""
    table: dict[str, list[str]] = {}

    def resolve(host, port):
        try:
            answers = [str(ipaddress.ip_address(host))]
        except ValueError:
            if host not in table:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            answers = table[host]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers
        ]

    monkeypatch.setattr(http, "resolve", resolve)
    return table


@pytest.fixture(autouse=True)
def sync_queue(monkeypatch):
    """django-q runs each queued task at once, in-process."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def endpoint(acme, receiver) -> WebhookEndpoint:
    """Acme's endpoint on the loopback receiver (private addresses allowed by staff)."""
    return WebhookEndpoint.objects.create(
        project=acme.project, url=receiver.url(), allow_private_addresses=True
    )


def pending() -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING))

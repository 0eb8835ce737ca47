import ipaddress
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils.module_loading import import_string

from bots.models import Bot, BotBackendConfig
from config import http
from tests.fakes.bot_provider import FakeBotProvider
from webhooks.models import WebhookDelivery, WebhookEndpoint

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_dns(monkeypatch):
    """No real DNS: IP literals resolve to themselves, names do not resolve."""

    def resolve(host, port):
        try:
            address = str(ipaddress.ip_address(host))
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(http, "resolve", resolve)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """Time stands still at NOW until the test moves it (`clock.shift(...)`)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


class Queue:
    """django-q stand-in: records `async_task` calls; `run()` executes them in order."""

    def __init__(self):
        self.calls: list[tuple] = []

    def __call__(self, func, *args, **kwargs):
        self.calls.append((func, *args))

    def funcs(self) -> list[str]:
        return [call[0] for call in self.calls]

    def run(self) -> list:
        calls, self.calls = self.calls, []
        return [import_string(func)(*args) for func, *args in calls]


@pytest.fixture
def queue(monkeypatch) -> Queue:
    recorder = Queue()
    monkeypatch.setattr("django_q.tasks.async_task", recorder)
    return recorder


@pytest.fixture
def hooks(acme, monkeypatch) -> WebhookEndpoint:
    """Acme subscribes to every event, so emitted events become deliveries we can read.
    Nothing is sent."""
    monkeypatch.setattr("webhooks.queueing.enqueue_delivery", lambda delivery_id: None)
    return WebhookEndpoint.objects.create(project=acme.project, url="https://hooks.example.com/")


def emitted(project=None) -> list[str]:
    """Event types written so far, sorted (events of one transaction share a timestamp)."""
    deliveries = WebhookDelivery.objects.all()
    if project is not None:
        deliveries = deliveries.filter(project=project)
    return sorted(deliveries.values_list("event_type", flat=True))


@pytest.fixture
def bot_provider() -> Iterator[FakeBotProvider]:
    with FakeBotProvider() as fake:
        yield fake
        if fake.internal_errors:
            pytest.fail("the fake bot provider crashed:\n" + "\n".join(fake.internal_errors))


@pytest.fixture
def attendee(acme, bot_provider, settings) -> FakeBotProvider:
    """Acme sends its bots to the fake Attendee on loopback."""
    settings.BOTS_BACKEND_TIMEOUT_SECONDS = 0.5
    settings.DEBUG = True  # the fake speaks plain http; outside DEBUG the bot API needs https
    acme.project.bot_dispatch_backend = "attendee"
    acme.project.save(update_fields=["bot_dispatch_backend"])
    BotBackendConfig.objects.create(
        project=acme.project,
        base_url=bot_provider.url,
        api_key=bot_provider.api_key,
        allow_private_addresses=True,
    )
    return bot_provider


def fresh(bot: Bot) -> Bot:
    return Bot.objects.select_related("project").get(pk=bot.pk)


def later(**kwargs) -> datetime:
    return NOW + timedelta(**kwargs)

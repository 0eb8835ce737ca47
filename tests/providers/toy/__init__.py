"""A third calendar provider that exists only in the tests: it shows that a provider is one
package plus one registry line. `register(monkeypatch)` adds it to the registry for one test and
returns its in-memory server (the provider side: accounts, codes, events)."""

from calendars import providers

from . import server
from .provider import ToyProvider
from .server import ToyServer

PLATFORM = ToyProvider.platform


def register(monkeypatch) -> ToyServer:
    fresh = ToyServer()
    monkeypatch.setattr(server, "SERVER", fresh)
    monkeypatch.setitem(providers.PROVIDERS, PLATFORM, "tests.providers.toy.ToyProvider")
    monkeypatch.setitem(providers._instances, PLATFORM, ToyProvider())
    return fresh


__all__ = ["PLATFORM", "ToyProvider", "ToyServer", "register"]

"""The shared cast: two projects, each with an API key and an authenticated client."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from projects.models import ApiKey, Project

from .factories import ProjectFactory

pytest_plugins = ["tests.fakes.fixtures"]


def pytest_report_header(config):
    """Say which database the suite runs on (DATABASE_URL, else the SQLite default), without
    the password: a run on SQLite must not pass for one on PostgreSQL."""
    from django.conf import settings
    from django.db import connection

    database = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        where = "an in-memory test database"
        if database.get("TEST", {}).get("NAME"):
            where = database["TEST"]["NAME"]
        return f"database: sqlite ({where}; configured file {database['NAME']})"
    host = database.get("HOST") or "local socket"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    test_name = database.get("TEST", {}).get("NAME") or f"test_{database['NAME']}"
    return (
        f"database: {connection.vendor} {test_name} on {host}{port} "
        f"(user {database.get('USER') or '-'}, from DATABASE_URL {database['NAME']})"
    )


@dataclass
class Tenant:
    project: Project
    api_key: ApiKey
    raw_key: str
    client: APIClient


def make_tenant(name: str) -> Tenant:
    project = ProjectFactory(name=name)
    api_key, raw_key = ApiKey.issue(project=project, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw_key}")
    return Tenant(project, api_key, raw_key, client)


@pytest.fixture
def acme(db) -> Tenant:
    return make_tenant("Acme")


@pytest.fixture
def globex(db) -> Tenant:
    return make_tenant("Globex")


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def page_retry_waits(monkeypatch) -> list[float]:
    """A sync's page retries wait on this list instead of the clock (calendars/providers/base.py):
    no test sleeps, and a test can assert what was waited."""
    from calendars.providers.base import CalendarSession

    waits: list[float] = []
    monkeypatch.setattr(CalendarSession, "sleep", staticmethod(waits.append))
    return waits


@pytest.fixture(autouse=True)
def outbound_connections_closed():
    """Each test's kept-alive outbound connections (config/http.py: send) close when it ends:
    the loopback servers a test stops would otherwise keep a request thread waiting on them."""
    yield
    from config import http

    http.close_pools()

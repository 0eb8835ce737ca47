"""pytest fixtures for the provider fakes.

Enable them in a conftest with `pytest_plugins = ["tests.fakes.fixtures"]` (root conftest
only) or by importing the fixture names. `fake_google` / `fake_microsoft` start a fake for one
test and point the Django settings at it, via pytest-django's `settings` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .base import FakeClock, FakeServer
from .google import FakeGoogle
from .microsoft import FakeMicrosoft
from .receiver import WebhookReceiver


def _check_clean(fake: FakeServer) -> None:
    if fake.internal_errors:
        pytest.fail("the fake server crashed:\n" + "\n".join(fake.internal_errors), pytrace=False)


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock starting at 2024-06-03 09:00 UTC; pass it as `now=` or assign `fake.now = clock`."""
    import datetime as dt

    return FakeClock(dt.datetime(2024, 6, 3, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def fake_google(settings) -> Iterator[FakeGoogle]:
    """A running `FakeGoogle`; sets GOOGLE_OAUTH_AUTHORIZE_URL, GOOGLE_OAUTH_TOKEN_URL,
    GOOGLE_USERINFO_URL and GOOGLE_CALENDAR_API_URL."""
    with FakeGoogle() as google:
        settings.GOOGLE_OAUTH_AUTHORIZE_URL = google.authorize_url
        settings.GOOGLE_OAUTH_TOKEN_URL = google.token_url
        settings.GOOGLE_USERINFO_URL = google.userinfo_url
        settings.GOOGLE_CALENDAR_API_URL = google.calendar_api_url
        yield google
        _check_clean(google)


@pytest.fixture
def fake_microsoft(settings, monkeypatch) -> Iterator[FakeMicrosoft]:
    """A running `FakeMicrosoft` (HTTPS); sets MICROSOFT_AUTHORITY_HOST and MICROSOFT_GRAPH_URL,
    and REQUESTS_CA_BUNDLE so requests/msal trust the fake's certificate."""
    with FakeMicrosoft() as microsoft:
        settings.MICROSOFT_AUTHORITY_HOST = microsoft.authority_host
        settings.MICROSOFT_GRAPH_URL = microsoft.graph_url
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", microsoft.ca_bundle_path)
        yield microsoft
        _check_clean(microsoft)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A loopback endpoint that records pushes and answers Graph validation handshakes."""
    with WebhookReceiver() as receiver:
        yield receiver

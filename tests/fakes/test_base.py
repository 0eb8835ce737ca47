"""Shared fake-server machinery: both schemes on one port, counters, failures, clock."""

import datetime as dt

import pytest
import requests

from tests.fakes import FakeClock, FakeGoogle, FakeMicrosoft

UTC = dt.UTC


def test_one_port_speaks_http_and_https():
    with FakeMicrosoft() as ms:
        assert ms.url.startswith("https://127.0.0.1:")
        config = "/common/v2.0/.well-known/openid-configuration"
        secure = requests.get(ms.url + config, verify=ms.ca_path, timeout=5).json()
        plain = requests.get(ms.http_url + config, timeout=5).json()
        assert secure["token_endpoint"] == f"{ms.url}/common/oauth2/v2.0/token"
        assert plain["token_endpoint"] == f"{ms.http_url}/common/oauth2/v2.0/token"


def test_request_counters_and_recording():
    with FakeGoogle() as google:
        google.add_account("a@example.com")
        token = google.issue_access_token("a@example.com")
        url = google.calendar_api_url + "users/me/calendarList"
        for _ in range(3):
            requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
        requests.get(google.url + "/nope", timeout=5)
        assert google.count() == 4
        assert google.count("/calendar/v3/users/me/calendarList") == 3
        assert google.count(route="calendarList.list", method="GET") == 3
        assert google.counts()["/nope"] == 1
        assert google.requests[0].headers["Authorization"] == f"Bearer {token}"
        google.reset_requests()
        assert google.count() == 0 and google.requests == []


def test_fail_next_defaults_to_api_paths_and_can_target_the_token_endpoint():
    with FakeGoogle() as google:
        google.add_account("a@example.com")
        refresh_token = google.grant("a@example.com")
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": google.client_id,
            "client_secret": google.client_secret,
        }
        google.fail_next(1, 503)
        assert requests.post(google.token_url, data=form, timeout=5).status_code == 200
        google.clear_failures()
        google.fail_next(2, 503, path_prefix="/token")
        failures = [requests.post(google.token_url, data=form, timeout=5) for _ in range(3)]
        assert [r.status_code for r in failures] == [503, 503, 200]
        assert failures[0].json()["error"] == "temporarily_unavailable"


def test_injected_clock_controls_token_expiry():
    clock = FakeClock(dt.datetime(2024, 6, 3, 9, tzinfo=UTC))
    with FakeGoogle(now=clock) as google:
        google.add_account("a@example.com")
        google.token_lifetime = 60
        token = google.issue_access_token("a@example.com")
        url = google.calendar_api_url + "users/me/calendarList"
        headers = {"Authorization": f"Bearer {token}"}
        assert requests.get(url, headers=headers, timeout=5).status_code == 200
        clock.advance(seconds=61)
        response = requests.get(url, headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json()["error"]["errors"][0]["reason"] == "authError"


def test_fake_clock_requires_aware_datetimes():
    with pytest.raises(ValueError):
        FakeClock(dt.datetime(2024, 6, 3))

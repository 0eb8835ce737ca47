"""Origins compare normalised wherever they are compared: `https://a:443` is `https://a`."""

import pytest
from django.core.exceptions import ValidationError

from calendars.models import CalendarUser
from projects.validators import normalize_origin, origin_allowed
from tests.calendars.conftest import token_client
from tests.factories import OAuthAppFactory


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("https://App-A.example.com:443", "https://app-a.example.com"),
        ("https://app-a.example.com:443/", "https://app-a.example.com"),
        ("http://localhost:80", "http://localhost"),
        ("https://app-a.example.com:8443", "https://app-a.example.com:8443"),
        ("http://app-a.example.com:443", "http://app-a.example.com:443"),
        ("https://[::1]:443", "https://[::1]"),
        ("HTTPS://APP.example.com", "https://app.example.com"),
    ],
)
def test_normalize_origin(value, origin):
    assert normalize_origin(value) == origin


@pytest.mark.parametrize(
    "value", ["https://user@a.example", "https://:pw@a.example", "https://a.example/path"]
)
def test_not_origins(value):
    with pytest.raises(ValidationError):
        normalize_origin(value)


def test_origin_allowed_normalises_both_sides():
    assert origin_allowed("https://a.example:443", ["https://a.example"])
    assert origin_allowed("https://A.example", ["https://a.example:443"])  # stored before
    assert not origin_allowed("https://a.example:8443", ["https://a.example"])
    assert not origin_allowed("null", ["https://a.example"])
    assert not origin_allowed("https://a.example", ["not an origin"])


@pytest.fixture
def alice(acme):
    acme.project.allowed_redirect_origins = ["https://app-a.example.com"]
    acme.project.cors_allowed_origins = ["https://app-a.example.com"]
    acme.project.save()
    OAuthAppFactory(project=acme.project, platform="google")
    return CalendarUser.objects.create(project=acme.project, external_id="alice")


@pytest.mark.parametrize(
    "success_url", ["https://app-a.example.com:443/done", "https://APP-A.example.com/done"]
)
def test_redirect_with_the_default_port_is_allowed(alice, success_url):
    response = token_client(alice).get(
        "/api/v1/calendar/oauth_url/", {"platform": "google", "success_url": success_url}
    )
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize(
    "success_url", ["https://app-a.example.com:8443/done", "http://app-a.example.com/done"]
)
def test_another_port_or_scheme_is_another_origin(alice, success_url):
    response = token_client(alice).get(
        "/api/v1/calendar/oauth_url/", {"platform": "google", "success_url": success_url}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "redirect_not_allowed"


def test_a_value_stored_with_its_default_port_still_matches(alice):
    alice.project.allowed_redirect_origins = ["https://app-a.example.com:443"]
    alice.project.save()
    response = token_client(alice).get(
        "/api/v1/calendar/oauth_url/",
        {"platform": "google", "success_url": "https://app-a.example.com/done"},
    )
    assert response.status_code == 200, response.json()


def test_project_api_stores_origins_without_default_ports(acme):
    response = acme.client.patch(
        "/api/v1/project/",
        {
            "allowed_redirect_origins": [
                "https://app-a.example.com:443",
                "https://app-a.example.com",
            ]
        },
        format="json",
    )
    assert response.json()["allowed_redirect_origins"] == ["https://app-a.example.com"]


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        ("https://app-a.example.com", 200),
        ("https://app-a.example.com:443", 200),
        ("https://APP-A.example.com", 200),
        ("https://app-a.example.com:8443", 403),
        ("null", 403),
    ],
)
def test_cors_origins_compare_normalised(alice, origin, status):
    response = token_client(alice).get("/api/v1/calendar/user/", HTTP_ORIGIN=origin)
    assert response.status_code == status

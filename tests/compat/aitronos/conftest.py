from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from calendars import tokens
from calendars.models import CalendarUser
from tests.factories import CalendarFactory

BASE = "/compat/aitronos/v1/meeting-buddy"
EMAIL = "dana@acme.com"


def bearer_client(calendar_user: CalendarUser) -> APIClient:
    """What an Aitronos client sends: `Authorization: Bearer <token>`, nothing else."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.mint(calendar_user)}")
    return client


def assert_aitronos_error(response, status: int, code: str) -> dict:
    """Aitronos's envelope, exactly its keys; returns `error`."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"success", "error"}
    assert body["success"] is False
    error = body["error"]
    assert set(error) == {
        "code",
        "message",
        "type",
        "status",
        "details",
        "trace_id",
        "timestamp",
    }
    assert error["code"] == code
    assert error["status"] == status
    assert error["type"] == ("server_error" if status >= 500 else "client_error")
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    assert error["trace_id"] == response["X-Request-ID"]
    return error


def soon(hours: float = 24):
    return timezone.now().replace(microsecond=0) + timedelta(hours=hours)


@pytest.fixture
def dana(acme) -> CalendarUser:
    return CalendarUser.objects.create(project=acme.project, external_id="dana")


@pytest.fixture
def buddy(dana) -> APIClient:
    """Dana's Aitronos client."""
    return bearer_client(dana)


@pytest.fixture
def google_calendar(dana):
    return CalendarFactory(project=dana.project, calendar_user=dana, email=EMAIL)

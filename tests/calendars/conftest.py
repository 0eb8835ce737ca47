import pytest
from rest_framework.test import APIClient

from calendars import tokens
from calendars.models import CalendarUser
from tests.conftest import Tenant


def token_client(calendar_user: CalendarUser, **extra) -> APIClient:
    client = APIClient(**extra)
    client.credentials(HTTP_X_RECALLCALENDARAUTHTOKEN=tokens.mint(calendar_user))
    return client


@pytest.fixture
def alice(acme: Tenant) -> CalendarUser:
    return CalendarUser.objects.create(project=acme.project, external_id="alice")


@pytest.fixture
def alice_client(alice) -> APIClient:
    return token_client(alice)

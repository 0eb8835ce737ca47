import pytest
from rest_framework.test import APIClient

from .contract import MeetingBaasClient

EMAIL = "dana@acme.com"


@pytest.fixture
def mb(acme) -> MeetingBaasClient:
    """Acme's Meeting BaaS client: its base URL and its key are ours, nothing else (no
    Authorization header)."""
    return MeetingBaasClient(APIClient(), acme.raw_key)


@pytest.fixture
def mb_globex(globex) -> MeetingBaasClient:
    return MeetingBaasClient(APIClient(), globex.raw_key)


@pytest.fixture(params=["google", "microsoft"])
def provider(request) -> str:
    return request.param


@pytest.fixture
def fake(provider, request):
    fake = request.getfixturevalue(f"fake_{provider}")
    fake.add_account(EMAIL, name="Dana")
    return fake


@pytest.fixture
def credentials(fake, provider) -> dict:
    """CreateCalendarParams for Dana's account at the provider fake."""
    return {
        "oauth_client_id": fake.client_id,
        "oauth_client_secret": fake.client_secret,
        "oauth_refresh_token": fake.grant(EMAIL),
        "platform": provider.title(),
    }

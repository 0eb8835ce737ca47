"""One policy for every write endpoint: a key the resource does not have is a 400 naming it;
the resource's read-only keys are ignored, so what GET returned can be sent back."""

import pytest

from bots.models import Bot
from calendars.models import CalendarUser
from tests.calendars.conftest import token_client
from tests.config.test_errors import assert_envelope
from tests.factories import BotFactory, CalendarFactory, MeetingFactory
from webhooks.models import WebhookEndpoint


def assert_unknown(response, *names: str) -> None:
    body = assert_envelope(response, 400, "invalid_request_data")
    assert sorted(body["errors"]) == sorted(names)
    for name in names:
        assert body["errors"][name] == ["Unknown field."]


@pytest.fixture(autouse=True)
def no_dns(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True  # webhook URLs are not resolved here


@pytest.fixture
def endpoint(acme) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(project=acme.project, url="https://hooks.acme.test/")


@pytest.fixture
def alice(acme) -> CalendarUser:
    return CalendarUser.objects.create(project=acme.project, external_id="alice")


API_KEY_WRITES = [
    ("patch", "/api/v1/project/", {"bot_name": "Rec"}),
    ("post", "/api/v1/api_keys/", {"name": "ci"}),
    ("put", "/api/v1/project/oauth_apps/google/", {"client_id": "c", "client_secret": "s"}),
    ("post", "/api/v1/webhooks/", {"url": "https://hooks.acme.test/"}),
    ("patch", "/api/v1/webhooks/{endpoint}/", {"description": "d"}),
    ("put", "/api/v1/webhooks/{endpoint}/", {"url": "https://hooks.acme.test/"}),
    ("post", "/api/v1/webhooks/{endpoint}/rotate_secret/", {}),
    ("post", "/api/v1/calendar/authenticate/", {"user_id": "bob"}),
    ("post", "/api/v1/bots/{bot}/status/", {"code": "joining_call"}),
    ("post", "/api/v1/calendars/", {"platform": "google"}),
]


@pytest.mark.parametrize(("method", "path", "body"), API_KEY_WRITES)
def test_api_key_writes_refuse_unknown_fields(acme, endpoint, method, path, body):
    bot = BotFactory(project=acme.project)
    path = path.format(endpoint=endpoint.pk, bot=bot.pk)
    response = getattr(acme.client, method)(
        path, {**body, "colour": "red", "bot_nmae": "x"}, format="json"
    )
    assert_unknown(response, "colour", "bot_nmae")


def test_nothing_is_written_when_a_field_is_unknown(acme):
    response = acme.client.patch(
        "/api/v1/project/", {"bot_name": "Changed", "bot_nmae": "x"}, format="json"
    )
    assert_unknown(response, "bot_nmae")
    acme.project.refresh_from_db()
    assert acme.project.bot_name != "Changed"


def test_calendar_token_writes_refuse_unknown_fields(alice):
    client = token_client(alice)
    meeting = MeetingFactory(calendar=CalendarFactory(project=alice.project, calendar_user=alice))
    assert_unknown(client.patch("/api/v1/calendar/user/", {"prefs": {}}, format="json"), "prefs")
    assert_unknown(
        client.post(
            "/api/v1/calendar/user/disconnect/", {"platform": "google", "x": 1}, format="json"
        ),
        "x",
    )
    assert_unknown(
        client.patch(
            f"/api/v1/calendar/meetings/{meeting.pk}/",
            {"override_should_record": True, "overide": 1},
            format="json",
        ),
        "overide",
    )


def test_nested_unknown_field_is_named(alice):
    response = token_client(alice).patch(
        "/api/v1/calendar/user/", {"preferences": {"record_al": True}}, format="json"
    )
    assert response.json()["errors"] == {"preferences": {"record_al": ["Unknown field."]}}


def test_read_only_keys_of_the_resource_are_ignored(acme, endpoint, alice):
    project = acme.client.get("/api/v1/project/").json()
    response = acme.client.patch("/api/v1/project/", {**project, "bot_name": "Rec"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["bot_name"] == "Rec"

    got = acme.client.get(f"/api/v1/webhooks/{endpoint.pk}/").json()
    response = acme.client.put(
        f"/api/v1/webhooks/{endpoint.pk}/", {**got, "description": "again"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["description"] == "again"

    client = token_client(alice)
    user = client.get("/api/v1/calendar/user/").json()
    user["preferences"]["record_external"] = True
    response = client.put("/api/v1/calendar/user/", user, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["preferences"]["record_external"] is True

    meeting = MeetingFactory(calendar=CalendarFactory(project=alice.project, calendar_user=alice))
    got = client.get(f"/api/v1/calendar/meetings/{meeting.pk}/").json()
    response = client.put(
        f"/api/v1/calendar/meetings/{meeting.pk}/",
        {**got, "override_should_record": False},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["override_should_record"] is False


def test_a_bot_status_report_with_a_misspelt_field_changes_nothing(acme):
    bot = BotFactory(project=acme.project, status=Bot.Status.DISPATCHED)
    response = acme.client.post(
        f"/api/v1/bots/{bot.pk}/status/", {"code": "done", "sub_cod": "x"}, format="json"
    )
    assert_unknown(response, "sub_cod")
    bot.refresh_from_db()
    assert bot.status == Bot.Status.DISPATCHED

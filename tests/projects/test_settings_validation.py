"""JSON-shaped settings are validated on the way in, through the API and the admin alike: a
project's bot_config is an object its dispatch backend accepts, origins are origins."""

import pytest

from projects.models import Project
from tests.admin_forms import admin_form
from tests.config.test_errors import assert_envelope
from tests.factories import CalendarFactory, MeetingFactory

PROJECT_URL = "/api/v1/project/"


def bot_config_errors(response) -> list[str]:
    body = assert_envelope(response, 400, "invalid_request_data")
    assert list(body["errors"]) == ["bot_config"]
    return body["errors"]["bot_config"]


@pytest.mark.parametrize("value", ["x", ["a"], 3, True, None])
def test_bot_config_must_be_an_object(acme, value):
    response = acme.client.patch(PROJECT_URL, {"bot_config": value}, format="json")
    assert response.status_code == 400
    assert "bot_config" in response.json()["errors"]
    acme.project.refresh_from_db()
    assert acme.project.bot_config == {}


def test_the_local_backend_takes_any_object(acme):
    config = {"meeting_url": "runner decides", "anything": [1, {"deep": True}]}
    response = acme.client.patch(PROJECT_URL, {"bot_config": config}, format="json")
    assert response.status_code == 200
    assert response.json()["bot_config"] == config


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"meeting_url": "https://evil.example/"}, "meeting_url: set by calsync"),
        ({"bot_name": "x", "join_at": "now"}, "bot_name, join_at: set by calsync"),
        ({"recording_settings": "mp4"}, "bot_config['recording_settings']: 'mp4' is not of type"),
        ({"webhooks": [{"url": "http://plain.example/", "triggers": ["bot.state_change"]}]}, "url"),
        ({"webhooks": [{"url": "https://ok.example/"}]}, "'triggers' is a required property"),
    ],
)
def test_attendee_bot_config_is_checked_against_its_schema(acme, config, says):
    acme.project.bot_dispatch_backend = "attendee"
    acme.project.save()
    errors = bot_config_errors(
        acme.client.patch(PROJECT_URL, {"bot_config": config}, format="json")
    )
    assert says in errors[0]


def test_attendee_bot_config_that_fits(acme):
    config = {
        "recording_settings": {"format": "mp4"},
        "transcription_settings": {"deepgram": {"language": "en"}},
        "webhooks": [{"url": "https://hooks.acme.test/", "triggers": ["bot.state_change"]}],
        "some_future_setting": 1,
    }
    response = acme.client.patch(
        PROJECT_URL, {"bot_dispatch_backend": "attendee", "bot_config": config}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["bot_config"] == config


def test_switching_backend_checks_the_stored_bot_config(acme):
    acme.project.bot_config = {"meeting_url": "for my own runner"}
    acme.project.save()
    errors = bot_config_errors(
        acme.client.patch(PROJECT_URL, {"bot_dispatch_backend": "attendee"}, format="json")
    )
    assert "meeting_url" in errors[0]
    # An unrelated change is not blocked by what is stored.
    assert acme.client.patch(PROJECT_URL, {"bot_name": "Rec"}, format="json").status_code == 200


@pytest.mark.parametrize(
    "config",
    [
        {"a": "nul\x00here"},
        {"nul\x00key": 1},
        {"big": "x" * 40_000},
        {"deep": __import__("functools").reduce(lambda inner, _: {"d": inner}, range(40), {})},
    ],
    ids=["nul-value", "nul-key", "too-big", "too-deep"],
)
def test_bot_config_limits(acme, config):
    # (The request parser may refuse NUL and deep nesting before the field does; either way 400.)
    response = acme.client.patch(PROJECT_URL, {"bot_config": config}, format="json")
    assert response.status_code == 400
    acme.project.refresh_from_db()
    assert acme.project.bot_config == {}


def test_event_bot_config_fits_the_project_backend(acme):
    acme.project.bot_dispatch_backend = "attendee"
    acme.project.save()
    event = MeetingFactory(calendar=CalendarFactory(project=acme.project, calendar_user=None))
    url = f"/api/v1/calendar_events/{event.pk}/bot/"
    refused = acme.client.post(
        url, {"bot_name": "Rec", "bot_config": {"meeting_url": "x"}}, format="json"
    )
    assert "set by calsync" in bot_config_errors(refused)[0]
    refused = acme.client.post(url, {"bot_name": "Rec", "bot_config": "x"}, format="json")
    assert bot_config_errors(refused) == ["Must be a JSON object."]
    accepted = acme.client.post(
        url, {"bot_name": "Rec", "bot_config": {"zoom_settings": {"sdk": "web"}}}, format="json"
    )
    assert accepted.status_code == 200, accepted.json()


def test_admin_form_applies_the_same_rules(acme):
    def form(**changes):
        return admin_form(Project.objects.get(pk=acme.project.pk), **changes)

    refused = form(bot_config="x")
    assert not refused.is_valid()
    assert "bot_config" in refused.errors

    refused = form(bot_dispatch_backend="attendee", bot_config={"bot_name": "x"})
    assert not refused.is_valid()
    assert "set by calsync" in refused.errors["bot_config"][0]

    refused = form(bot_dispatch_backend="nope")
    assert not refused.is_valid()
    assert "bot_dispatch_backend" in refused.errors

    refused = form(allowed_redirect_origins=["javascript:alert(1)"])
    assert not refused.is_valid()
    assert "allowed_redirect_origins" in refused.errors

    accepted = form(
        allowed_redirect_origins=["https://App.acme.com:443/"], bot_config={"any": "object"}
    )
    assert accepted.is_valid(), accepted.errors
    accepted.save()
    project = Project.objects.get(pk=acme.project.pk)
    assert project.allowed_redirect_origins == ["https://app.acme.com"]
    assert project.bot_config == {"any": "object"}

"""The portable bot configuration (bots/params.py): Meeting BaaS v1's bot parameters, accepted in
every `bot_config`, typed for every backend, stored and echoed as sent, and handed to the
backend (the local runner gets all of it; the attendee backend translates what it can)."""

import pytest
from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator

from bots import jobs
from bots.backends import validate_bot_config
from bots.dispatch import push_bot
from bots.models import Bot
from bots.params import PORTABLE_KEYS, PORTABLE_SCHEMA, backend_part, portable_part
from meetings.models import BotSchedule
from tests.config.test_errors import assert_envelope
from tests.factories import CalendarFactory, MeetingFactory

from .conftest import NOW, later

pytestmark = pytest.mark.usefixtures("clock")

# Every portable key, with a value of its type (Meeting BaaS v1's BotParam2 and later keys).
EVERY_KEY = {
    "bot_image": "https://cdn.acme.test/bot.png",
    "enter_message": "Acme Notes is recording.",
    "extra": {"customer_id": "C-42", "tags": ["sales", 1]},
    "noone_joined_timeout": 300,
    "waiting_room_timeout": 600,
    "silence_timeout": 900,
    "recording_mode": "gallery_view",
    "speech_to_text": {"provider": "Gladia", "api_key": "gl-key"},
    "streaming_audio_frequency": "24khz",
    "streaming_input": "wss://stream.acme.test/in",
    "streaming_output": "wss://stream.acme.test/out",
    "transcription_custom_parameters": {"language": "fr", "diarize": True},
    "webhook_url": "https://hooks.acme.test/bot",
    "zoom_sdk_id": "sdk-id",
    "zoom_sdk_pwd": "sdk-secret",
    "zoom_obf_token": "obf-token",
    "zoom_obf_token_url": "https://tokens.acme.test/obf",
    "zoom_obf_token_user_id": "zoom-user-1",
    "zoom_access_token_url": "https://tokens.acme.test/zak",
}


def test_the_portable_keys_are_meeting_baas_bot_params_less_the_top_level_fields():
    Draft202012Validator.check_schema(PORTABLE_SCHEMA)
    assert set(EVERY_KEY) == PORTABLE_KEYS
    assert not {"bot_name", "deduplication_key"} & PORTABLE_KEYS
    config = {**EVERY_KEY, "recording_settings": {"format": "mp4"}}
    assert portable_part(config) == EVERY_KEY
    assert backend_part(config) == {"recording_settings": {"format": "mp4"}}


@pytest.fixture
def event(acme):
    calendar = CalendarFactory(project=acme.project, calendar_user=None)
    return MeetingFactory(
        calendar=calendar,
        start_time=later(hours=3),
        end_time=later(hours=3, minutes=30),
        meeting_url="https://zoom.us/j/555",
    )


def bot_url(event) -> str:
    return f"/api/v1/calendar_events/{event.pk}/bot/"


@pytest.mark.parametrize("backend", ["local", "attendee"])
def test_every_portable_key_is_accepted_stored_echoed_and_copied_to_the_bot(acme, event, backend):
    acme.project.bot_dispatch_backend = backend
    acme.project.bot_config = {"recording_mode": "speaker_view", "runner_flag": True}
    acme.project.save()
    config = {**EVERY_KEY, "my_runner_setting": {"deep": [1, 2]}}
    response = acme.client.post(
        bot_url(event), {"bot_name": "Acme Notes", "bot_config": config}, format="json"
    )
    assert response.status_code == 200, response.json()
    [body] = response.json()
    assert body["bot_schedule"]["bot_config"] == config
    assert BotSchedule.objects.get(meeting=event).bot_config == config
    bot = Bot.objects.get(pk=body["bots"][0]["id"])
    # The event's settings over the project's preset, key by key.
    assert bot.config == {"runner_flag": True, **config}

    # PATCH replaces the config, with the same rules.
    changed = {"recording_mode": "audio_only", "speech_to_text": "Default"}
    response = acme.client.patch(bot_url(event), {"bot_config": changed}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()[0]["bot_schedule"]["bot_config"] == changed
    bot.refresh_from_db()
    assert bot.config == {"runner_flag": True, **changed}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("recording_mode", "side_by_side"),
        ("speech_to_text", "Whisper"),
        ("speech_to_text", {"provider": "Gladia", "apikey": "typo"}),
        ("speech_to_text", {"api_key": "no provider"}),
        ("noone_joined_timeout", -1),
        ("waiting_room_timeout", "600"),
        ("silence_timeout", 10**9),
        ("silence_timeout", True),
        ("streaming_audio_frequency", "48khz"),
        ("streaming_input", "https://not.a.websocket/"),
        ("webhook_url", "ftp://hooks.acme.test/"),
        ("webhook_url", 42),
        ("bot_image", 7),
        ("bot_image", "not a url"),
        ("extra", ["not", "an", "object"]),
        ("transcription_custom_parameters", "lang=fr"),
        ("enter_message", "x" * 10_001),
        ("zoom_sdk_pwd", {"secret": 1}),
    ],
)
def test_a_portable_key_of_the_wrong_type_is_400_naming_it_and_nothing_is_stored(
    acme, event, key, value
):
    response = acme.client.post(
        bot_url(event), {"bot_name": "Acme Notes", "bot_config": {key: value}}, format="json"
    )
    body = assert_envelope(response, 400, "invalid_request_data")
    [message] = body["errors"]["bot_config"]
    assert message.startswith(f"bot_config['{key}']"), message
    assert "(a portable bot setting)" in message
    assert not BotSchedule.objects.exists() and not Bot.objects.exists()


def test_a_bad_patch_changes_nothing(acme, event):
    acme.client.post(
        bot_url(event), {"bot_name": "A", "bot_config": {"silence_timeout": 60}}, format="json"
    )
    response = acme.client.patch(
        bot_url(event), {"bot_config": {"silence_timeout": "soon"}}, format="json"
    )
    assert response.status_code == 400
    assert "bot_config['silence_timeout']" in response.json()["errors"]["bot_config"][0]
    assert BotSchedule.objects.get(meeting=event).bot_config == {"silence_timeout": 60}
    assert Bot.objects.get().config == {"silence_timeout": 60}


def test_the_project_preset_takes_the_same_keys_with_the_same_rules(acme):
    response = acme.client.patch("/api/v1/project/", {"bot_config": EVERY_KEY}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["bot_config"] == EVERY_KEY
    response = acme.client.patch(
        "/api/v1/project/", {"bot_config": {"recording_mode": "4k"}}, format="json"
    )
    assert response.status_code == 400
    assert "bot_config['recording_mode']" in response.json()["errors"]["bot_config"][0]


@pytest.mark.parametrize("backend", ["local", "attendee"])
def test_null_and_empty_strings_mean_unset_and_are_accepted(backend):
    config = {key: None for key in PORTABLE_KEYS}
    config.update(bot_image="", webhook_url="", streaming_input="", zoom_obf_token_url="")
    validate_bot_config(config, backend=backend)


def test_the_schema_error_has_a_code_and_says_what_is_expected():
    with pytest.raises(ValidationError) as caught:
        validate_bot_config({"webhook_url": "ftp://x"}, backend="local")
    assert caught.value.code == "bot_config_schema"
    assert caught.value.messages[0].startswith("bot_config['webhook_url']: 'ftp://x'")
    assert "An http(s) URL" in caught.value.messages[0]
    with pytest.raises(ValidationError) as caught:
        validate_bot_config({"speech_to_text": {"provider": "Nope"}}, backend="local")
    assert caught.value.messages[0].startswith("bot_config['speech_to_text']['provider']")


def test_bot_image_is_a_url_or_the_backends_own_object():
    validate_bot_config({"bot_image": "https://cdn.acme.test/a.png"}, backend="attendee")
    image = {"type": "image/png", "data": "iVBORw0KGgo="}
    validate_bot_config({"bot_image": image}, backend="attendee")
    validate_bot_config({"bot_image": image}, backend="local")
    with pytest.raises(ValidationError, match=r"bot_config\['bot_image'\]"):
        validate_bot_config({"bot_image": ["a"]}, backend="attendee")


def test_attendee_takes_only_an_https_webhook_url():
    validate_bot_config({"webhook_url": "http://hooks.acme.test/"}, backend="local")
    with pytest.raises(ValidationError) as caught:
        validate_bot_config({"webhook_url": "http://hooks.acme.test/"}, backend="attendee")
    assert caught.value.code == "bot_config_schema"
    assert "backend's schema" in caught.value.messages[0]
    assert "https" in caught.value.messages[0]


def test_the_local_runner_gets_the_whole_config_at_join_time(acme, event, hooks, clock):
    config = {**EVERY_KEY, "my_runner_setting": 1}
    acme.client.post(
        bot_url(event), {"bot_name": "Acme Notes", "bot_config": config}, format="json"
    )
    clock.shift(Bot.objects.get().join_at - NOW)
    assert jobs.dispatch_due_bots() == 1
    data = hooks.deliveries.get(event_type="bot.dispatch").payload["data"]["bot"]
    assert data["config"] == config


def test_the_attendee_backend_gets_the_translated_settings_end_to_end(acme, event, attendee):
    config = {**EVERY_KEY, "zoom_settings": {"sdk": "web"}}
    response = acme.client.post(
        bot_url(event), {"bot_name": "Acme Notes", "bot_config": config}, format="json"
    )
    assert response.status_code == 200, response.json()
    bot = Bot.objects.get()
    assert push_bot(bot_id=bot.pk).outcome == "synced"
    (remote,) = attendee.bots.values()
    assert remote.join_at > NOW
    assert remote.metadata == {
        "customer_id": "C-42",
        "tags": '["sales", 1]',
        "calsync_bot_id": str(bot.pk),
    }
    assert remote.extra == {
        "zoom_settings": {"sdk": "web"},
        "bot_chat_message": {"to": "everyone", "message": "Acme Notes is recording."},
        "recording_settings": {"view": "gallery_view"},
        "automatic_leave_settings": {
            "silence_timeout_seconds": 900,
            "waiting_room_timeout_seconds": 600,
            "only_participant_in_meeting_timeout_seconds": 300,
        },
        "transcription_settings": {"gladia": {}},
        "webhooks": [{"url": "https://hooks.acme.test/bot", "triggers": ["bot.state_change"]}],
    }
    # What Attendee has no setting for stays stored with the bot.
    assert Bot.objects.get().config == config

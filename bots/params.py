"""The portable bot configuration: the bot settings every surface accepts in `bot_config`.

They are Meeting BaaS v1's bot parameters (`BotParam2` in its OpenAPI, with the keys its later
docs added), under their own names, so a Meeting BaaS client's settings and a server API
client's `bot_config` are one and the same object. `bot_name` and `deduplication_key` are not
among them: every surface takes those as fields of their own.

calsync stores a bot_config as it was sent and echoes it back. Every backend receives the whole
of it (`Bot.config`) and translates the portable keys it has an equivalent for; the keys not
listed here are backend-specific (an Attendee settings group, a runner's own flag) and travel
untouched. `PORTABLE_SCHEMA` types the portable keys only, for every backend alike
(`bots.backends.validate_bot_config`).

Meeting BaaS allows null for almost every key; null, and "" for the string keys, mean "not set"
(clients send them for settings they do not use).
"""

from __future__ import annotations

from typing import Any

URL_MAX_LENGTH = 2048
TEXT_MAX_LENGTH = 10000  # an entry message (Attendee's chat messages stop there too)
TOKEN_MAX_LENGTH = 4096  # Zoom SDK ids, secrets and tokens
TIMEOUT_MAX_SECONDS = 86400  # a day: longer than any meeting a bot waits for

SPEECH_TO_TEXT_PROVIDERS = ("Gladia", "Runpod", "Default")
RECORDING_MODES = ("speaker_view", "gallery_view", "audio_only")
AUDIO_FREQUENCIES = ("16khz", "24khz")


def _url(schemes: str, description: str) -> dict:
    return {
        "type": ["string", "null"],
        "maxLength": URL_MAX_LENGTH,
        "pattern": rf"^({schemes})://[^\s]+$|^$",
        "description": description,
    }


def _text(max_length: int, description: str) -> dict:
    return {"type": ["string", "null"], "maxLength": max_length, "description": description}


def _timeout(description: str) -> dict:
    return {
        "type": ["integer", "null"],
        "minimum": 0,
        "maximum": TIMEOUT_MAX_SECONDS,
        "description": f"{description} (seconds, 0 to {TIMEOUT_MAX_SECONDS}).",
    }


def _one_of(values: tuple[str, ...], description: str) -> dict:
    return {"enum": [*values, None], "description": f"{description}: one of {', '.join(values)}."}


_HTTP = "https?"

PORTABLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        # A URL here; an object is a backend's own image (Attendee's {type, data}), which the
        # backend's schema judges.
        "bot_image": {
            **_url(_HTTP, "The bot's picture: an http(s) URL of an image."),
            "type": ["string", "object", "null"],
        },
        "enter_message": _text(TEXT_MAX_LENGTH, "A chat message the bot sends when it joins."),
        "extra": {
            "type": ["object", "null"],
            "description": "Your own data for this bot (a JSON object), sent with it.",
        },
        "noone_joined_timeout": _timeout("Leave when nobody else has joined for this long"),
        "waiting_room_timeout": _timeout("Leave when still in the waiting room after this long"),
        "silence_timeout": _timeout("Leave after this much continuous silence"),
        "recording_mode": _one_of(RECORDING_MODES, "What the bot records"),
        "speech_to_text": {
            "anyOf": [
                {"type": "null"},
                {"enum": list(SPEECH_TO_TEXT_PROVIDERS)},
                {
                    "type": "object",
                    "required": ["provider"],
                    "properties": {
                        "provider": {"enum": list(SPEECH_TO_TEXT_PROVIDERS)},
                        "api_key": _text(TOKEN_MAX_LENGTH, "The provider's API key."),
                    },
                    "additionalProperties": False,
                },
            ],
            "description": (
                f"Transcription: a provider ({', '.join(SPEECH_TO_TEXT_PROVIDERS)}) or "
                "{provider, api_key}."
            ),
        },
        "streaming_audio_frequency": _one_of(AUDIO_FREQUENCIES, "The streamed audio's rate"),
        "streaming_input": _url("wss?", "A websocket URL (ws:// or wss://) of audio for the bot."),
        "streaming_output": _url("wss?", "A websocket URL (ws:// or wss://) for the bot's audio."),
        "transcription_custom_parameters": {
            "type": ["object", "null"],
            "description": "Extra parameters for the transcription provider (a JSON object).",
        },
        "webhook_url": _url(_HTTP, "An http(s) URL that hears about this bot."),
        "zoom_sdk_id": _text(TOKEN_MAX_LENGTH, "Your Zoom SDK id."),
        "zoom_sdk_pwd": _text(TOKEN_MAX_LENGTH, "Your Zoom SDK secret."),
        "zoom_obf_token": _text(TOKEN_MAX_LENGTH, "A Zoom on-behalf-of token."),
        "zoom_obf_token_url": _url(_HTTP, "An http(s) URL that hands out Zoom OBF tokens."),
        "zoom_obf_token_user_id": _text(TOKEN_MAX_LENGTH, "The Zoom user an OBF token is for."),
        "zoom_access_token_url": _url(_HTTP, "An http(s) URL that hands out Zoom tokens."),
    },
}

PORTABLE_KEYS: frozenset[str] = frozenset(PORTABLE_SCHEMA["properties"])


def portable_part(config: dict | None) -> dict:
    """The portable keys of a bot_config, as they were sent."""
    return {key: value for key, value in (config or {}).items() if key in PORTABLE_KEYS}


def backend_part(config: dict | None) -> dict:
    """Everything else: the backend-specific keys, untouched."""
    return {key: value for key, value in (config or {}).items() if key not in PORTABLE_KEYS}


def is_set(value) -> bool:
    """Null and "" leave a portable setting unset (see the module docstring)."""
    return value is not None and value != ""

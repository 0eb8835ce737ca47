"""An Attendee-compatible bot API (attendee-labs/attendee, and services speaking its shape).

    POST   {base}/api/v1/bots                {meeting_url, bot_name, join_at?, metadata,
                                              deduplication_key, ...settings from bot_config}
    PATCH  {base}/api/v1/bots/{id}           {join_at}   (scheduled bots only)
    DELETE {base}/api/v1/bots/{id}           (scheduled bots only)
    POST   {base}/api/v1/bots/{id}/leave     (a launched bot)
    GET    {base}/api/v1/bots?deduplication_key=...
    Authorization: Token <key>

The base URL and key come from the project's `BotBackendConfig`. Attendee refuses a `join_at`
in the past, so a bot that is due is created without one (it joins at once), and it refuses to
change a bot's meeting URL, so a new URL or name replaces the bot (delete, then create).

The bot's config becomes Attendee settings (`_settings`). Its portable keys (`bots/params.py`)
that Attendee has an equivalent for are translated:

    recording_mode          recording_settings.view (speaker_view, gallery_view);
                            audio_only: recording_settings.format "mp3"
    silence_timeout         automatic_leave_settings.silence_timeout_seconds
    waiting_room_timeout    automatic_leave_settings.waiting_room_timeout_seconds
    noone_joined_timeout    automatic_leave_settings.only_participant_in_meeting_timeout_seconds
    enter_message           bot_chat_message {to: "everyone", message}
    webhook_url             webhooks [{url, triggers: ["bot.state_change"]}] (https only)
    speech_to_text          transcription_settings {gladia: {}} for Gladia; Default and Runpod:
                            nothing (Attendee's default; it has no Runpod). The api_key is not
                            sent: Attendee keeps provider keys in its project's credentials.
    extra                   merged into metadata (values as strings)
    bot_image (an object)   bot_image as it is: Attendee's own {type, data} image

The config's own Attendee settings win over translated ones, key by key (a translated webhook is
added to the config's own list; the config's own transcription_settings replace a translated
provider). These portable keys have no Attendee equivalent and are not sent (Attendee refuses
unknown fields); they stay stored on the bot: bot_image as a URL, streaming_input,
streaming_output, streaming_audio_frequency, transcription_custom_parameters, zoom_sdk_id,
zoom_sdk_pwd, zoom_obf_token, zoom_obf_token_url, zoom_obf_token_user_id, zoom_access_token_url.
Every key that is not portable goes to Attendee untouched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone

from bots.models import Bot, BotBackendConfig, base_url_problem
from bots.params import backend_part, is_set
from config import http
from webhooks.delivery import parse_retry_after
from webhooks.events import iso

from .base import Ack, BackendError, BotBackend

# Closer than this to its join time, a bot is created to join now: a join_at that is in the
# future when sent may be in the past when it arrives.
JOIN_NOW_MARGIN = timedelta(seconds=5)
MAX_RESPONSE_BYTES = 1024 * 1024
ERROR_EXCERPT = 300
# Statuses worth retrying; 401/403 too, because staff can fix the key meanwhile.
RETRYABLE_STATUSES = {401, 403, 408, 429}
REFUSED_IN_CURRENT_STATE = {400, 405, 409}


# What a bot_config may hold: Attendee's settings groups are objects, its per-bot webhooks a list
# of {url, triggers}. Other keys pass through for Attendee to judge (it gains settings often).
# The portable keys are typed by bots/params.py for every backend; here only what Attendee adds.
_SETTINGS_GROUPS = (
    "bot_chat_message",
    "automatic_leave_settings",
    "callback_settings",
    "debug_settings",
    "external_media_storage_settings",
    "google_meet_settings",
    "recording_settings",
    "rtmp_settings",
    "teams_settings",
    "transcription_settings",
    "voice_agent_settings",
    "websocket_settings",
    "zoom_settings",
)
# Every top-level key of Attendee's bot create that is a setting (what a client may send along).
BOT_SETTINGS = (*_SETTINGS_GROUPS, "bot_image", "webhooks")
CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        **{name: {"type": "object"} for name in _SETTINGS_GROUPS},
        # Attendee's {type, data} image, or the portable image URL (not sent).
        "bot_image": {"type": ["object", "string", "null"]},
        "webhooks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["url", "triggers"],
                "properties": {
                    "url": {"type": "string", "pattern": "^https://"},
                    "triggers": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                },
            },
        },
        "webhook_url": {
            "pattern": "^(https://|$)",
            "description": "Attendee sends a bot's webhooks over https only: an https:// URL.",
        },
    },
}


def _speech_to_text(value) -> dict:
    provider = value.get("provider") if isinstance(value, dict) else value
    return {"transcription_settings": {"gladia": {}}} if provider == "Gladia" else {}


# Portable key -> the Attendee settings its (set) value stands for (see the module docstring).
_FROM_PORTABLE: dict[str, Callable[[Any], dict]] = {
    "bot_image": lambda image: {"bot_image": image} if isinstance(image, dict) else {},
    "enter_message": lambda text: {"bot_chat_message": {"to": "everyone", "message": text}},
    "recording_mode": lambda mode: {
        "recording_settings": {"format": "mp3"} if mode == "audio_only" else {"view": mode}
    },
    "silence_timeout": lambda seconds: {
        "automatic_leave_settings": {"silence_timeout_seconds": seconds}
    },
    "waiting_room_timeout": lambda seconds: {
        "automatic_leave_settings": {"waiting_room_timeout_seconds": seconds}
    },
    "noone_joined_timeout": lambda seconds: {
        "automatic_leave_settings": {"only_participant_in_meeting_timeout_seconds": seconds}
    },
    "speech_to_text": _speech_to_text,
    "webhook_url": lambda url: {"webhooks": [{"url": url, "triggers": ["bot.state_change"]}]},
}
# A provider choice: the config's own replaces a translated one instead of adding a second.
_NOT_MERGED = {"transcription_settings"}


def _settings(config: dict) -> dict:
    """The Attendee settings of a bot_config: its keys that are not portable, untouched, with
    the translated portable keys under them."""
    settings = backend_part(config)
    for key, translate in _FROM_PORTABLE.items():
        if is_set(config.get(key)):
            for name, value in translate(config[key]).items():
                settings[name] = _under(value, settings.get(name), merge=name not in _NOT_MERGED)
    return settings


def _under(translated, own, *, merge: bool):
    """`own` (set in the config itself, or translated earlier) wins, key by key."""
    if own is None:
        return translated
    if merge and isinstance(own, dict) and isinstance(translated, dict):
        return {**translated, **own}
    if merge and isinstance(own, list) and isinstance(translated, list):
        urls = {hook.get("url") for hook in own if isinstance(hook, dict)}
        return own + [hook for hook in translated if hook["url"] not in urls]
    return own


def _excerpt(response: requests.Response) -> str:
    return response.content[:ERROR_EXCERPT].decode("utf-8", errors="replace")


class _Client:
    def __init__(self, config: BotBackendConfig):
        self.config = config
        self.base = config.base_url.rstrip("/") + "/api/v1/bots"

    def call(self, method: str, path: str = "", **kwargs) -> requests.Response:
        allow_private = self.config.allow_private_addresses or settings.BOTS_ALLOW_PRIVATE_ADDRESSES
        timeout = settings.BOTS_BACKEND_TIMEOUT_SECONDS
        try:
            return http.request(
                method,
                self.base + path,
                headers={
                    "Authorization": f"Token {self.config.api_key}",
                    "Accept": "application/json",
                },
                guard_private=not allow_private,
                timeout=timeout,
                max_bytes=MAX_RESPONSE_BYTES,
                **kwargs,
            )
        except http.UnsafeDestination as exc:
            raise BackendError(f"Refused destination: {exc}", retryable=False) from None
        except requests.exceptions.Timeout:
            raise BackendError(
                f"{method} {self.base}{path} timed out after {timeout} s.", retryable=True
            ) from None
        except requests.exceptions.RequestException as exc:
            raise BackendError(f"{method} {path or '/'}: {exc}", retryable=True) from None

    @staticmethod
    def fail(response: requests.Response, what: str) -> BackendError:
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=timezone.now())
        return BackendError(
            f"{what}: HTTP {status} {_excerpt(response)}".strip(),
            retryable=status in RETRYABLE_STATUSES or status >= 500,
            retry_after=retry_after.total_seconds() if retry_after else None,
            status=status,
        )


def _json(response: requests.Response) -> dict:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise BackendError(
            f"Unexpected response (HTTP {response.status_code}): {_excerpt(response)}",
            retryable=True,
        )
    return payload


def deduplication_key(bot: Bot) -> str:
    """Stable for one (bot, join time, URL): a create repeated after a lost answer is refused
    by the backend instead of making a second bot; a moved bot gets a new key."""
    digest = hashlib.sha256(f"{bot.join_at.isoformat()}|{bot.meeting_url}".encode()).hexdigest()
    return f"calsync-{bot.id}-{digest[:12]}"


def _metadata(bot: Bot) -> dict[str, str]:
    # The portable `extra` is the customer's own data, as the bot's metadata is. Attendee's
    # metadata holds strings.
    extra = (bot.config or {}).get("extra")
    merged = {**(extra if isinstance(extra, dict) else {}), **(bot.metadata or {})}
    values = {
        str(key): value if isinstance(value, str) else json.dumps(value)
        for key, value in merged.items()
    }
    return {**values, "calsync_bot_id": str(bot.id)}


class AttendeeBackend(BotBackend):
    name = "attendee"
    label = "Attendee-compatible bot API"
    config_schema = CONFIG_SCHEMA
    reserved_config_keys = frozenset(
        {"meeting_url", "bot_name", "join_at", "metadata", "deduplication_key"}
    )

    def _client(self, bot: Bot) -> _Client:
        config = BotBackendConfig.objects.filter(project_id=bot.project_id).first()
        if config is None or not config.base_url or not config.api_key:
            raise BackendError(
                "The project has no bot backend configuration (base URL and API key); add "
                "one in the admin.",
                retryable=True,
            )
        problem = base_url_problem(config.base_url)
        if problem:  # saved before the rule existed: the key must not go there
            raise BackendError(
                f"The bot backend's base URL is refused: {problem} Fix it in the admin.",
                retryable=True,
            )
        return _Client(config)

    def create(self, bot: Bot) -> Ack:
        client = self._client(bot)
        key = deduplication_key(bot)
        body = {
            **_settings(bot.config or {}),
            "meeting_url": bot.meeting_url,
            "bot_name": bot.name,
            "metadata": _metadata(bot),
            "deduplication_key": key,
        }
        if bot.join_at > timezone.now() + JOIN_NOW_MARGIN:
            body["join_at"] = iso(bot.join_at)
        response = client.call("POST", json=body)
        if response.status_code in (400, 409) and b"deduplication" in response.content.lower():
            existing = self._find(client, key)
            if existing:
                return Ack.of(bot, existing)
        if not 200 <= response.status_code < 300:
            raise client.fail(response, "Create bot")
        backend_bot_id = _json(response).get("id")
        if not isinstance(backend_bot_id, str) or not backend_bot_id:
            raise BackendError(f"Create bot: no id in {_excerpt(response)}", retryable=True)
        return Ack.of(bot, backend_bot_id)

    def _find(self, client: _Client, key: str) -> str | None:
        response = client.call("GET", params={"deduplication_key": key})
        if response.status_code != 200:
            raise client.fail(response, "Find bot by deduplication key")
        for item in _json(response).get("results") or []:
            if isinstance(item, dict) and item.get("deduplication_key") == key and item.get("id"):
                return str(item["id"])
        return None

    def update(self, bot: Bot) -> Ack:
        if not bot.backend_bot_id:
            return self.create(bot)
        client = self._client(bot)
        only_time_changed = (bot.meeting_url, bot.name) == (
            bot.backend_meeting_url,
            bot.backend_name,
        )
        if only_time_changed and bot.join_at > timezone.now() + JOIN_NOW_MARGIN:
            response = client.call(
                "PATCH", f"/{bot.backend_bot_id}", json={"join_at": iso(bot.join_at)}
            )
            if 200 <= response.status_code < 300:
                return Ack.of(bot, bot.backend_bot_id)
            if response.status_code == 404:
                return self.create(bot)
            if response.status_code not in REFUSED_IN_CURRENT_STATE:
                raise client.fail(response, "Move bot")
            # Refused: it has been launched already. Replace it.
        self.delete(bot)
        return self.create(bot)

    def delete(self, bot: Bot) -> None:
        client = self._client(bot)
        path = f"/{bot.backend_bot_id}"
        response = client.call("DELETE", path)
        if 200 <= response.status_code < 300 or response.status_code == 404:
            return
        if response.status_code not in REFUSED_IN_CURRENT_STATE:
            raise client.fail(response, "Delete bot")
        # Launched: only asking it to leave removes it from the meeting.
        response = client.call("POST", f"{path}/leave")
        if 200 <= response.status_code < 300 or response.status_code == 404:
            return
        if response.status_code in REFUSED_IN_CURRENT_STATE:
            return  # it has left or ended already
        raise client.fail(response, "Make bot leave")

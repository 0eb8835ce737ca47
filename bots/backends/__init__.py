"""Registry of bot dispatch backends: `get_backend("local")`. Add a backend here, nowhere else.

A project picks one with `Project.bot_dispatch_backend`.
"""

from functools import cache

from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from bots.params import PORTABLE_SCHEMA
from projects.validators import JsonObjectValidator

from .base import BackendError, BotBackend

BOT_CONFIG_MAX_BYTES = 32768

BACKENDS = {
    "local": "bots.backends.local.LocalBackend",
    "attendee": "bots.backends.attendee.AttendeeBackend",
}

_instances: dict[str, BotBackend] = {}
_PORTABLE_VALIDATOR = Draft202012Validator(PORTABLE_SCHEMA)


class UnknownBackend(BackendError):
    def __init__(self, name: str):
        super().__init__(
            f"Unknown bot dispatch backend {name!r}; set the project's bot_dispatch_backend "
            f"to one of: {', '.join(sorted(BACKENDS))}.",
            retryable=True,  # staff can fix the project; the bot is retried meanwhile
        )


def get_backend(name: str) -> BotBackend:
    if name not in BACKENDS:
        raise UnknownBackend(name)
    if name not in _instances:
        _instances[name] = import_string(BACKENDS[name])()
    return _instances[name]


def validate_bot_config(config, *, backend: str) -> None:
    """A `bot_config` (the project's preset, or one event's) must be a JSON object within limits,
    its portable keys must have their types (`bots/params.py`, for every backend), and it must fit
    the backend it goes to: no key calsync sets itself, and its schema where it has one.
    Raises Django's ValidationError. (An unknown backend name is the backend field's error.)"""
    JsonObjectValidator(BOT_CONFIG_MAX_BYTES)(config)
    _check(config, _PORTABLE_VALIDATOR, "a portable bot setting")
    if backend not in BACKENDS:
        return
    impl = get_backend(backend)
    reserved = sorted(impl.reserved_config_keys & set(config))
    if reserved:
        raise ValidationError(
            f"{', '.join(reserved)}: set by calsync for every bot; remove from bot_config.",
            code="reserved_key",
        )
    validator = _schema_validator(backend)
    if validator is not None:
        _check(config, validator, f"the {impl.label} backend's schema")


def _check(config: dict, validator: Draft202012Validator, source: str) -> None:
    error = best_match(validator.iter_errors(config))
    if error is None:
        return
    path = list(error.absolute_path)
    where = "bot_config" + "".join(f"[{part!r}]" for part in path)
    message = f"{where}: {error.message[:200]} ({source})."
    # A key that says what it expects in words is clearer than a pattern.
    described = validator.schema.get("properties", {}).get(path[0], {}) if path else {}
    if described.get("description"):
        message += " " + described["description"]
    raise ValidationError(message, code="bot_config_schema")


@cache
def _schema_validator(backend: str) -> Draft202012Validator | None:
    schema = get_backend(backend).config_schema
    return Draft202012Validator(schema) if schema else None

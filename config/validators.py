"""Validators of the JSON documents stored as settings (metadata, bot_config): shared by every
app's models and serializers, and by the API schema that types their fields."""

import json

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

JSON_MAX_DEPTH = 32


def check_json_document(value, *, max_bytes: int) -> None:
    """What every stored JSON setting must be: at most `max_bytes` as compact JSON, nested at
    most JSON_MAX_DEPTH levels, and no NUL character in any key or string (PostgreSQL cannot
    store one in jsonb)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > JSON_MAX_DEPTH:
            raise ValidationError(
                f"Nested too deeply (at most {JSON_MAX_DEPTH} levels).", code="too_deep"
            )
        if isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in str(key):
                    raise ValidationError("NUL characters are not allowed.", code="nul_character")
                stack.append((child, depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and "\x00" in item:
            raise ValidationError("NUL characters are not allowed.", code="nul_character")
    try:
        size = len(json.dumps(value, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError):
        raise ValidationError("Must be plain JSON.", code="invalid_json") from None
    if size > max_bytes:
        raise ValidationError(f"Must be at most {max_bytes} bytes as JSON.", code="too_large")


@deconstructible
class JsonObjectValidator:
    """A model field validator: a JSON object (not a string, list or number) within limits."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes

    def __call__(self, value) -> None:
        if not isinstance(value, dict):
            raise ValidationError("Must be a JSON object.", code="not_an_object")
        check_json_document(value, max_bytes=self.max_bytes)

    def __eq__(self, other) -> bool:
        return isinstance(other, JsonObjectValidator) and other.max_bytes == self.max_bytes

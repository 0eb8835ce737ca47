import json
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(value: str) -> str:
    """`https://App.example.com:443/` → `https://app.example.com`: lower-case host, no default
    port, no trailing slash. Anything but a bare origin fails."""
    if not isinstance(value, str):
        raise ValidationError("An origin must be a string.", code="invalid_origin")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"{value!r} is not an origin: use scheme://host[:port].", code="invalid_origin"
        )
    if (
        parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or parts.password is not None
    ):
        raise ValidationError(
            f"{value!r} is not an origin: remove the path, query and credentials.",
            code="invalid_origin",
        )
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(f"{value!r} has an invalid port.", code="invalid_origin") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port == DEFAULT_PORTS[parts.scheme]:
        port = None  # https://a:443 is https://a
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def normalize_origins(values) -> list[str]:
    if not isinstance(values, list | tuple):
        raise ValidationError("Expected a list of origins.", code="invalid_origin")
    return sorted({normalize_origin(value) for value in values})


def origin_allowed(origin: str, allowed) -> bool:
    """Whether `origin` (a browser's `Origin`, or a URL's scheme://netloc) is one of `allowed`,
    both compared normalised (`https://a:443` is `https://a`), so values stored before a
    normalisation rule existed still compare right."""
    try:
        origin = normalize_origin(origin)
    except ValidationError:
        return False  # "null", garbage: not an origin anyone allowed
    for value in allowed:
        try:
            if normalize_origin(value) == origin:
                return True
        except ValidationError:
            continue
    return False


# --- JSON-shaped settings ----------------------------------------------------------------------

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

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

# The JSON-settings validators live in config (config/api/schema.py reads them); the apps' models
# and serializers import them from here too.
from config.validators import JSON_MAX_DEPTH, JsonObjectValidator, check_json_document

__all__ = [
    "JSON_MAX_DEPTH",
    "JsonObjectValidator",
    "check_json_document",
    "normalize_origin",
    "normalize_origins",
    "origin_allowed",
]

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

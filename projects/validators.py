from urllib.parse import urlsplit

from django.core.exceptions import ValidationError


def normalize_origin(value: str) -> str:
    """`https://App.example.com/` → `https://app.example.com`; anything but a bare origin fails."""
    if not isinstance(value, str):
        raise ValidationError("An origin must be a string.", code="invalid_origin")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"{value!r} is not an origin: use scheme://host[:port].", code="invalid_origin"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
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
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def normalize_origins(values) -> list[str]:
    if not isinstance(values, list | tuple):
        raise ValidationError("Expected a list of origins.", code="invalid_origin")
    return sorted({normalize_origin(value) for value in values})

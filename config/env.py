"""Typed, strict readers for settings that come from the environment.

django-environ parses the structured values (database and cache URLs); the helpers here add the
checks it does not make, so a typo in a deployment fails at start-up with a message that names the
variable instead of surfacing later as odd behaviour.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}

VALID_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
SUPPORTED_DATABASE_ENGINES = {"django.db.backends.postgresql", "django.db.backends.sqlite3"}

# Values that mean "nobody chose a secret": refused outside DEBUG.
INSECURE_SECRET_PREFIX = "insecure-dev-"


class Env:
    def __init__(self, environ_map):
        self.environ = environ_map
        self.django_env = environ.Env()
        self.django_env.ENVIRON = environ_map

    def raw(self, name: str, default: str | None = None) -> str | None:
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            return default
        return value.strip()

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        word = value.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a boolean; use one of: true, false, 1, 0, yes, no, on, off."
        )

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
        return number

    def list(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self.raw(name)
        if value is None:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def url(self, name: str, default: str, *, trailing_slash: bool = False) -> str:
        value = self.raw(name, default)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ImproperlyConfigured(
                f"{name}={value!r} is not an absolute http(s) URL (for example {default!r})."
            )
        if trailing_slash and not value.endswith("/"):
            value += "/"
        return value

    def database(self, name: str, default: str) -> dict:
        value = self.raw(name, default)
        try:
            config = self.django_env.db_url_config(value)
        except Exception as exc:
            raise ImproperlyConfigured(f"{name} could not be parsed: {exc}") from None
        if config.get("ENGINE") not in SUPPORTED_DATABASE_ENGINES:
            raise ImproperlyConfigured(
                f"{name}={_redact(value)!r} names an unsupported database; "
                "use postgres://user:password@host:5432/name or sqlite:///path/to/file.sqlite3."
            )
        return config

    def cache(self, name: str, default: str) -> dict:
        value = self.raw(name, default)
        try:
            return self.django_env.cache_url_config(value)
        except Exception as exc:
            raise ImproperlyConfigured(
                f"{name}={_redact(value)!r} could not be parsed: {exc}"
            ) from None

    def fernet_keys(self, name: str, *, fallback_secret: str | None) -> list[str]:
        """Fernet keys, newest first. Without any, derive one from ``fallback_secret`` (dev only)."""
        keys = self.list(name)
        if not keys:
            if fallback_secret is None:
                raise ImproperlyConfigured(
                    f"{name} is required when DEBUG is off: a comma-separated list of Fernet keys, "
                    "newest first. Make one with: python manage.py generate_encryption_key"
                )
            digest = hashlib.sha256(("field-encryption:" + fallback_secret).encode()).digest()
            return [base64.urlsafe_b64encode(digest).decode()]
        for position, key in enumerate(keys, start=1):
            try:
                Fernet(key)
            except (ValueError, TypeError):
                raise ImproperlyConfigured(
                    f"{name}: key number {position} is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes)."
                ) from None
        return keys

    def signing_keys(self, name: str, *, fallback_secret: str) -> dict[str, str]:
        """`kid:secret,kid:secret`, newest first: the first signs, all verify. Without any, one
        key derived from ``fallback_secret`` (SECRET_KEY)."""
        entries = self.list(name)
        if not entries:
            digest = hashlib.sha256(("calendar-token:" + fallback_secret).encode()).hexdigest()
            return {"default": digest}
        keys: dict[str, str] = {}
        for position, entry in enumerate(entries, start=1):
            kid, _, secret = entry.partition(":")
            if not VALID_KID.match(kid) or not secret:
                raise ImproperlyConfigured(
                    f"{name}: entry number {position} must look like KEY_ID:SECRET "
                    "(key id of letters, digits, '-' or '_')."
                )
            if len(secret) < 32:
                raise ImproperlyConfigured(
                    f"{name}: the secret of key {kid!r} is too short (at least 32 characters)."
                )
            if kid in keys:
                raise ImproperlyConfigured(f"{name}: key id {kid!r} appears twice.")
            keys[kid] = secret
        return keys


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(parts.password, "***")
    return url


def check_production_secret(secret_key: str) -> None:
    if secret_key.startswith(INSECURE_SECRET_PREFIX) or secret_key.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "SECRET_KEY is the insecure development default; set SECRET_KEY to a long random "
            "value when DEBUG is off (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    if len(secret_key) < 32 or len(set(secret_key)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY is too weak: use at least 32 random characters when DEBUG is off."
        )

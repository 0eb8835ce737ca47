"""Calendar auth tokens (Recall Calendar V1): short-lived JWTs that let a browser or mobile client
act for one calendar user of one project, minted by the customer's backend with its API key.

Signed with HS256 under a key id (`kid`) so keys rotate without invalidating live tokens: the
first key of CALENDAR_TOKEN_SIGNING_KEYS signs, every listed key verifies.

A token names the API key that minted it (`akid`) and dies when that key is revoked: customers
revoke a leaked key to stop access. The check rides on the one query that loads the user. A token
without `akid` (minted before tokens carried it) dies when any key of its project is revoked
after it was minted.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils import timezone

from projects.models import ApiKey

from .models import CalendarUser

ISSUER = "calsync"
AUDIENCE = "calsync:calendar"
ALGORITHM = "HS256"


class InvalidCalendarToken(Exception):
    """The token cannot be used; the message says why, in words safe to show the caller."""


@dataclass(frozen=True)
class VerifiedToken:
    calendar_user: CalendarUser
    api_key_id: str | None  # the API key that minted it


def mint(calendar_user: CalendarUser, *, api_key_id=None) -> str:
    """A token for `calendar_user`, bound to the API key `api_key_id` that asked for it."""
    kid, secret = next(iter(settings.CALENDAR_TOKEN_SIGNING_KEYS.items()))
    now = timezone.now()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(calendar_user.pk),
        "pid": str(calendar_user.project_id),
        "iat": now,
        "exp": now + timedelta(seconds=settings.CALENDAR_TOKEN_LIFETIME_SECONDS),
    }
    if api_key_id is not None:
        claims["akid"] = str(api_key_id)
    return jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": kid})


def verify(token: str) -> CalendarUser:
    """The calendar user a token stands for, or InvalidCalendarToken."""
    return verify_token(token).calendar_user


def verify_token(token: str) -> VerifiedToken:
    """The calendar user a token stands for and the key that minted it, or InvalidCalendarToken."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise InvalidCalendarToken("The calendar auth token is malformed.") from None
    secret = settings.CALENDAR_TOKEN_SIGNING_KEYS.get(header.get("kid"))
    if secret is None:
        raise InvalidCalendarToken("The calendar auth token was signed with an unknown key.")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "pid", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidCalendarToken("The calendar auth token has expired.") from None
    except jwt.InvalidTokenError:
        raise InvalidCalendarToken("The calendar auth token is invalid.") from None
    api_key_id = claims.get("akid")
    users = CalendarUser.objects.select_related("project").filter(
        pk=claims["sub"], project_id=claims["pid"]
    )
    keys = ApiKey.objects.filter(project_id=OuterRef("project_id"))
    try:
        if api_key_id is not None:
            key_alive = Exists(keys.filter(pk=api_key_id, revoked_at__isnull=True))
        else:
            minted_at = datetime.fromtimestamp(claims["iat"], tz=UTC)
            key_alive = ~Exists(keys.filter(revoked_at__gte=minted_at))
        calendar_user = users.filter(key_alive).first()
        if calendar_user is None and users.exists():
            raise InvalidCalendarToken(
                "The API key this calendar auth token was minted with has been revoked."
            )
    except (ValueError, TypeError, OverflowError, OSError, ValidationError):  # not UUIDs...
        calendar_user = None
    if calendar_user is None:
        raise InvalidCalendarToken("The calendar user of this token no longer exists.")
    return VerifiedToken(calendar_user, api_key_id)

"""Calendar auth tokens (Recall Calendar V1): short-lived JWTs that let a browser or mobile client
act for one calendar user of one project, minted by the customer's backend with its API key.

Signed with HS256 under a key id (`kid`) so keys rotate without invalidating live tokens: the
first key of CALENDAR_TOKEN_SIGNING_KEYS signs, every listed key verifies.
"""

from datetime import timedelta

import jwt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import CalendarUser

ISSUER = "calsync"
AUDIENCE = "calsync:calendar"
ALGORITHM = "HS256"


class InvalidCalendarToken(Exception):
    """The token cannot be used; the message says why, in words safe to show the caller."""


def mint(calendar_user: CalendarUser) -> str:
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
    return jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": kid})


def verify(token: str) -> CalendarUser:
    """The calendar user a token stands for, or InvalidCalendarToken."""
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
    try:
        calendar_user = (
            CalendarUser.objects.select_related("project")
            .filter(pk=claims["sub"], project_id=claims["pid"])
            .first()
        )
    except (ValueError, ValidationError):
        calendar_user = None
    if calendar_user is None:
        raise InvalidCalendarToken("The calendar user of this token no longer exists.")
    return calendar_user

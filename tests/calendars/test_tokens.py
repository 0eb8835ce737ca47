from datetime import timedelta

import jwt
import pytest
import time_machine
from django.utils import timezone

from calendars import tokens
from calendars.models import CalendarUser

USER_URL = "/api/v1/calendar/user/"


def call(anon, token, header="HTTP_X_RECALLCALENDARAUTHTOKEN"):
    return anon.get(USER_URL, **{header: token})


def test_authenticate_creates_user_once_and_token_works(acme, anon):
    first = acme.client.post("/api/v1/calendar/authenticate/", {"user_id": "u-1"}, format="json")
    second = acme.client.post("/api/v1/calendar/authenticate", {"user_id": "u-1"}, format="json")
    assert first.status_code == second.status_code == 200
    assert set(first.json()) == {"token"}
    assert CalendarUser.objects.filter(project=acme.project, external_id="u-1").count() == 1
    response = call(anon, first.json()["token"])
    assert response.status_code == 200
    assert response.json()["external_id"] == "u-1"


@pytest.mark.parametrize("body", [{}, {"user_id": ""}, {"user_id": "x" * 256}, {"user_id": None}])
def test_authenticate_rejects_bad_user_id(acme, body):
    response = acme.client.post("/api/v1/calendar/authenticate/", body, format="json")
    assert response.status_code == 400
    assert "user_id" in response.json()["errors"]
    assert not CalendarUser.objects.exists()


def test_authenticate_needs_api_key(anon, db):
    response = anon.post("/api/v1/calendar/authenticate/", {"user_id": "u"}, format="json")
    assert response.status_code == 401


def test_bearer_header_is_accepted(anon, alice):
    response = call(anon, f"Bearer {tokens.mint(alice)}", header="HTTP_AUTHORIZATION")
    assert response.status_code == 200


def test_token_claims(alice, settings):
    token = tokens.mint(alice)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    assert header["kid"] in settings.CALENDAR_TOKEN_SIGNING_KEYS
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == "calsync:calendar"
    assert claims["iss"] == "calsync"
    assert claims["sub"] == str(alice.pk)
    assert claims["pid"] == str(alice.project_id)
    assert claims["exp"] - claims["iat"] == 86400


def forge(settings, calendar_user, *, key=None, algorithm="HS256", **claims) -> str:
    """A token as an attacker or a buggy client would make it: valid claims unless overridden,
    signed with `key` (default: the real signing key) under the real key id."""
    kid, secret = next(iter(settings.CALENDAR_TOKEN_SIGNING_KEYS.items()))
    payload = {
        "sub": str(calendar_user.pk),
        "pid": str(calendar_user.project_id),
        "iss": "calsync",
        "aud": "calsync:calendar",
        "iat": timezone.now(),
        "exp": timezone.now() + timedelta(hours=1),
        **claims,
    }
    signing_key = None if algorithm == "none" else (key or secret)
    return jwt.encode(payload, signing_key, algorithm=algorithm, headers={"kid": kid})


def assert_rejected(anon, token, message: str):
    response = call(anon, token)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "authentication_failed"
    assert message in body["message"]


def test_expired(anon, alice):
    with time_machine.travel(timezone.now() - timedelta(hours=25), tick=False):
        token = tokens.mint(alice)
    assert_rejected(anon, token, "expired")


def test_not_yet_expired_at_23_hours(anon, alice):
    with time_machine.travel(timezone.now() - timedelta(hours=23), tick=False):
        token = tokens.mint(alice)
    assert call(anon, token).status_code == 200


def test_tampered(anon, alice, globex):
    token = tokens.mint(alice)
    header, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["pid"] = str(globex.project.id)
    forged_payload = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims).encode()).decode()
    assert_rejected(anon, f"{header}.{forged_payload}.{signature}", "invalid")


def test_wrong_key(anon, alice, settings):
    assert_rejected(anon, forge(settings, alice, key="not-the-key-" * 4), "invalid")


def test_alg_none(anon, alice, settings):
    assert_rejected(anon, forge(settings, alice, algorithm="none"), "invalid")


def test_unknown_kid(anon, alice, settings):
    token = tokens.mint(alice)
    settings.CALENDAR_TOKEN_SIGNING_KEYS = {"other": "s" * 40}
    assert_rejected(anon, token, "unknown key")


def test_wrong_audience(anon, alice, settings):
    assert_rejected(anon, forge(settings, alice, aud="other"), "invalid")


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "", " "])
def test_garbage(anon, db, garbage):
    response = call(anon, garbage)
    assert response.status_code == 401


def test_deleted_user(anon, alice):
    token = tokens.mint(alice)
    alice.delete()
    assert_rejected(anon, token, "no longer exists")


def test_user_of_another_project(anon, alice, globex, settings):
    """A token naming a user that exists, but under another project, is refused."""
    token = forge(settings, alice, pid=str(globex.project.id))
    assert_rejected(anon, token, "no longer exists")


def test_rotation_keeps_live_tokens_valid(anon, alice, settings):
    old = tokens.mint(alice)
    settings.CALENDAR_TOKEN_SIGNING_KEYS = {"new": "n" * 40, **settings.CALENDAR_TOKEN_SIGNING_KEYS}
    new = tokens.mint(alice)
    assert jwt.get_unverified_header(new)["kid"] == "new"
    assert call(anon, old).status_code == 200
    assert call(anon, new).status_code == 200


def test_api_key_does_not_open_token_routes(acme):
    assert acme.client.get(USER_URL).status_code == 401

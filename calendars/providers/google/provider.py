"""Google Calendar: identity, scopes, OAuth (authorize URL, code exchange) and the names the
callback and state use. Token refresh happens in the session (google-auth)."""

from collections.abc import Iterator
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.http import HttpRequest

from config import http
from meetings.links import Candidate

from ..base import (
    ClientRejected,
    CodeRejected,
    Credentials,
    Grant,
    OAuthClient,
    Provider,
    ProviderUnavailable,
    PushReading,
)
from .facts import meeting_fields_from_google
from .links import link_candidates
from .push import read_push
from .session import GoogleSession

SCOPE_ROOT = "https://www.googleapis.com/auth/"


class GoogleProvider(Provider):
    platform = "google"
    label = "Google"
    callback_name = "google"
    redirect_url_key = "google_oauth_redirect_url"
    authorization_scopes = (
        SCOPE_ROOT + "calendar.events.readonly",
        SCOPE_ROOT + "userinfo.email",
    )
    calendar_scopes = frozenset(
        SCOPE_ROOT + name
        for name in ("calendar.events.readonly", "calendar.readonly", "calendar.events", "calendar")
    )

    def authorization_url(self, *, client: OAuthClient, redirect_uri: str, state: str) -> str:
        query = {
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(self.authorization_scopes),
            "access_type": "offline",
            # Without consent Google omits the refresh token when the user granted access before.
            "prompt": "consent",
            "include_granted_scopes": "true",
            "state": state,
        }
        return f"{settings.GOOGLE_OAUTH_AUTHORIZE_URL}?{urlencode(query)}"

    def exchange_code(self, *, client: OAuthClient, code: str, redirect_uri: str) -> Grant:
        body = _call(
            "post",
            settings.GOOGLE_OAUTH_TOKEN_URL,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "redirect_uri": redirect_uri,
            },
        )
        access_token = body.get("access_token")
        if not access_token:
            raise ProviderUnavailable("Google's token response had no access token.")
        userinfo = _call(
            "get",
            settings.GOOGLE_USERINFO_URL,
            headers={"Authorization": f"Bearer {access_token}"},
        )
        return Grant(
            access_token=access_token,
            refresh_token=body.get("refresh_token") or None,
            scopes=frozenset(body.get("scope", "").split()),
            email=userinfo.get("email"),
        )

    # --- sync ---
    cursor_covers_window = False

    def session(self, credentials: Credentials, *, calendar_id: str = "") -> GoogleSession:
        return GoogleSession(credentials, calendar_id=calendar_id)

    def event_id(self, raw: dict) -> str:
        return raw["id"]

    def is_removed(self, raw: dict) -> bool:
        # With singleEvents=true a cancelled entry is a deleted event or a removed occurrence.
        return raw.get("status") == "cancelled"

    def meeting_fields(self, raw: dict, *, account_email: str) -> dict:
        return meeting_fields_from_google(raw, account_email=account_email)

    def link_candidates(self, raw: dict) -> Iterator[Candidate]:
        return link_candidates(raw)

    # --- push ---
    def read_push(self, request: HttpRequest, *, endpoint: str) -> PushReading:
        return read_push(request)


def _call(method: str, url: str, **kwargs) -> dict:
    try:
        response = http.request(method, url, **kwargs)
    except requests.RequestException as exc:
        raise ProviderUnavailable(
            f"Google could not be reached ({exc.__class__.__name__})."
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 500 or response.status_code == 429:
        raise ProviderUnavailable(f"Google answered {response.status_code}.")
    if response.status_code >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):  # API errors: {"error": {"code", "message", "status"}}
            error = error.get("status") or error.get("message")
        if error in ("invalid_client", "unauthorized_client"):
            raise ClientRejected(f"Google rejected the OAuth client ({error}).", detail=body)
        raise CodeRejected(
            f"Google rejected the authorization code ({error or response.status_code}): it may "
            "have expired or been used already.",
            detail=body,
        )
    return body if isinstance(body, dict) else {}

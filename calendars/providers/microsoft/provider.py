"""Microsoft Outlook (Graph): identity, scopes, OAuth (authorize URL, code exchange) and the
names the callback and state use. Token refresh happens in the session (msal)."""

import warnings
from collections.abc import Iterator
from urllib.parse import urlencode

from django.http import HttpRequest

from meetings.links import Candidate

from ..base import CodeRejected, Credentials, Grant, OAuthClient, Provider, PushReading
from .facts import meeting_fields_from_graph
from .links import link_candidates
from .oauth import (
    CALENDAR_SCOPE,
    TENANT_AUDIENCES,
    TENANT_DOMAIN,
    TENANT_ID,
    authority,
    msal_app,
    scope_name,
    token_error,
    token_request,
)
from .push import read_push
from .session import GraphSession


class MicrosoftProvider(Provider):
    platform = "microsoft"
    label = "Microsoft"
    callback_name = "ms"
    redirect_url_key = "ms_oauth_redirect_url"
    # Graph sends subscription lifecycle events (reauthorization, removal, missed) apart.
    push_endpoints = ("changes", "lifecycle")
    authorization_scopes = ("offline_access", "openid", "email", CALENDAR_SCOPE)
    calendar_scopes = frozenset({"calendars.read", "calendars.readwrite"})

    def check_tenant(self, tenant: str) -> None:
        if not tenant or tenant.lower() in TENANT_AUDIENCES:
            return
        if not (TENANT_ID.fullmatch(tenant) or TENANT_DOMAIN.fullmatch(tenant)):
            raise ValueError(
                "Use common, organizations, consumers, the directory (tenant) id or one of its "
                "domain names, e.g. contoso.onmicrosoft.com."
            )

    def authorization_url(self, *, client: OAuthClient, redirect_uri: str, state: str) -> str:
        query = {
            "client_id": client.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "response_mode": "query",
            "scope": " ".join(self.authorization_scopes),
            "state": state,
        }
        return f"{authority(client)}/oauth2/v2.0/authorize?{urlencode(query)}"

    def exchange_code(self, *, client: OAuthClient, code: str, redirect_uri: str) -> Grant:
        def exchange():
            # msal prefers its own auth-code flow object, but Recall clients build the authorize
            # URL themselves, so only the plain code exchange fits.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                return msal_app(client).acquire_token_by_authorization_code(
                    code, scopes=[CALENDAR_SCOPE], redirect_uri=redirect_uri
                )

        result = token_request(exchange)
        if result.get("error"):
            raise token_error(
                result,
                rejected=CodeRejected,
                message="Microsoft rejected the authorization code ({error}): it may have "
                "expired or been used already.",
            )
        claims = result.get("id_token_claims") or {}
        # (Graph's /me would be authoritative, but the id token already names the account.)
        return Grant(
            access_token=result.get("access_token", ""),
            refresh_token=result.get("refresh_token") or None,
            scopes=frozenset(scope_name(s) for s in (result.get("scope") or "").split()),
            email=claims.get("email") or claims.get("preferred_username"),
        )

    # --- sync ---
    cursor_covers_window = True

    def session(self, credentials: Credentials, *, calendar_id: str = "") -> GraphSession:
        return GraphSession(credentials, calendar_id=calendar_id)

    def event_id(self, raw: dict) -> str:
        return raw["id"]

    def is_removed(self, raw: dict) -> bool:
        return "@removed" in raw

    def meeting_fields(self, raw: dict, *, account_email: str) -> dict:
        return meeting_fields_from_graph(raw, account_email=account_email)

    def link_candidates(self, raw: dict) -> Iterator[Candidate]:
        return link_candidates(raw)

    # --- push ---
    def read_push(self, request: HttpRequest, *, endpoint: str) -> PushReading:
        return read_push(request, lifecycle=endpoint == "lifecycle")

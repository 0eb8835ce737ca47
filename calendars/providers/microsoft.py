import warnings
from urllib.parse import urlencode

import msal
import msal.exceptions
import requests
from django.conf import settings

from .base import ClientRejected, CodeRejected, Grant, OAuthClient, Provider, ProviderUnavailable

GRAPH_SCOPE_ROOT = "https://graph.microsoft.com/"
CALENDAR_SCOPE = GRAPH_SCOPE_ROOT + "Calendars.Read"


def _scope_name(scope: str) -> str:
    """Graph answers with full URLs or bare names; compare bare names."""
    return scope.rsplit("/", 1)[-1].lower()


class MicrosoftProvider(Provider):
    platform = "microsoft"
    label = "Microsoft"
    authorization_scopes = ("offline_access", "openid", "email", CALENDAR_SCOPE)
    calendar_scopes = frozenset({"calendars.read", "calendars.readwrite"})

    def authority(self, client: OAuthClient) -> str:
        return f"{settings.MICROSOFT_AUTHORITY_HOST}/{client.tenant or 'common'}"

    def authorization_url(self, *, client: OAuthClient, redirect_uri: str, state: str) -> str:
        query = {
            "client_id": client.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "response_mode": "query",
            "scope": " ".join(self.authorization_scopes),
            "state": state,
        }
        return f"{self.authority(client)}/oauth2/v2.0/authorize?{urlencode(query)}"

    def msal_app(self, client: OAuthClient) -> msal.ConfidentialClientApplication:
        return msal.ConfidentialClientApplication(
            client.client_id,
            client_credential=client.client_secret,
            authority=self.authority(client),
            # The authority host is our own setting (sovereign clouds, fakes): nothing to discover.
            instance_discovery=False,
            timeout=settings.HTTP_TIMEOUT_SECONDS,
        )

    def exchange_code(self, *, client: OAuthClient, code: str, redirect_uri: str) -> Grant:
        try:
            # msal prefers its own auth-code flow object, but Recall clients build the authorize
            # URL themselves, so only the plain code exchange fits.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                result = self.msal_app(client).acquire_token_by_authorization_code(
                    code, scopes=[CALENDAR_SCOPE], redirect_uri=redirect_uri
                )
        except (requests.RequestException, ValueError, msal.exceptions.MsalServiceError) as exc:
            raise ProviderUnavailable(
                f"Microsoft could not be reached ({exc.__class__.__name__})."
            ) from None
        error = result.get("error")
        if error:
            detail = {
                "error": error,
                "error_codes": result.get("error_codes", []),
                "error_description": (result.get("error_description") or "")[:500],
            }
            if error in ("invalid_client", "unauthorized_client"):
                raise ClientRejected(
                    f"Microsoft rejected the OAuth client ({error}).", detail=detail
                )
            if error in ("temporarily_unavailable", "server_error"):
                raise ProviderUnavailable(f"Microsoft answered {error}.", detail=detail)
            raise CodeRejected(
                f"Microsoft rejected the authorization code ({error}): it may have expired or "
                "been used already.",
                detail=detail,
            )
        claims = result.get("id_token_claims") or {}
        return Grant(
            access_token=result.get("access_token", ""),
            refresh_token=result.get("refresh_token") or None,
            scopes=frozenset(_scope_name(s) for s in (result.get("scope") or "").split()),
            email=claims.get("email") or claims.get("preferred_username"),
        )

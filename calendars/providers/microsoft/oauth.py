"""Microsoft identity platform: the authority (tenant), msal, and how token errors are read.
Tokens go through msal (refresh tokens rotate: each new one is saved at once)."""

import re
from urllib.parse import quote

import msal
import msal.exceptions
import requests
from django.conf import settings

from config import http

from ..base import (
    AuthRevoked,
    ClientRejected,
    OAuthClient,
    PermanentError,
    ProviderError,
    ProviderUnavailable,
)

GRAPH_SCOPE_ROOT = "https://graph.microsoft.com/"
CALENDAR_SCOPE = GRAPH_SCOPE_ROOT + "Calendars.Read"

# A tenant is one path segment of the authority URL: one of the three audiences, a directory
# (tenant) id or a verified domain name of the directory.
TENANT_AUDIENCES = frozenset({"common", "organizations", "consumers"})
TENANT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
TENANT_DOMAIN = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})",
    re.I,
)


def scope_name(scope: str) -> str:
    """Graph answers with full URLs or bare names; compare bare names."""
    return scope.rsplit("/", 1)[-1].lower()


REVOKED_ERRORS = {"invalid_grant", "interaction_required", "consent_required"}
RETRYABLE_ERRORS = {"temporarily_unavailable", "server_error"}


def authority(client: OAuthClient) -> str:
    # Quoted: whatever is stored stays one path segment of our own authority host.
    return f"{settings.MICROSOFT_AUTHORITY_HOST}/{quote(client.tenant or 'common', safe='')}"


def msal_app(client: OAuthClient) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client.client_id,
        client_credential=client.client_secret,
        authority=authority(client),
        # The authority host is our own setting (sovereign clouds, fakes): nothing to discover.
        instance_discovery=False,
        timeout=settings.HTTP_TIMEOUT_SECONDS,
        http_client=http.session(),
    )


def token_request(call) -> dict:
    try:
        return call()
    except (requests.RequestException, ValueError, msal.exceptions.MsalServiceError) as exc:
        raise ProviderUnavailable(
            f"Microsoft could not be reached ({exc.__class__.__name__})."
        ) from None


def token_error(result: dict, *, rejected: type[ProviderError], message: str) -> ProviderError:
    """Classify a token endpoint error by `error` (never by the description's text)."""
    error = result["error"]
    detail = {
        "error": error,
        "error_codes": result.get("error_codes", []),
        "error_description": (result.get("error_description") or "")[:300],
    }
    if error in ("invalid_client", "unauthorized_client"):
        return ClientRejected(f"Microsoft rejected the OAuth client ({error}).", detail=detail)
    if error in RETRYABLE_ERRORS:
        return ProviderUnavailable(f"Microsoft answered {error}.", detail=detail)
    if error in REVOKED_ERRORS and rejected is PermanentError:
        return AuthRevoked(f"Microsoft refused the refresh token ({error}).", detail=detail)
    return rejected(message.format(error=error), detail=detail)

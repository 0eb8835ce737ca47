"""The provider interface: one small class per calendar provider, chosen from a registry.

Provider code maps every provider failure to the domain errors below, so callers never inspect
provider payloads or HTTP statuses themselves.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OAuthClient:
    """The OAuth app credentials a calendar is accessed with."""

    client_id: str
    client_secret: str
    tenant: str = ""


@dataclass(frozen=True)
class Grant:
    """What a successful authorization-code exchange gave us."""

    access_token: str
    refresh_token: str | None
    scopes: frozenset[str] = field(default_factory=frozenset)
    email: str | None = None


class ProviderError(Exception):
    """Base of the domain errors. `code` is machine-readable, the message is for people."""

    code = "provider_error"

    def __init__(self, message: str, *, detail: dict | None = None):
        super().__init__(message)
        self.detail = detail or {}


class ProviderUnavailable(ProviderError):
    """Network failure, timeout or 5xx: try again later."""

    code = "provider_unavailable"


class CodeRejected(ProviderError):
    """The authorization code was refused (expired, already used, wrong redirect URI)."""

    code = "invalid_grant"


class ClientRejected(ProviderError):
    """The provider refused the OAuth app itself (wrong client id or secret, expired secret)."""

    code = "invalid_client"


class Provider(ABC):
    platform: str
    label: str
    # Scopes requested in the authorization URL.
    authorization_scopes: tuple[str, ...]
    # A grant must carry at least one of these to read calendars.
    calendar_scopes: frozenset[str]

    @abstractmethod
    def authorization_url(self, *, client: OAuthClient, redirect_uri: str, state: str) -> str:
        """The URL that starts the provider's consent screen."""

    @abstractmethod
    def exchange_code(self, *, client: OAuthClient, code: str, redirect_uri: str) -> Grant:
        """Trade an authorization code for tokens and the account's email."""

    def has_calendar_scope(self, grant: Grant) -> bool:
        return bool(self.calendar_scopes & grant.scopes)

"""The provider interface: one small class per calendar provider, chosen from a registry.

Provider code maps every provider failure to the domain errors below, so callers never inspect
provider payloads or HTTP statuses themselves. The checklist for a new provider is in
`calendars/providers/__init__.py`.
"""

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config import backoff
from meetings.links import Candidate, Detection, detect_from_event, explain_event

logger = logging.getLogger(__name__)
T = TypeVar("T")
PAGE_RETRY_FIRST = timedelta(seconds=0.75)
PAGE_RETRY_CAP = timedelta(seconds=6)


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

    def __init__(
        self, message: str, *, detail: dict | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.detail = detail or {}
        # Seconds the provider asked us to wait (Retry-After), when it said so.
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """Network failure, timeout or 5xx: try again later."""

    code = "provider_unavailable"


class CodeRejected(ProviderError):
    """The authorization code was refused (expired, already used, wrong redirect URI)."""

    code = "invalid_grant"


class ClientRejected(ProviderError):
    """The provider refused the OAuth app itself (wrong client id or secret, expired secret)."""

    code = "invalid_client"


class AuthRevoked(ProviderError):
    """The grant is dead (revoked, expired, password reset): the user must connect again."""

    code = "auth_revoked"


class RateLimited(ProviderError):
    """Slow down; try again after `retry_after` seconds."""

    code = "rate_limited"


class CursorExpired(ProviderError):
    """The sync token / delta link is no longer valid: a full sync is required."""

    code = "cursor_expired"


class PermanentError(ProviderError):
    """A failure that retrying will not fix (calendar gone, access denied)."""

    code = "permanent_error"


@dataclass
class Credentials:
    """What a sync needs to talk to the provider. Providers update the token fields in place
    (refresh, rotation); the sync engine saves them."""

    client: OAuthClient
    refresh_token: str
    access_token: str = ""
    access_token_expires_at: datetime | None = None


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def contains(self, start: datetime, end: datetime) -> bool:
        # Providers' semantics: an event is in the window when it overlaps it.
        return end > self.start and start < self.end


@dataclass
class Page:
    """Raw provider events of one response; `cursor` is set on the last page of a round."""

    events: list[dict]
    cursor: str | None = None


@dataclass(frozen=True)
class Channel:
    """A push channel: Google watch channel or Graph subscription."""

    id: str
    resource_id: str
    expires_at: datetime


@dataclass(frozen=True)
class Notification:
    """One push notification, read by the provider; the receiver checks its channel's secret."""

    channel_id: str
    token: str
    # The channel itself is gone or must be re-authorized: replace it (and sync to catch up).
    resubscribe: bool = False


@dataclass
class PushReading:
    """What a push request said: the notifications to act on and the answer the provider
    expects (a 2xx, a validation handshake, or a 400 for a body it cannot read)."""

    response: HttpResponse
    notifications: list[Notification] = field(default_factory=list)


@dataclass(frozen=True)
class ProviderCalendar:
    """One calendar of the account, as listed before connecting it."""

    id: str
    name: str
    email: str
    is_primary: bool
    # Google's vocabulary for both providers: owner | writer | reader | freeBusyReader.
    access_role: str


class CalendarSession(ABC):
    """One sync's conversation with the provider for one calendar."""

    def __init__(self, credentials: Credentials, *, calendar_id: str = ""):
        self.credentials = credentials
        self.calendar_id = calendar_id  # provider calendar id; empty = primary
        # Called as soon as tokens change, so a rotated refresh token is saved before anything
        # else can fail.
        self.on_credentials_changed: Callable[[Credentials], None] | None = None

    def credentials_changed(self) -> None:
        if self.on_credentials_changed is not None:
            self.on_credentials_changed(self.credentials)

    # How a page request waits before its next attempt (tests replace it with a fake clock).
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def fetch_page(self, request: Callable[[], T]) -> T:
        """One page of a sync round, retried within the round on a transient failure (429,
        5xx, network): up to SYNC_PAGE_ATTEMPTS attempts, waiting what the provider asked
        (Retry-After) or an exponential back-off with jitter. A wait longer than
        SYNC_PAGE_RETRY_MAX_WAIT_SECONDS is not waited here: the error ends the round and the
        calendar backs off as asked. Other errors (revoked grant, expired cursor) are not
        retried. Pages already written stay written; only this request is repeated."""
        attempts = settings.SYNC_PAGE_ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                return request()
            except (ProviderUnavailable, RateLimited) as exc:
                wait = exc.retry_after
                if wait is None:
                    # 0.5-1 s, then twice as long per attempt up to 4-8 s.
                    wait = backoff.delay(
                        attempt, first=PAGE_RETRY_FIRST, factor=2, cap=PAGE_RETRY_CAP, jitter=1 / 3
                    ).total_seconds()
                if attempt == attempts or wait > settings.SYNC_PAGE_RETRY_MAX_WAIT_SECONDS:
                    raise
                logger.info("page request failed (%s), attempt %s; retrying", exc.code, attempt)
                self.sleep(wait)
        raise AssertionError("unreachable")

    @abstractmethod
    def changes(self, *, cursor: str | None, window: Window) -> Iterator[Page]:
        """Everything changed since `cursor` (everything in `window` when None), page by page."""

    @abstractmethod
    def window_events(self, window: Window) -> Iterator[Page]:
        """All events in `window`, without touching the cursor (used when the horizon grows)."""

    def account_email(self) -> str:
        """The connected account's address, best effort ("" when the grant cannot read it)."""
        return ""

    @abstractmethod
    def list_calendars(self) -> list[ProviderCalendar]:
        """The account's calendars (Google calendarList, Graph /me/calendars)."""

    @abstractmethod
    def watch(
        self, *, address: str, token: str, channel_id: str, lifecycle_address: str
    ) -> Channel:
        """Open a push channel that notifies `address`."""

    @abstractmethod
    def stop(self, channel: Channel) -> None:
        """Close a push channel; a channel the provider no longer knows is not an error."""


class Provider(ABC):
    platform: str  # the stored and wire name (Calendar.platform, OAuthApp.platform)
    label: str
    # The hosted OAuth callback is /api/v1/calendar/<callback_name>_oauth_callback/ (Recall V1
    # names: google, ms), and the JSON state carries its redirect URI under `redirect_url_key`.
    callback_name: str
    redirect_url_key: str
    # Push receivers: /api/v1/push/<platform>/ is "changes"; others are /push/<platform>/<name>/.
    push_endpoints: tuple[str, ...] = ("changes",)
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

    def check_tenant(self, tenant: str) -> None:
        """Raise ValueError (its message says why) unless `tenant` suits this provider's OAuth
        apps. Only Microsoft has directory tenants."""
        if tenant:
            raise ValueError(f"{self.label} OAuth apps have no tenant: leave it empty.")

    # What a window-based change round must redo when the window moves: Google keeps its sync
    # token and fetches the new slice; Graph's delta link encodes the window, so it starts over.
    cursor_covers_window: bool

    @abstractmethod
    def session(self, credentials: Credentials, *, calendar_id: str = "") -> CalendarSession:
        """A session for syncing one calendar."""

    @abstractmethod
    def event_id(self, raw: dict) -> str:
        """The provider's id of an event instance."""

    @abstractmethod
    def is_removed(self, raw: dict) -> bool:
        """The entry says the instance is gone (Google `cancelled`, Graph `@removed`)."""

    @abstractmethod
    def meeting_fields(self, raw: dict, *, account_email: str) -> dict:
        """The Meeting model's synced fields for one event (see meetings/facts.py)."""

    @abstractmethod
    def link_candidates(self, raw: dict) -> Iterator[Candidate]:
        """The URLs of an event's fields that may carry a join link, most trusted first."""

    def detect_link(self, raw: dict) -> Detection | None:
        """The join link of an event, or None. Never raises."""
        return detect_from_event(self.link_candidates, raw)

    def explain_link(self, raw: dict) -> list[Candidate]:
        """Every join-link candidate of an event, in the order tried. Never raises."""
        return explain_event(self.link_candidates, raw)

    @abstractmethod
    def read_push(self, request: HttpRequest, *, endpoint: str) -> PushReading:
        """Read a push request that reached one of `push_endpoints`. Must not touch the
        database; the receiver verifies each notification's channel and token."""

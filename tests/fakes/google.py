"""Loopback fake of Google OAuth 2.0 + OpenID userinfo + Calendar API v3 (one port).

Paths mirror the real hosts, so only the base URL changes:

    https://accounts.google.com/o/oauth2/v2/auth          -> {url}/o/oauth2/v2/auth
    https://oauth2.googleapis.com/token                   -> {url}/token
    https://oauth2.googleapis.com/revoke                  -> {url}/revoke
    https://openidconnect.googleapis.com/v1/userinfo      -> {url}/v1/userinfo
    https://www.googleapis.com/calendar/v3/...            -> {url}/calendar/v3/...

Control API: see the `FakeGoogle` docstring and `tests/fakes/README.md`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import string
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .base import (
    UTC,
    Abort,
    Clock,
    FakeServer,
    Request,
    Response,
    b64url,
    dumps,
    http_date,
    json_response,
    new_id,
)
from .calendar_model import (
    CalendarControl,
    CalendarStore,
    DateOrDateTime,
    Instance,
    Outbox,
    StoredEvent,
    instance_key,
    zone,
)
from .oauth import OAuthControl, jwks, pkce_matches, sign_jwt

SCOPE_ALIASES = {
    "email": "https://www.googleapis.com/auth/userinfo.email",
    "profile": "https://www.googleapis.com/auth/userinfo.profile",
}
DEFAULT_SCOPES = (
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/calendar.readonly",
)
CALENDAR_SCOPES = {
    f"https://www.googleapis.com/auth/{name}"
    for name in (
        "calendar",
        "calendar.readonly",
        "calendar.events",
        "calendar.events.readonly",
    )
}
SYNC_TOKEN_FORBIDDEN = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
BASE32HEX = "0123456789abcdefghijklmnopqrstuv"
MEET_ICON = "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png"
ADDON_NAMES = {"zoom": "Zoom Meeting", "teams": "Microsoft Teams Meeting", "webex": "Webex"}


def normalize_scopes(scopes: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if scopes is None:
        return DEFAULT_SCOPES
    items = scopes.split() if isinstance(scopes, str) else list(scopes)
    result: list[str] = []
    for scope in items:
        scope = SCOPE_ALIASES.get(scope, scope)
        if scope not in result:
            result.append(scope)
    return tuple(result)


def rfc3339(value: dt.datetime) -> str:
    """Google's `updated`/`created` format: UTC with milliseconds."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_rfc3339(value: str) -> dt.datetime:
    """Parse a query timestamp; Google insists on an explicit offset."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("missing offset")
    return parsed


def google_error(
    status: int,
    reason: str,
    message: str,
    *,
    domain: str = "global",
    location: str | None = None,
    location_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """`{"error": {"errors": [{domain, reason, message, ...}], "code", "message"}}`."""
    detail: dict[str, Any] = {"domain": domain, "reason": reason, "message": message}
    if location_type:
        detail["locationType"] = location_type
    if location:
        detail["location"] = location
    body = {"error": {"errors": [detail], "code": status, "message": message}}
    return json_response(status, body, headers)


def oauth_error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})


@dataclass
class GoogleCalendar:
    id: str
    key: str
    summary: str
    time_zone: str
    access_role: str = "owner"
    primary: bool = False
    description: str = ""
    color_id: str = "14"
    background_color: str = "#9fe1e7"
    version: int = 0
    deleted: bool = False


@dataclass
class GoogleAccount:
    email: str
    name: str
    sub: str
    time_zone: str
    hosted_domain: str | None = None
    #: scopes this user unticks on the consent screen (granular consent)
    denied_scopes: set[str] = field(default_factory=set)
    calendars: dict[str, GoogleCalendar] = field(default_factory=dict)

    @property
    def primary(self) -> GoogleCalendar:
        return self.calendars[self.email]


@dataclass
class Channel:
    id: str
    resource_id: str
    resource_uri: str
    calendar: str
    email: str
    address: str
    token: str | None
    expiration: dt.datetime
    message_number: int = 1
    stopped: bool = False
    created_at: dt.datetime | None = None

    def active(self, now: dt.datetime) -> bool:
        return not self.stopped and self.expiration > now


@dataclass
class _Listing:
    """A computed result set that `pageToken`s walk through (a consistent snapshot)."""

    calendar: GoogleCalendar
    items: list[Instance]
    version: int
    single_events: bool
    sync_token: bool = True
    pages_served: int = 0
    latest: dt.datetime | None = None


class FakeGoogle(OAuthControl, CalendarControl, FakeServer):
    """Google OAuth + userinfo + Calendar v3 on one loopback port.

    Quick start::

        with FakeGoogle() as google:
            google.add_account("dana@example.com")
            google.add_event("dana@example.com", summary="Standup", start=..., end=...)
            refresh_token = google.grant("dana@example.com")
            # point the code under test at google.token_url / google.calendar_api_url

    Attributes worth setting in tests: `token_lifetime` (seconds), `refresh_token_policy`
    (`"google"`: only for `access_type=offline` on first consent or `prompt=consent`;
    `"always"`; `"never"`), `rotate_refresh_tokens` (False, like Google), `consent_account`
    and `deny_consent` (authorize endpoint), `require_https_webhooks`, `channel_ttl` /
    `max_channel_ttl`, `notification_drop_rate`, `irregular_pages`.
    """

    api_prefix = "/calendar/v3/"
    provider_name = "Google"
    _normalize_scopes = staticmethod(normalize_scopes)

    def __init__(
        self,
        *,
        now: Clock | None = None,
        synchronous_delivery: bool = False,
        client_id: str = "1234567890-fakeclient.apps.googleusercontent.com",
        client_secret: str = "GOCSPX-fake-client-secret",
        seed: int = 0,
        port: int = 0,
    ):
        super().__init__(now=now, synchronous_delivery=synchronous_delivery, port=port)
        self._rng = random.Random(seed)
        self._init_oauth(
            client_id,
            client_secret,
            make_access_token=lambda *a: f"ya29.fake-{new_id(32)}",
            refresh_prefix="1//0fake-",
        )
        self.accounts: dict[str, GoogleAccount] = {}
        self.store = CalendarStore(lambda: self.now())
        self._channels: dict[str, Channel] = {}
        self._resource_ids: dict[str, str] = {}
        self._listings: dict[str, tuple[_Listing, int]] = {}
        self._sync_tokens: dict[str, tuple[str, int, bool]] = {}
        self._calendar_list_tokens: dict[str, tuple[str, int]] = {}
        self._render_cache: dict[tuple, str] = {}
        self.refresh_token_policy = "google"
        self.rotate_refresh_tokens = False
        self.consent_account: str | None = None
        self.deny_consent = False
        self.require_https_webhooks = False
        self.channel_ttl = dt.timedelta(days=7)
        self.max_channel_ttl = dt.timedelta(days=7)
        self.notification_drop_rate = 0.0
        self.dropped_notifications: list[dict[str, str]] = []
        self.irregular_pages = False
        self._register_routes()

    # --- URLs -------------------------------------------------------------------------------

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/o/oauth2/v2/auth"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def revoke_url(self) -> str:
        return f"{self.url}/revoke"

    @property
    def userinfo_url(self) -> str:
        return f"{self.url}/v1/userinfo"

    @property
    def calendar_api_url(self) -> str:
        """Use as `client_options={"api_endpoint": ...}` (it replaces rootUrl + servicePath)."""
        return f"{self.url}/calendar/v3/"

    # --- control: accounts, clients, grants -------------------------------------------------

    def add_account(
        self,
        email: str,
        *,
        name: str | None = None,
        time_zone: str = "UTC",
        hosted_domain: str | None = None,
        denied_scopes: tuple[str, ...] = (),
    ) -> GoogleAccount:
        """Create a user with a primary calendar whose id is the e-mail address."""
        with self.lock:
            digest = hashlib.sha256(email.encode()).hexdigest()
            account = GoogleAccount(
                **self._new_account_fields(email, name, denied_scopes),
                sub=str(int(digest[:16], 16))[:21].rjust(21, "1"),
                time_zone=time_zone,
                hosted_domain=hosted_domain,
            )
            self.accounts[email] = account
            self._add_calendar(account, email, email, "owner", time_zone, primary=True)
            return account

    def add_calendar(
        self,
        email: str,
        *,
        calendar_id: str | None = None,
        summary: str = "Team calendar",
        access_role: str = "owner",
        time_zone: str | None = None,
        description: str = "",
    ) -> str:
        """Add a secondary calendar to the user's calendar list; returns its id."""
        with self.lock:
            account = self._account(email)
            calendar_id = (
                calendar_id or f"c_{self._rng.getrandbits(128):032x}@group.calendar.google.com"
            )
            self._add_calendar(
                account,
                calendar_id,
                summary,
                access_role,
                time_zone or account.time_zone,
                description=description,
            )
            return calendar_id

    def remove_calendar(self, email: str, calendar_id: str) -> None:
        """Unsubscribe: incremental calendarList syncs show `deleted: true`."""
        with self.lock:
            calendar = self._account(email).calendars[calendar_id]
            calendar.deleted = True
            calendar.version = self.store.bump()

    def _new_client_id(self) -> str:
        return f"{self._rng.getrandbits(40)}-{new_id(8)}.apps.googleusercontent.com"

    def _new_client_secret(self) -> str:
        return f"GOCSPX-{new_id(18)}"

    def issue_code(
        self,
        email: str,
        *,
        client_id: str | None = None,
        redirect_uri: str | None = None,
        scopes: tuple[str, ...] | str | None = None,
        refresh_token: bool = True,
        code_challenge: str | None = None,
        code_challenge_method: str = "S256",
        nonce: str | None = None,
    ) -> str:
        """An authorization code as the consent screen would hand out (single use).

        `redirect_uri=None` skips the redirect_uri check at the token endpoint;
        `refresh_token=False` simulates Google omitting the refresh token."""
        return self._issue_code(
            email,
            client_id=client_id,
            scopes=scopes,
            refresh_token=refresh_token,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            nonce=nonce,
        )

    def revoke_grant(self, email: str | None = None, *, refresh_token: str | None = None) -> None:
        """The user revokes access (or the token expires): refreshes get `invalid_grant`,
        outstanding access tokens get 401."""
        with self.lock:
            self.oauth.kill_grants(email, "revoked", refresh_token)

    # --- control: sync state, channels ------------------------------------------------------

    def invalidate_sync_tokens(
        self, email: str | None = None, *, calendar_id: str | None = None
    ) -> None:
        """Make outstanding sync tokens fail with 410 `fullSyncRequired`."""
        with self.lock:
            keys = None if email is None else {self._calendar_key(email, calendar_id)}
            if calendar_id is None and email is not None:
                keys = {c.key for c in self._account(email).calendars.values()}
            for token, (key, _, _) in list(self._sync_tokens.items()):
                if keys is None or key in keys:
                    del self._sync_tokens[token]

    def invalidate_page_tokens(self) -> None:
        with self.lock:
            self._listings.clear()

    @property
    def channels(self) -> list[Channel]:
        with self.lock:
            return list(self._channels.values())

    def active_channels(self, email: str | None = None) -> list[Channel]:
        now = self.now()
        return [c for c in self.channels if c.active(now) and (email is None or c.email == email)]

    def touch_calendar(self, email: str, *, calendar_id: str | None = None) -> None:
        """Send an `exists` notification without changing anything (Google does that too)."""
        with self.lock:
            outbox = self._notify(self._calendar_key(email, calendar_id))
        self._send(outbox)

    # --- CalendarControl hooks --------------------------------------------------------------

    def _prerender_item(self, item: Instance, account: GoogleAccount, calendar) -> None:
        """`prerender()` serialises the `singleEvents=true` form."""
        self._render(item, calendar)

    def _add_calendar(
        self, account, calendar_id, summary, role, tz, *, primary=False, description=""
    ):
        calendar = GoogleCalendar(
            id=calendar_id,
            key=f"{account.email}\n{calendar_id}",
            summary=summary,
            time_zone=tz,
            access_role=role,
            primary=primary,
            description=description,
            version=self.store.bump(),
        )
        account.calendars[calendar_id] = calendar
        return calendar

    def _calendar(self, email: str, calendar_id: str | None) -> GoogleCalendar:
        account = self._account(email)
        if calendar_id in (None, "primary"):
            return account.primary
        try:
            return account.calendars[calendar_id]
        except KeyError:
            raise KeyError(f"{email!r} has no calendar {calendar_id!r}") from None

    def _calendar_key(self, email: str, calendar_id: str | None) -> str:
        return self._calendar(email, calendar_id).key

    def _new_event_id(self) -> str:
        return "".join(self._rng.choice(BASE32HEX) for _ in range(26))

    def instance_id(self, event_id: str, original_start: DateOrDateTime) -> str:
        key = instance_key(original_start)
        stamp = f"{key:%Y%m%dT%H%M%SZ}" if isinstance(key, dt.datetime) else f"{key:%Y%m%d}"
        return f"{event_id}_{stamp}"

    def _changed(self, event: StoredEvent, change: str, key: Any) -> Outbox:
        return self._notify(event.calendar)

    def _notify(self, calendar_key: str) -> Outbox:
        now = self.now()
        outbox: Outbox = []
        for channel in self._channels.values():
            if channel.calendar == calendar_key and channel.active(now):
                outbox.extend(self._message(channel, "exists"))
        return outbox

    def _message(self, channel: Channel, state: str) -> Outbox:
        """One push message: an empty POST whose meaning is all in `X-Goog-*` headers."""
        if state == "sync":
            channel.message_number = 1
        else:  # increasing, but not by one: it is not a cursor
            channel.message_number += self._rng.randint(1, 5000)
        headers = {
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Expiration": http_date(channel.expiration),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-URI": channel.resource_uri,
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(channel.message_number),
            "User-Agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
        }
        if channel.token is not None:
            headers["X-Goog-Channel-Token"] = channel.token
        if state != "sync" and self._rng.random() < self.notification_drop_rate:
            self.dropped_notifications.append(headers)
            return []
        return [(f"google.{state}", channel.address, b"", headers)]

    # --- HTTP: errors and auth --------------------------------------------------------------

    def error_response(
        self, request: Request, status: int, *, reason: str | None = None
    ) -> Response:
        if request.path in ("/token", "/o/oauth2/token"):
            error = {500: "internal_failure", 429: "temporarily_unavailable"}.get(
                status, "temporarily_unavailable" if status >= 500 else "invalid_request"
            )
            description = {"invalid_grant": "Token has been expired or revoked."}.get(
                reason or "", "Backend Error" if status >= 500 or status == 429 else "Bad Request"
            )
            return oauth_error(status, reason or error, description)
        if status == 401:
            return google_error(
                401,
                reason or "authError",
                "Invalid Credentials",
                location_type="header",
                location="Authorization",
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        if status in (403, 429):
            reason = reason or "rateLimitExceeded"
            messages = {
                "rateLimitExceeded": "Rate Limit Exceeded",
                "userRateLimitExceeded": "User Rate Limit Exceeded",
                "quotaExceeded": "Calendar usage limits exceeded.",
            }
            if reason in messages:
                return google_error(status, reason, messages[reason], domain="usageLimits")
            return google_error(status, reason, "Forbidden")
        if status == 410:
            return google_error(
                410,
                reason or "fullSyncRequired",
                "Sync token is no longer valid, a full sync is required.",
                domain="calendar",
                location_type="parameter",
                location="syncToken",
            )
        if status == 404:
            return google_error(404, reason or "notFound", "Not Found")
        if status == 405:
            return google_error(405, reason or "httpMethodNotAllowed", "Method Not Allowed")
        if status == 503:
            return google_error(
                503, reason or "backendError", "The service is currently unavailable."
            )
        if status >= 500:
            return google_error(status, reason or "backendError", "Backend Error")
        return google_error(status, reason or "badRequest", "Bad Request")

    def _authenticate(self, request: Request, *, calendar_scope: bool = True):
        with self.lock:
            record, problem = self.oauth.check_access_token(request.bearer_token())
        if problem:
            raise Abort(self.error_response(request, 401))
        if calendar_scope and not CALENDAR_SCOPES & set(record.scopes):
            raise Abort(
                google_error(
                    403,
                    "insufficientPermissions",
                    "Request had insufficient authentication scopes.",
                )
            )
        return record, self.accounts[record.email]

    def _resolve_calendar(self, account: GoogleAccount, calendar_id: str) -> GoogleCalendar:
        calendar = (
            account.primary if calendar_id == "primary" else account.calendars.get(calendar_id)
        )
        if calendar is None or calendar.deleted:
            raise Abort(google_error(404, "notFound", "Not Found"))
        return calendar

    # --- HTTP: routes -----------------------------------------------------------------------

    def _register_routes(self) -> None:
        seg = r"(?P<calendar_id>[^/]+)"
        for path in ("/o/oauth2/v2/auth", "/o/oauth2/auth"):
            self.route("GET", path, self._authorize, "oauth.authorize")
        for path in ("/token", "/o/oauth2/token"):
            self.route("POST", path, self._token, "oauth.token")
        for path in ("/revoke", "/o/oauth2/revoke"):
            self.route("POST", path, self._revoke, "oauth.revoke")
        for path in ("/v1/userinfo", "/oauth2/v3/userinfo", "/oauth2/v2/userinfo"):
            self.route("GET", path, self._userinfo, "userinfo")
        self.route("GET", "/oauth2/v3/certs", lambda r: json_response(200, jwks()), "oauth.certs")
        self.route("GET", "/.well-known/openid-configuration", self._openid_config, "oidc.config")
        api = "/calendar/v3"
        self.route("GET", f"{api}/users/me/calendarList", self._calendar_list, "calendarList.list")
        self.route(
            "GET", f"{api}/users/me/calendarList/{seg}", self._calendar_list_get, "calendarList.get"
        )
        self.route("GET", f"{api}/calendars/{seg}", self._calendar_get, "calendars.get")
        self.route("GET", f"{api}/calendars/{seg}/events", self._events_list, "events.list")
        self.route("POST", f"{api}/calendars/{seg}/events/watch", self._watch, "events.watch")
        self.route(
            "GET",
            f"{api}/calendars/{seg}/events/(?P<event_id>[^/]+)/instances",
            self._events_instances,
            "events.instances",
        )
        self.route(
            "GET",
            f"{api}/calendars/{seg}/events/(?P<event_id>[^/]+)",
            self._events_get,
            "events.get",
        )
        self.route("POST", f"{api}/channels/stop", self._channels_stop, "channels.stop")

    # --- OAuth ------------------------------------------------------------------------------

    def _openid_config(self, request: Request) -> Response:
        base = request.base_url
        return json_response(
            200,
            {
                "issuer": "https://accounts.google.com",
                "authorization_endpoint": f"{base}/o/oauth2/v2/auth",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/v1/userinfo",
                "revocation_endpoint": f"{base}/revoke",
                "jwks_uri": f"{base}/oauth2/v3/certs",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "code_challenge_methods_supported": ["plain", "S256"],
            },
        )

    def _authorize(self, request: Request) -> Response:
        arg = request.arg
        with self.lock:
            client = self.oauth.clients.get(arg("client_id") or "")
            redirect_uri = arg("redirect_uri") or ""
            if client is None:
                return Response(401, b"Error 401: invalid_client", {"Content-Type": "text/html"})
            if not redirect_uri or not client.allows_redirect(redirect_uri):
                return Response(
                    400, b"Error 400: redirect_uri_mismatch", {"Content-Type": "text/html"}
                )
            params: dict[str, str] = {}
            if arg("state") is not None:
                params["state"] = arg("state")
            email = self._consenting_account(arg("login_hint"))
            if arg("response_type") != "code":
                params["error"] = "unsupported_response_type"
            elif email is None or self.deny_consent:
                params["error"] = "access_denied"
            else:
                scopes = self._consented_scopes(email, arg("scope"))
                prior = any(
                    g.client_id == client.client_id and g.dead_reason is None
                    for g in self.oauth.grants_for(email)
                )
                offline = arg("access_type") == "offline"
                consent = "consent" in (arg("prompt") or "").split()
                include_refresh = {
                    "always": True,
                    "never": False,
                }.get(self.refresh_token_policy, offline and (consent or not prior))
                code = self._authorize_code(
                    request, email, client, redirect_uri, scopes, include_refresh
                )
                params.update(
                    code=code.code, scope=" ".join(scopes), authuser="0", prompt="consent"
                )
        return self._redirect(redirect_uri, params)

    def _client_error(self, problem: str) -> Response:
        if problem == "unknown_client":
            return oauth_error(401, "invalid_client", "The OAuth client was not found.")
        return oauth_error(401, "invalid_client", "Unauthorized")

    def _unsupported_grant_type(self, grant_type: str) -> Response:
        return oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _exchange_code(self, request: Request, form: dict[str, str], client_id: str) -> Response:
        if not form.get("code"):
            return oauth_error(400, "invalid_request", "Missing required parameter: code")
        code = self.oauth.codes.get(form["code"])
        if code is None or code.used or code.client_id != client_id:
            return oauth_error(400, "invalid_grant", "Bad Request")
        if code.redirect_uri is not None and form.get("redirect_uri") != code.redirect_uri:
            return oauth_error(400, "redirect_uri_mismatch", "Bad Request")
        if code.code_challenge:
            verifier = form.get("code_verifier")
            if not verifier:
                return oauth_error(400, "invalid_grant", "Missing code verifier.")
            if not pkce_matches(verifier, code.code_challenge, code.code_challenge_method):
                return oauth_error(400, "invalid_grant", "Invalid code verifier.")
        grant, refresh_token = self.oauth.redeem_code(code)
        return self._token_response(grant, refresh_token, code.nonce)

    def _refresh(self, request: Request, form: dict[str, str], client_id: str) -> Response:
        token = self.oauth.refresh_tokens.get(form.get("refresh_token", ""))
        if token is None:
            return oauth_error(400, "invalid_grant", "Bad Request")
        grant = self.oauth.grants[token.grant_id]
        if grant.client_id != client_id:
            return oauth_error(401, "unauthorized_client", "Unauthorized")
        if grant.dead_reason is not None or not token.valid:
            return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        new_refresh = self.oauth.record_refresh(
            token, grant, client_id, rotate=self.rotate_refresh_tokens
        )
        return self._token_response(grant, new_refresh, None)

    def _token_response(self, grant, refresh_token: str | None, nonce: str | None) -> Response:
        access = self.oauth.new_access_token(grant.email, grant.client_id, grant.scopes, grant.id)
        body: dict[str, Any] = {
            "access_token": access.token,
            "expires_in": self.oauth.token_lifetime,
            "scope": " ".join(grant.scopes),
            "token_type": "Bearer",
        }
        if "openid" in grant.scopes:
            body["id_token"] = self._id_token(grant, nonce)
        if refresh_token:
            body["refresh_token"] = refresh_token
        return json_response(200, body, {"Cache-Control": "no-cache, no-store, max-age=0"})

    def _id_token(self, grant, nonce: str | None) -> str:
        account = self.accounts[grant.email]
        now = self.now()
        claims: dict[str, Any] = {
            "iss": "https://accounts.google.com",
            "azp": grant.client_id,
            "aud": grant.client_id,
            "sub": account.sub,
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + 3600,
        }
        if SCOPE_ALIASES["email"] in grant.scopes:
            claims.update(email=account.email, email_verified=True)
        if SCOPE_ALIASES["profile"] in grant.scopes:
            claims["name"] = account.name
        if account.hosted_domain:
            claims["hd"] = account.hosted_domain
        if nonce:
            claims["nonce"] = nonce
        return sign_jwt(claims)

    def _revoke(self, request: Request) -> Response:
        token = request.form().get("token") or request.arg("token") or ""
        with self.lock:
            if token in self.oauth.refresh_tokens:
                self.oauth.kill_grants(None, "revoked", token)
                return json_response(200, {})
            access = self.oauth.access_tokens.get(token)
            if access is not None and access.grant_id:
                grant = self.oauth.grants[access.grant_id]
                grant.dead_reason = "revoked"
                access.revoked = True
                return json_response(200, {})
        return oauth_error(400, "invalid_token", "Token expired or revoked")

    def _userinfo(self, request: Request) -> Response:
        with self.lock:
            record, problem = self.oauth.check_access_token(request.bearer_token())
        if problem:
            if request.path == "/oauth2/v2/userinfo":
                return self.error_response(request, 401)
            return json_response(
                401,
                {"error": "invalid_request", "error_description": "Invalid Credentials"},
                {
                    "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
                },
            )
        account = self.accounts[record.email]
        given, _, family = account.name.partition(" ")
        has_email = SCOPE_ALIASES["email"] in record.scopes
        if request.path == "/oauth2/v2/userinfo":
            body: dict[str, Any] = {"id": account.sub}
            if has_email:
                body.update(email=account.email, verified_email=True)
        else:
            body = {"sub": account.sub}
            if has_email:
                body.update(email=account.email, email_verified=True)
        body.update(name=account.name, given_name=given, family_name=family or given)
        body["picture"] = "https://lh3.googleusercontent.com/a/default-user=s96-c"
        if account.hosted_domain:
            body["hd"] = account.hosted_domain
        return json_response(200, body)

    # --- Calendar API: calendar list --------------------------------------------------------

    def _calendar_entry(self, calendar: GoogleCalendar) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "kind": "calendar#calendarListEntry",
            "etag": f'"{1716998400000000 + calendar.version}"',
            "id": calendar.id,
            "summary": calendar.summary,
        }
        if calendar.description:
            entry["description"] = calendar.description
        entry.update(
            timeZone=calendar.time_zone,
            colorId=calendar.color_id,
            backgroundColor=calendar.background_color,
            foregroundColor="#000000",
            selected=True,
            accessRole=calendar.access_role,
            defaultReminders=[{"method": "popup", "minutes": 10}] if calendar.primary else [],
        )
        if calendar.primary:
            entry["notificationSettings"] = {
                "notifications": [
                    {"type": kind, "method": "email"}
                    for kind in (
                        "eventCreation",
                        "eventChange",
                        "eventCancellation",
                        "eventResponse",
                    )
                ]
            }
            entry["primary"] = True
        if calendar.deleted:
            entry["deleted"] = True
        entry["conferenceProperties"] = {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}
        return entry

    def _calendar_list(self, request: Request) -> Response:
        _, account = self._authenticate(request)
        sync_token = request.arg("syncToken")
        with self.lock:
            if sync_token is not None:
                if request.arg("minAccessRole") or request.arg("showOwnOrganizationOnly"):
                    return google_error(400, "invalid", "Invalid sync token restrictions.")
                state = self._calendar_list_tokens.get(sync_token)
                if state is None or state[0] != account.email:
                    return self.error_response(request, 410)
                entries = [c for c in account.calendars.values() if c.version > state[1]]
            else:
                show_deleted = request.arg("showDeleted") == "true"
                entries = [c for c in account.calendars.values() if show_deleted or not c.deleted]
            token = new_id(24)
            self._calendar_list_tokens[token] = (account.email, self.store.version)
            body = {
                "kind": "calendar#calendarList",
                "etag": f'"p3{self.store.version:014d}"',
                "nextSyncToken": token,
                "items": [self._calendar_entry(c) for c in entries],
            }
        return json_response(200, body)

    def _calendar_list_get(self, request: Request) -> Response:
        _, account = self._authenticate(request)
        with self.lock:
            calendar = self._resolve_calendar(account, request.params["calendar_id"])
            return json_response(200, self._calendar_entry(calendar))

    def _calendar_get(self, request: Request) -> Response:
        _, account = self._authenticate(request)
        with self.lock:
            calendar = self._resolve_calendar(account, request.params["calendar_id"])
            body = {
                "kind": "calendar#calendar",
                "etag": f'"{1716998400000000 + calendar.version}"',
                "id": calendar.id,
                "summary": calendar.summary,
                "timeZone": calendar.time_zone,
                "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
            }
        return json_response(200, body)

    # --- Calendar API: events ---------------------------------------------------------------

    def _events_list(self, request: Request) -> Response:
        _, account = self._authenticate(request)
        arg = request.arg
        max_results = self._max_results(arg("maxResults"))
        single_events = arg("singleEvents") == "true"
        show_deleted = arg("showDeleted") == "true"
        with self.lock:
            calendar = self._resolve_calendar(account, request.params["calendar_id"])
            if arg("pageToken") is not None:
                return self._next_page(arg("pageToken"), max_results)
            if arg("syncToken") is not None:
                forbidden = [name for name in SYNC_TOKEN_FORBIDDEN if arg(name) is not None]
                if forbidden:
                    return google_error(
                        400,
                        "invalid",
                        "Sync token cannot be used with other request restrictions.",
                        location_type="parameter",
                        location=forbidden[0],
                    )
                state = self._sync_tokens.get(arg("syncToken"))
                if state is None or state[0] != calendar.key:
                    return self.error_response(request, 410)
                items = self.store.instances(
                    calendar.key, since_version=state[1], expand=single_events
                )
            else:
                time_min = self._time_param(arg, "timeMin")
                time_max = self._time_param(arg, "timeMax")
                updated_min = self._time_param(arg, "updatedMin")
                if time_min and time_max and time_max <= time_min:
                    return google_error(
                        400,
                        "timeRangeEmpty",
                        "The specified time range is empty.",
                        domain="calendar",
                        location_type="parameter",
                        location="timeMax",
                    )
                order_by = arg("orderBy")
                if order_by not in (None, "startTime", "updated") or (
                    order_by == "startTime" and not single_events
                ):
                    return google_error(
                        400,
                        "invalid",
                        "The requested ordering is not available for the particular query.",
                        location_type="parameter",
                        location="orderBy",
                    )
                items = self.store.instances(
                    calendar.key,
                    time_min,
                    time_max,
                    expand=single_events,
                    include_cancelled=True,
                )
                items = [
                    item
                    for item in items
                    if not item.cancelled
                    or show_deleted
                    or updated_min is not None
                    or (not single_events and item.kind == "occurrence" and not item.event.deleted)
                ]
                if updated_min is not None:
                    items = [item for item in items if item.updated >= updated_min]
                if order_by == "updated":
                    items.sort(key=lambda item: item.updated)
            listing = _Listing(calendar, items, self.store.version, single_events)
            return self._page(listing, 0, max_results)

    def _events_instances(self, request: Request) -> Response:
        _, account = self._authenticate(request)
        arg = request.arg
        max_results = self._max_results(arg("maxResults"))
        with self.lock:
            calendar = self._resolve_calendar(account, request.params["calendar_id"])
            if arg("pageToken") is not None:
                return self._next_page(arg("pageToken"), max_results)
            event = self.store.events.get(request.params["event_id"])
            if event is None or event.calendar != calendar.key or not event.is_series:
                return google_error(404, "notFound", "Not Found")
            time_min = self._time_param(arg, "timeMin")
            time_max = self._time_param(arg, "timeMax")
            show_deleted = arg("showDeleted") == "true"
            items = [
                item
                for item in self.store.instances(
                    calendar.key, time_min, time_max, include_cancelled=show_deleted
                )
                if item.event is event
            ]
            listing = _Listing(calendar, items, self.store.version, True, sync_token=False)
            return self._page(listing, 0, max_results)

    def _events_get(self, request: Request) -> Response:
        _, account = self._authenticate(request)
        event_id = request.params["event_id"]
        with self.lock:
            calendar = self._resolve_calendar(account, request.params["calendar_id"])
            instance = self._find(calendar, event_id)
            if instance is None:
                return google_error(404, "notFound", "Not Found")
            return json_response(200, self._render(instance, calendar))

    def _find(self, calendar: GoogleCalendar, event_id: str) -> Instance | None:
        event = self.store.events.get(event_id)
        if event is not None:
            return (
                self.store.find_instance(event_id, None) if event.calendar == calendar.key else None
            )
        master_id, _, stamp = event_id.rpartition("_")
        event = self.store.events.get(master_id)
        if event is None or event.calendar != calendar.key or not event.is_series:
            return None
        try:
            if len(stamp) == 8:
                key: DateOrDateTime = dt.datetime.strptime(stamp, "%Y%m%d").date()
            else:
                key = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return None
        return self.store.find_instance(master_id, key)

    @staticmethod
    def _max_results(value: str | None) -> int:
        if value is None:
            return 250
        try:
            number = int(value)
        except ValueError:
            raise Abort(google_error(400, "invalid", "Invalid value for maxResults")) from None
        if number < 1:
            raise Abort(google_error(400, "invalid", "Invalid value for maxResults"))
        return min(number, 2500)

    @staticmethod
    def _time_param(arg, name: str) -> dt.datetime | None:
        value = arg(name)
        if value is None:
            return None
        try:
            return parse_rfc3339(value)
        except ValueError:
            raise Abort(
                google_error(
                    400, "badRequest", "Bad Request", location_type="parameter", location=name
                )
            ) from None

    def _next_page(self, page_token: str, max_results: int) -> Response:
        found = self._listings.get(page_token)
        if found is None:
            return google_error(
                400, "invalid", "Invalid Value", location_type="parameter", location="pageToken"
            )
        listing, offset = found
        return self._page(listing, offset, max_results)

    def _page(self, listing: _Listing, offset: int, max_results: int) -> Response:
        size = max_results
        if self.irregular_pages:
            # a first page that is empty, then short ones: clients must follow nextPageToken
            size = 0 if listing.pages_served == 0 else max(1, max_results // 2)
        listing.pages_served += 1
        chunk = listing.items[offset : offset + size]
        end = offset + len(chunk)
        calendar = listing.calendar
        if listing.latest is None:
            listing.latest = max((i.updated for i in listing.items), default=self.store.now())
        envelope: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"p3{listing.version:014d}"',
            "summary": calendar.summary,
            "description": calendar.description,
            "updated": rfc3339(listing.latest),
            "timeZone": calendar.time_zone,
            "accessRole": calendar.access_role,
            "defaultReminders": [{"method": "popup", "minutes": 10}] if calendar.primary else [],
        }
        if end < len(listing.items):
            token = b64url(new_id(30).encode())
            self._listings[token] = (listing, end)
            envelope["nextPageToken"] = token
        elif listing.sync_token:
            token = b64url(new_id(24).encode()) + "="
            self._sync_tokens[token] = (calendar.key, listing.version, listing.single_events)
            envelope["nextSyncToken"] = token
        head = dumps(envelope)[:-1]
        rendered = ",".join(self._render(item, calendar) for item in chunk)
        return json_response(200, f'{head},"items":[{rendered}]}}')

    # --- rendering --------------------------------------------------------------------------

    def _render(self, item: Instance, calendar: GoogleCalendar) -> str:
        return self._cached_json(
            (*item.cache_key, calendar.key), lambda: self.event_resource(item, calendar)
        )

    def event_resource(self, item: Instance, calendar: GoogleCalendar) -> dict[str, Any]:
        """The `calendar#event` JSON for one listed item."""
        event, spec = item.event, item.spec
        owner = calendar.key.split("\n", 1)[0]
        event_id = event.id if item.key is None else self.instance_id(event.id, item.key)
        etag = f'"{int(item.updated.timestamp() * 2_000_000) // 1000 * 1000 + item.version % 1000}"'
        if item.cancelled:
            stub: dict[str, Any] = {
                "kind": "calendar#event",
                "etag": etag,
                "id": event_id,
                "status": "cancelled",
            }
            if item.key is not None and not event.deleted:
                stub["recurringEventId"] = event.id
                stub["originalStartTime"] = self._when(item.key, event.spec.time_zone)
            return stub
        organizer = spec.organizer.email if spec.organizer else owner
        organizer_name = spec.organizer.name if spec.organizer else ""
        resource: dict[str, Any] = {
            "kind": "calendar#event",
            "etag": etag,
            "id": event_id,
            "status": spec.status,
            "htmlLink": "https://www.google.com/calendar/event?eid="
            + b64url(f"{event_id} {calendar.id}".encode()),
            "created": rfc3339(event.created),
            "updated": rfc3339(item.updated),
            "summary": spec.summary,
        }
        if spec.description:
            resource["description"] = spec.description
        if spec.location:
            resource["location"] = spec.location
        resource["creator"] = self._person(organizer, organizer_name, owner)
        resource["organizer"] = self._person(organizer, organizer_name, owner)
        resource["start"] = self._when(spec.start, spec.time_zone)
        resource["end"] = self._when(spec.end, spec.time_zone)
        if item.kind == "master":
            resource["recurrence"] = [spec.recurrence.rrule()]
        if item.key is not None:
            resource["recurringEventId"] = event.id
            resource["originalStartTime"] = self._when(item.key, event.spec.time_zone)
        if spec.show_as == "free":
            resource["transparency"] = "transparent"
        if spec.visibility != "default":
            resource["visibility"] = spec.visibility
        resource["iCalUID"] = spec.ical_uid or f"{event.id}@google.com"
        resource["sequence"] = item.sequence
        if spec.attendees:
            resource["attendees"] = [self._attendee(a, organizer, owner) for a in spec.attendees]
        if spec.conference:
            resource.update(self._conference(spec.conference))
        resource["reminders"] = {"useDefault": True}
        resource["eventType"] = spec.event_type
        resource.update(spec.extra)
        return resource

    @staticmethod
    def _person(email: str, name: str, owner: str) -> dict[str, Any]:
        person: dict[str, Any] = {"email": email}
        if name:
            person["displayName"] = name
        if email == owner:
            person["self"] = True
        return person

    @staticmethod
    def _attendee(attendee, organizer: str, owner: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"email": attendee.email}
        if attendee.name:
            entry["displayName"] = attendee.name
        if attendee.email == organizer:
            entry["organizer"] = True
        if attendee.email == owner:
            entry["self"] = True
        if attendee.resource:
            entry["resource"] = True
        if attendee.optional:
            entry["optional"] = True
        entry["responseStatus"] = attendee.response
        return entry

    @staticmethod
    def _when(value: DateOrDateTime, tz: str) -> dict[str, str]:
        if isinstance(value, dt.datetime):
            local = value.astimezone(zone(tz))
            return {"dateTime": local.isoformat(timespec="seconds"), "timeZone": tz}
        return {"date": value.isoformat()}

    @staticmethod
    def _conference(conference) -> dict[str, Any]:
        url = conference.join_url
        if conference.provider == "meet":
            code = conference.meeting_code or url.rstrip("/").rsplit("/", 1)[-1]
            return {
                "hangoutLink": url,
                "conferenceData": {
                    "entryPoints": [
                        {
                            "entryPointType": "video",
                            "uri": url,
                            "label": url.removeprefix("https://"),
                        },
                        {
                            "entryPointType": "more",
                            "uri": f"https://tel.meet/{code}?pin=4417290385516",
                            "pin": "4417290385516",
                        },
                    ],
                    "conferenceSolution": {
                        "key": {"type": "hangoutsMeet"},
                        "name": "Google Meet",
                        "iconUri": MEET_ICON,
                    },
                    "conferenceId": code,
                },
            }
        video: dict[str, Any] = {"entryPointType": "video", "uri": url, "label": url}
        if conference.meeting_code:
            video["meetingCode"] = conference.meeting_code
        if conference.passcode:
            video["passcode"] = conference.passcode
        name = ADDON_NAMES.get(conference.provider, conference.provider.title())
        return {
            "conferenceData": {
                "entryPoints": [video],
                "conferenceSolution": {
                    "key": {"type": "addOn"},
                    "name": name,
                    "iconUri": f"https://lh3.googleusercontent.com/{conference.provider}-addon-icon",
                },
                "conferenceId": conference.meeting_code or new_id(6),
                "parameters": {
                    "addOnParameters": {"parameters": {"realMeetingId": conference.meeting_code}}
                },
            }
        }

    # --- push -------------------------------------------------------------------------------

    def _watch(self, request: Request) -> Response:
        _, account = self._authenticate(request)
        try:
            body = request.json() or {}
        except ValueError:
            return google_error(400, "parseError", "Parse Error")
        with self.lock:
            calendar = self._resolve_calendar(account, request.params["calendar_id"])
            channel_id, address = body.get("id"), body.get("address")
            if not channel_id:
                return google_error(400, "required", "Required", location="id")
            if body.get("type") not in ("web_hook", "webhook"):
                return google_error(400, "invalid", "Invalid value for: type")
            if not address:
                return google_error(400, "required", "Required", location="address")
            if self.require_https_webhooks and not address.startswith("https://"):
                return google_error(
                    400, "push.webhookUrlNotHttps", f"WebHook callback must be HTTPS: {address}"
                )
            existing = self._channels.get(channel_id)
            if existing is not None and existing.active(self.now()):
                return google_error(400, "channelIdNotUnique", "Channel id not unique")
            now = self.now()
            expiration = now + self.channel_ttl
            ttl = (body.get("params") or {}).get("ttl")
            if ttl is not None:
                expiration = now + dt.timedelta(seconds=int(ttl))
            if body.get("expiration") is not None:
                expiration = dt.datetime.fromtimestamp(int(body["expiration"]) / 1000, UTC)
            expiration = min(expiration, now + self.max_channel_ttl)
            resource_id = self._resource_ids.setdefault(
                calendar.key,
                "".join(
                    self._rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(27)
                ),
            )
            calendar_segment = quote(request.params["calendar_id"], safe="")
            channel = Channel(
                id=channel_id,
                resource_id=resource_id,
                resource_uri=f"{request.base_url}/calendar/v3/calendars/{calendar_segment}/events?alt=json",
                calendar=calendar.key,
                email=account.email,
                address=address,
                token=body.get("token"),
                expiration=expiration,
                created_at=now,
            )
            self._channels[channel_id] = channel
            response = {
                "kind": "api#channel",
                "id": channel.id,
                "resourceId": channel.resource_id,
                "resourceUri": channel.resource_uri,
            }
            if channel.token is not None:
                response["token"] = channel.token
            response["expiration"] = str(int(channel.expiration.timestamp() * 1000))
            outbox = self._message(channel, "sync")
        self._send(outbox)
        return json_response(200, response)

    def _channels_stop(self, request: Request) -> Response:
        self._authenticate(request, calendar_scope=False)
        body = request.json() or {}
        with self.lock:
            channel = self._channels.get(body.get("id") or "")
            if channel is None or channel.stopped or channel.resource_id != body.get("resourceId"):
                return google_error(
                    404, "notFound", f"Channel '{body.get('id')}' not found for project 'fake'"
                )
            channel.stopped = True
        return Response(204)


__all__ = ["Channel", "FakeGoogle", "GoogleAccount", "GoogleCalendar"]

"""Loopback fake of the Microsoft identity platform (v2.0) + Microsoft Graph calendars (one port).

    https://login.microsoftonline.com/{tenant}/...        -> {url}/{tenant}/...
    https://graph.microsoft.com/v1.0/...                  -> {url}/v1.0/...

`.url` is HTTPS (msal rejects http authorities); the same port also answers plain HTTP
(`.http_url`). Trust the certificate with `REQUESTS_CA_BUNDLE=fake.ca_bundle_path` (the
`fake_microsoft` fixture does this). A per-request `verify=fake.ca_path` works too, but a
`Session.verify` (which is what msal's `verify=` sets) loses to REQUESTS_CA_BUNDLE when that
variable is set: requests lets the environment win.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import random
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, urlencode

from .base import (
    UTC,
    Abort,
    Clock,
    FakeServer,
    Request,
    Response,
    b64url,
    dumps,
    json_response,
    new_id,
    post,
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
from .oauth import OAuthClient, OAuthControl, jwks, pkce_matches, sign_jwt

GRAPH = "https://graph.microsoft.com/"
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
DEFAULT_SCOPES = (
    "openid",
    "profile",
    "email",
    "offline_access",
    f"{GRAPH}Calendars.Read",
    f"{GRAPH}User.Read",
)
CALENDAR_SCOPES = {
    f"{GRAPH}{name}"
    for name in (
        "Calendars.Read",
        "Calendars.ReadWrite",
        "Calendars.Read.Shared",
        "Calendars.ReadWrite.Shared",
        "Calendars.ReadBasic",
    )
}
GRAPH_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)
#: Windows zone names Graph accepts in `Prefer: outlook.timezone` (plus any IANA name)
WINDOWS_ZONES = {
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
    "Pacific Standard Time": "America/Los_Angeles",
    "Mountain Standard Time": "America/Denver",
    "Central Standard Time": "America/Chicago",
    "Eastern Standard Time": "America/New_York",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central European Standard Time": "Europe/Warsaw",
    "India Standard Time": "Asia/Kolkata",
    "Tokyo Standard Time": "Asia/Tokyo",
    "AUS Eastern Standard Time": "Australia/Sydney",
}
IANA_TO_WINDOWS = {v: k for k, v in reversed(WINDOWS_ZONES.items())}
RESPONSES = {
    "needsAction": "none",
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentativelyAccepted",
}
SENSITIVITY = {"default": "normal", "public": "normal", "private": "private"}
AADSTS = {
    70000: "The provided value for the 'refresh_token' is not valid or has been revoked.",
    70008: "The provided authorization code or refresh token has expired due to inactivity.",
    700082: "The refresh token has expired due to inactivity. The token was issued on "
    "2024-02-01T10:00:00.0000000Z and was inactive for 90.00:00:00.",
    50173: "The provided grant has expired due to it being revoked, a fresh auth token is "
    "needed. The user might have changed or reset their password.",
    54005: "OAuth2 Authorization code was already redeemed, please retry with a new valid "
    "code or use an existing refresh token.",
    9002313: "Invalid request. Request is malformed or invalid.",
    50011: "The redirect URI specified in the request does not match the redirect URIs "
    "configured for the application.",
    700016: "Application was not found in the directory.",
    7000215: "Invalid client secret provided. Ensure the secret being sent in the request "
    "is the client secret value, not the client secret ID.",
    70011: "The provided value for the input parameter 'scope' is not valid.",
    90006: "The server has encountered a temporary error. Please try again.",
    70003: "The app requested an unsupported grant type.",
    50148: "The code_verifier does not match the code_challenge supplied in the authorization "
    "request.",
    50076: "Due to a configuration change made by your administrator, or because you moved "
    "to a new location, you must use multi-factor authentication to access the resource.",
}
ERROR_FOR_CODE = {50076: "interaction_required", 90006: "temporarily_unavailable"}


def normalize_scopes(scopes: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """Graph scopes as full URIs (`User.Read` -> `https://graph.microsoft.com/User.Read`)."""
    if scopes is None:
        return DEFAULT_SCOPES
    items = scopes.split() if isinstance(scopes, str) else list(scopes)
    result: list[str] = []
    for scope in items:
        if scope == f"{GRAPH}.default":
            expanded = [s for s in DEFAULT_SCOPES if s.startswith(GRAPH)]
        elif scope in OIDC_SCOPES or "://" in scope:
            expanded = [scope]
        else:
            expanded = [GRAPH + scope]
        result.extend(s for s in expanded if s not in result)
    return tuple(result)


def graph_time(value: dt.datetime) -> str:
    """`2024-05-28T16:02:11.5210451Z` (seven fractional digits, UTC)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "0Z"


def parse_graph_time(value: str) -> dt.datetime:
    """ISO 8601 with or without offset (no offset = UTC), up to 7 fractional digits."""
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_prefer(headers) -> dict[str, str]:
    prefs: dict[str, str] = {}
    for header in headers.get_all("Prefer") or []:
        for part in header.split(","):
            name, _, value = part.strip().partition("=")
            if name:
                prefs[name.strip().lower()] = value.strip().strip('"')
    return prefs


def strip_html(text: str) -> str:
    text = re.sub(r"<br\s*/?>|</p>|</div>", "\n", text, flags=re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


@dataclass
class GraphCalendar:
    id: str
    key: str
    name: str
    is_default: bool = False
    can_edit: bool = True
    owner_name: str = ""
    owner_email: str = ""
    color: str = "auto"
    hex_color: str = ""


@dataclass
class MicrosoftAccount:
    email: str
    name: str
    oid: str
    tenant_id: str
    upn: str
    time_zone: str
    denied_scopes: set[str] = field(default_factory=set)
    calendars: dict[str, GraphCalendar] = field(default_factory=dict)
    default_calendar_id: str = ""

    @property
    def default_calendar(self) -> GraphCalendar:
        return self.calendars[self.default_calendar_id]


@dataclass
class Subscription:
    id: str
    email: str
    calendar: str
    resource: str
    change_types: tuple[str, ...]
    notification_url: str
    lifecycle_url: str | None
    client_state: str | None
    expiration: dt.datetime
    application_id: str
    creator_id: str
    reauthorization_required: bool = False
    deleted: bool = False

    def active(self, now: dt.datetime) -> bool:
        return not self.deleted and self.expiration > now


@dataclass
class _DeltaState:
    """What a client knows after finishing a delta round (the state behind a `$deltatoken`)."""

    calendar: str
    lo: dt.datetime
    hi: dt.datetime
    known: dict[str, int]
    version: int


@dataclass
class _Round:
    entries: list[tuple[str, Instance | None]]  # (graph id, instance or None for @removed)
    after: _DeltaState


class FakeMicrosoft(OAuthControl, CalendarControl, FakeServer):
    """Microsoft identity platform + Graph calendars on one loopback port (HTTPS and HTTP).

    Quick start::

        with FakeMicrosoft() as ms:
            ms.add_account("dana@contoso.com")
            refresh_token = ms.grant("dana@contoso.com")
            os.environ["REQUESTS_CA_BUNDLE"] = ms.ca_bundle_path  # or the fixture
            app = msal.ConfidentialClientApplication(
                ms.client_id, client_credential=ms.client_secret,
                authority=ms.authority, instance_discovery=False)

    Attributes worth setting in tests: `token_lifetime`, `rotate_refresh_tokens` (True),
    `invalidate_rotated_refresh_tokens` (False: like Microsoft, the old token keeps working),
    `default_page_size` (10) / `max_page_size`, `removed_noise` (True: out-of-window changes
    show up as `@removed`, as Graph does), `duplicate_delta_items`, `max_subscription_minutes`
    (4230), `validation_timeout` (10 s), `require_https_webhooks`, `consent_account`,
    `deny_consent`.
    """

    default_scheme = "https"
    api_prefix = "/v1.0/"
    provider_name = "Microsoft"
    _normalize_scopes = staticmethod(normalize_scopes)

    def __init__(
        self,
        *,
        now: Clock | None = None,
        synchronous_delivery: bool = False,
        client_id: str = "00001111-aaaa-2222-bbbb-3333cccc4444",
        client_secret: str = "fake~client~secret",
        tenant_id: str = "72f988bf-86f1-41af-91ab-2d7cd011db47",
        seed: int = 0,
        port: int = 0,
    ):
        super().__init__(now=now, synchronous_delivery=synchronous_delivery, port=port)
        self.deliverer.timeout = 3.0  # Graph gives a notification endpoint 3 s
        self._rng = random.Random(seed)
        self.tenant_id = tenant_id
        self._init_oauth(
            client_id,
            client_secret,
            make_access_token=self._make_access_token,
            refresh_prefix="0.AXEA",
        )
        self.accounts: dict[str, MicrosoftAccount] = {}
        self.store = CalendarStore(lambda: self.now())
        self._subscriptions: dict[str, Subscription] = {}
        self._skip_tokens: dict[str, tuple[_Round, int]] = {}
        self._delta_tokens: dict[str, _DeltaState] = {}
        self._instance_ids: dict[str, tuple[str, Any]] = {}
        self._graph_ids: dict[tuple[str, Any], str] = {}
        self._render_cache: dict[tuple, str] = {}
        self.rotate_refresh_tokens = True
        self.invalidate_rotated_refresh_tokens = False
        self.default_page_size = 10
        self.max_page_size = 1000
        self.removed_noise = True
        self.duplicate_delta_items = False
        self.max_subscription_minutes = 4230
        self.validation_timeout = 10.0
        self.require_https_webhooks = False
        self.consent_account: str | None = None
        self.deny_consent = False
        self._register_routes()

    # --- URLs -------------------------------------------------------------------------------

    @property
    def authority_host(self) -> str:
        """Value for `MICROSOFT_AUTHORITY_HOST`."""
        return self.url

    @property
    def authority(self) -> str:
        return f"{self.url}/common"

    @property
    def token_url(self) -> str:
        return f"{self.url}/common/oauth2/v2.0/token"

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/common/oauth2/v2.0/authorize"

    @property
    def graph_url(self) -> str:
        """Value for `MICROSOFT_GRAPH_URL` (trailing slash)."""
        return f"{self.url}/v1.0/"

    # --- control: accounts, clients, grants -------------------------------------------------

    def add_account(
        self,
        email: str,
        *,
        name: str | None = None,
        time_zone: str = "UTC",
        tenant_id: str | None = None,
        denied_scopes: tuple[str, ...] = (),
    ) -> MicrosoftAccount:
        """Create a user with a default calendar named "Calendar"."""
        with self.lock:
            account = MicrosoftAccount(
                **self._new_account_fields(email, name, denied_scopes),
                oid=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                tenant_id=tenant_id or self.tenant_id,
                upn=email,
                time_zone=time_zone,
            )
            self.accounts[email] = account
            calendar = self._new_calendar(account, "Calendar", is_default=True)
            account.default_calendar_id = calendar.id
            return account

    def add_calendar(
        self,
        email: str,
        *,
        name: str = "Team calendar",
        owner_name: str = "",
        owner_email: str = "",
        can_edit: bool = False,
    ) -> str:
        """Another calendar (e.g. one shared with the user); returns its id."""
        with self.lock:
            account = self._account(email)
            calendar = self._new_calendar(
                account, name, owner_name=owner_name, owner_email=owner_email, can_edit=can_edit
            )
            return calendar.id

    def _new_client_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _new_client_secret(self) -> str:
        return new_id(30)

    def _offers_refresh_token(self, scopes: tuple[str, ...]) -> bool:
        return "offline_access" in scopes

    def issue_code(
        self,
        email: str,
        *,
        client_id: str | None = None,
        redirect_uri: str | None = None,
        scopes: tuple[str, ...] | str | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str = "S256",
        nonce: str | None = None,
    ) -> str:
        """A single-use authorization code (`redirect_uri=None` skips the redirect check).
        A refresh token comes with it when `offline_access` is among the scopes."""
        return self._issue_code(
            email,
            client_id=client_id,
            scopes=scopes,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            nonce=nonce,
        )

    def revoke_grant(
        self,
        email: str | None = None,
        *,
        refresh_token: str | None = None,
        error_code: int = 50173,
        revoke_access_tokens: bool = False,
    ) -> None:
        """Kill the user's grants: refreshes fail with `invalid_grant` and `error_codes:
        [error_code]` (50173 revoked / 700082 inactive / 70000 invalid / 70008 expired, or
        50076 for `interaction_required`). Access tokens already issued keep working until
        they expire, as in Entra ID, unless `revoke_access_tokens`."""
        with self.lock:
            self.oauth.kill_grants(
                email, error_code, refresh_token, revoke_access_tokens=revoke_access_tokens
            )

    def current_refresh_token(self, email: str) -> str | None:
        """The newest refresh token handed out for `email` (what the app should have saved)."""
        with self.lock:
            tokens = [
                t
                for t in self.oauth.refresh_tokens.values()
                if self.oauth.grants[t.grant_id].email == email and t.replaced_by is None
            ]
            return tokens[-1].token if tokens else None

    # --- control: sync state, subscriptions -------------------------------------------------

    def invalidate_delta_tokens(self, email: str | None = None) -> None:
        """Outstanding `$deltatoken`s and `$skiptoken`s answer 410 `SyncStateNotFound`."""
        with self.lock:
            keys = (
                None if email is None else {c.key for c in self._account(email).calendars.values()}
            )
            for token, state in list(self._delta_tokens.items()):
                if keys is None or state.calendar in keys:
                    del self._delta_tokens[token]
            for token, (round_, _) in list(self._skip_tokens.items()):
                if keys is None or round_.after.calendar in keys:
                    del self._skip_tokens[token]

    @property
    def subscriptions(self) -> list[Subscription]:
        with self.lock:
            return list(self._subscriptions.values())

    def active_subscriptions(self, email: str | None = None) -> list[Subscription]:
        now = self.now()
        return [
            s for s in self.subscriptions if s.active(now) and (email is None or s.email == email)
        ]

    def send_lifecycle_event(self, subscription_id: str, event: str) -> None:
        """POST a lifecycle notification (`reauthorizationRequired`, `subscriptionRemoved`,
        `missed`) to the subscription's lifecycleNotificationUrl. `subscriptionRemoved` also
        deletes the subscription."""
        if event not in ("reauthorizationRequired", "subscriptionRemoved", "missed"):
            raise ValueError(f"unknown lifecycle event {event!r}")
        with self.lock:
            subscription = self._subscriptions[subscription_id]
            if not subscription.lifecycle_url:
                raise ValueError("subscription has no lifecycleNotificationUrl")
            if event == "reauthorizationRequired":
                subscription.reauthorization_required = True
            item = {
                "subscriptionId": subscription.id,
                "subscriptionExpirationDateTime": subscription.expiration.isoformat(),
                "tenantId": self._account(subscription.email).tenant_id,
                "clientState": subscription.client_state,
                "lifecycleEvent": event,
            }
            if event == "subscriptionRemoved":
                subscription.deleted = True
            url = subscription.lifecycle_url
        self._send([(f"graph.lifecycle.{event}", url, dumps({"value": [item]}).encode(), _JSON)])

    # --- CalendarControl hooks --------------------------------------------------------------

    def cancel_event(self, event_id: str) -> None:
        """Organizer's copy: deleted. An attendee's copy stays, renamed "Canceled: ..." with
        `isCancelled: true` (until the user removes it: `delete_event`)."""
        with self.lock:
            event = self.store.get(event_id)
            owner = event.calendar.split("\n", 1)[0]
            organizer = event.spec.organizer.email if event.spec.organizer else owner
        if organizer == owner:
            self.delete_event(event_id)
        else:
            self.update_event(
                event_id,
                summary=f"Canceled: {event.spec.summary}",
                extra={**event.spec.extra, "isCancelled": True},
            )

    def _prerender_item(self, item: Instance, account: MicrosoftAccount, calendar) -> None:
        """`prerender()` serialises the calendar view form in UTC."""
        self.event_json(item, account, {})

    def _new_calendar(self, account: MicrosoftAccount, name: str, **fields) -> GraphCalendar:
        calendar_id = "AAMkAG" + base64.urlsafe_b64encode(self._rng.randbytes(34)).decode()
        fields.setdefault("owner_name", account.name)
        fields.setdefault("owner_email", account.email)
        calendar = GraphCalendar(
            id=calendar_id, key=f"{account.email}\n{calendar_id}", name=name, **fields
        )
        account.calendars[calendar_id] = calendar
        return calendar

    def _calendar_key(self, email: str, calendar_id: str | None) -> str:
        account = self._account(email)
        try:
            return account.calendars[calendar_id or account.default_calendar_id].key
        except KeyError:
            raise KeyError(f"{email!r} has no calendar {calendar_id!r}") from None

    def _new_event_id(self) -> str:
        return "AAMkAG" + base64.urlsafe_b64encode(self._rng.randbytes(67)).decode()

    def instance_id(self, event_id: str, original_start: DateOrDateTime) -> str:
        key = instance_key(original_start)
        known = self._graph_ids.get((event_id, key))
        if known is not None:
            return known
        digest = hashlib.sha256(f"{event_id}|{key.isoformat()}".encode()).digest()
        value = event_id.rstrip("=") + "BEgAQ" + base64.urlsafe_b64encode(digest[:16]).decode()
        self._instance_ids[value] = (event_id, key)
        self._graph_ids[(event_id, key)] = value
        return value

    def _graph_id(self, item: Instance) -> str:
        return item.event.id if item.key is None else self.instance_id(item.event.id, item.key)

    def _changed(self, event: StoredEvent, change: str, key: Any) -> Outbox:
        now = self.now()
        account = self._account(event.calendar.split("\n", 1)[0])
        item_id = event.id if key is None else self.instance_id(event.id, key)
        outbox: Outbox = []
        for subscription in self._subscriptions.values():
            if (
                subscription.calendar != event.calendar
                or not subscription.active(now)
                or change not in subscription.change_types
            ):
                continue
            resource = f"Users/{account.oid}/Events/{item_id}"
            notification = {
                "subscriptionId": subscription.id,
                "subscriptionExpirationDateTime": subscription.expiration.isoformat(),
                "changeType": change,
                "resource": resource,
                "resourceData": {
                    "@odata.type": "#Microsoft.Graph.Event",
                    "@odata.id": resource,
                    "@odata.etag": f'W/"{self._change_key(event.max_version)}"',
                    "id": item_id,
                },
                "clientState": subscription.client_state,
                "tenantId": account.tenant_id,
            }
            body = dumps({"value": [notification]}).encode()
            outbox.append(("graph.notification", subscription.notification_url, body, _JSON))
        return outbox

    # --- HTTP: errors and auth --------------------------------------------------------------

    def _graph_error(
        self,
        request: Request,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        inner: dict[str, str] | None = None,
    ) -> Response:
        request_id = str(uuid.uuid4())
        inner_error = {
            **(inner or {}),
            "date": self.now().strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": request_id,
            "client-request-id": request.headers.get("client-request-id") or request_id,
        }
        body = {"error": {"code": code, "message": message, "innerError": inner_error}}
        all_headers = {"request-id": request_id, **(headers or {})}
        return json_response(status, body, all_headers, content_type=GRAPH_JSON)

    def _aad_error(self, status: int, code: int, error: str | None = None) -> Response:
        now = self.now()
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        body = {
            "error": error or ERROR_FOR_CODE.get(code, "invalid_grant"),
            "error_description": f"AADSTS{code}: {AADSTS.get(code, 'Error.')} Trace ID: {trace} "
            f"Correlation ID: {correlation} Timestamp: {stamp}",
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        }
        return json_response(status, body)

    def error_response(
        self, request: Request, status: int, *, reason: str | None = None
    ) -> Response:
        if "/oauth2/v2.0/token" in request.path:
            if status == 429 or status >= 500:
                return self._aad_error(status, 90006, reason or "temporarily_unavailable")
            return self._aad_error(status, 9002313, reason or "invalid_request")
        if status == 401:
            return self._graph_error(
                request,
                401,
                reason or "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
                _WWW_AUTHENTICATE,
            )
        if status == 429:
            return self._graph_error(
                request,
                429,
                reason or "TooManyRequests",
                "Please retry again later.",
                inner={"code": "429", "message": "Please retry after", "status": "429"},
            )
        table = {
            400: ("BadRequest", "Bad request."),
            403: ("ErrorAccessDenied", "Access is denied. Check credentials and try again."),
            404: ("ResourceNotFound", "Resource not found for the segment."),
            405: ("Request_BadRequest", "Specified HTTP method is not allowed for the resource."),
            410: ("SyncStateNotFound", "The sync state generation is not found."),
            500: ("generalException", "General exception while processing."),
            502: ("BadGateway", "Bad gateway."),
            503: ("serviceNotAvailable", "Service unavailable."),
            504: ("UnknownError", "Gateway timeout."),
        }
        code, message = table.get(status, ("UnknownError", "Error."))
        return self._graph_error(request, status, reason or code, message)

    def _authenticate(self, request: Request, *, calendars: bool = True):
        token = request.bearer_token()
        with self.lock:
            record, problem = self.oauth.check_access_token(token)
        if problem:
            message = {
                "missing": "Access token is empty.",
                "expired": "Lifetime validation failed, the token is expired.",
                "revoked": "Continuous access evaluation resulted in challenge with result: "
                "InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp",
                "unknown": "IDX14100: JWT is not well formed, there are no dots (.)."
                if token and "." not in token
                else "Access token validation failure. Invalid audience.",
            }[problem]
            raise Abort(
                self._graph_error(
                    request, 401, "InvalidAuthenticationToken", message, _WWW_AUTHENTICATE
                )
            )
        account = self.accounts[record.email]
        user = request.params.get("user")
        if user and user.lower() not in (account.oid, account.email.lower(), account.upn.lower()):
            raise Abort(self.error_response(request, 403))
        if calendars and not CALENDAR_SCOPES & set(record.scopes):
            raise Abort(self.error_response(request, 403))
        return record, account

    def _resolve_calendar(self, request: Request, account: MicrosoftAccount) -> GraphCalendar:
        calendar_id = request.params.get("calendar_id")
        calendar = account.calendars.get(calendar_id or account.default_calendar_id)
        if calendar is None:
            raise Abort(
                self._graph_error(
                    request,
                    404,
                    "ErrorItemNotFound",
                    "The specified object was not found in the store.",
                )
            )
        return calendar

    def _make_access_token(
        self, email: str, client_id: str, scopes: tuple[str, ...], expires_at: dt.datetime
    ) -> str:
        account = self.accounts[email]
        now = self.now()
        return sign_jwt(
            {
                "aud": "00000003-0000-0000-c000-000000000000",
                "iss": f"https://sts.windows.net/{account.tenant_id}/",
                "iat": int(now.timestamp()),
                "nbf": int(now.timestamp()),
                "exp": int(expires_at.timestamp()),
                "appid": client_id,
                "name": account.name,
                "oid": account.oid,
                "scp": " ".join(s.removeprefix(GRAPH) for s in scopes if s.startswith(GRAPH)),
                "tid": account.tenant_id,
                "upn": account.upn,
                "unique_name": account.upn,
                "uti": new_id(16),
                "ver": "1.0",
            }
        )

    # --- HTTP: routes -----------------------------------------------------------------------

    def _register_routes(self) -> None:
        tenant = r"/(?P<tenant>[^/]+)"
        self.route(
            "GET",
            f"{tenant}/v2.0/.well-known/openid-configuration",
            self._openid_config,
            "oidc.config",
        )
        self.route("GET", f"{tenant}/discovery/instance", self._instance_discovery, "oidc.instance")
        self.route(
            "GET",
            f"{tenant}/discovery/v2.0/keys",
            lambda r: json_response(200, jwks()),
            "oidc.keys",
        )
        self.route("GET", f"{tenant}/oauth2/v2.0/authorize", self._authorize, "oauth.authorize")
        self.route("POST", f"{tenant}/oauth2/v2.0/token", self._token, "oauth.token")
        self.route("GET", "/oidc/userinfo", self._userinfo, "oidc.userinfo")
        user = r"/v1\.0/(?:me|users/(?P<user>[^/]+))"
        calendar = r"/(?:calendar|calendars/(?P<calendar_id>[^/]+))"
        self.route("GET", user, self._me, "me.get")
        self.route("GET", f"{user}/calendars", self._calendars, "calendars.list")
        self.route("GET", f"{user}{calendar}", self._calendar_get, "calendars.get")
        for prefix in (user, f"{user}{calendar}"):
            self.route("GET", f"{prefix}/calendarView/delta", self._delta, "calendarView.delta")
            self.route("GET", f"{prefix}/calendarView", self._calendar_view, "calendarView.list")
            self.route("GET", f"{prefix}/events", self._events_list, "events.list")
        self.route("GET", f"{user}/events/(?P<event_id>[^/]+)", self._event_get, "events.get")
        self.route(
            "GET",
            f"{user}/events/(?P<event_id>[^/]+)/instances",
            self._event_instances,
            "events.instances",
        )
        self.route(
            "POST", r"/v1\.0/subscriptions", self._subscription_create, "subscriptions.create"
        )
        self.route("GET", r"/v1\.0/subscriptions", self._subscription_list, "subscriptions.list")
        sub = r"/v1\.0/subscriptions/(?P<subscription_id>[^/]+)"
        self.route("GET", sub, self._subscription_get, "subscriptions.get")
        self.route("PATCH", sub, self._subscription_update, "subscriptions.update")
        self.route("DELETE", sub, self._subscription_delete, "subscriptions.delete")
        self.route(
            "POST",
            f"{sub}/reauthorize",
            self._subscription_reauthorize,
            "subscriptions.reauthorize",
        )

    # --- identity platform ------------------------------------------------------------------

    def _openid_config(self, request: Request) -> Response:
        base, tenant = request.base_url, request.params["tenant"]
        issuer_tenant = (
            "{tenantid}" if tenant in ("common", "organizations", "consumers") else tenant
        )
        return json_response(
            200,
            {
                "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{base}/{issuer_tenant}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": f"{base}/oidc/userinfo",
                "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{base}/{tenant}/oauth2/v2.0/logout",
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "nonce",
                    "name",
                    "oid",
                    "tid",
                    "preferred_username",
                    "email",
                ],
                "tenant_region_scope": None,
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            },
        )

    def _instance_discovery(self, request: Request) -> Response:
        endpoint = request.arg("authorization_endpoint") or ""
        match = re.match(r"https://[^/]+/([^/]+)/", endpoint)
        tenant = match.group(1) if match else "common"
        host = request.headers.get("Host", "127.0.0.1")
        return json_response(
            200,
            {
                "tenant_discovery_endpoint": f"{request.base_url}/{tenant}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [
                    {"preferred_network": host, "preferred_cache": host, "aliases": [host]}
                ],
            },
        )

    def _authorize(self, request: Request) -> Response:
        arg = request.arg
        with self.lock:
            client = self.oauth.clients.get(arg("client_id") or "")
            redirect_uri = arg("redirect_uri") or ""
            if client is None:
                return Response(
                    400, b"AADSTS700016: application not found", {"Content-Type": "text/html"}
                )
            if not redirect_uri or not client.allows_redirect(redirect_uri):
                return Response(
                    400, b"AADSTS50011: redirect URI mismatch", {"Content-Type": "text/html"}
                )
            params: dict[str, str] = {}
            email = self._consenting_account(arg("login_hint"))
            if email is None or self.deny_consent:
                params.update(
                    error="access_denied",
                    error_description="AADSTS65004: User declined to consent to access the app.",
                )
            elif arg("response_type") != "code":
                params.update(error="unsupported_response_type")
            else:
                scopes = self._consented_scopes(email, arg("scope"))
                code = self._authorize_code(
                    request,
                    email,
                    client,
                    redirect_uri,
                    scopes,
                    self._offers_refresh_token(scopes),
                )
                params["code"] = code.code
            if arg("state") is not None:
                params["state"] = arg("state")
            if "code" in params:
                params["session_state"] = str(uuid.uuid4())
        return self._redirect(redirect_uri, params)

    def _client_error(self, problem: str) -> Response:
        if problem == "unknown_client":
            return self._aad_error(400, 700016, "unauthorized_client")
        return self._aad_error(401, 7000215, "invalid_client")

    def _unsupported_grant_type(self, grant_type: str) -> Response:
        return self._aad_error(400, 70003, "unsupported_grant_type")

    def _exchange_code(self, request: Request, form: dict[str, str], client_id: str) -> Response:
        code = self.oauth.codes.get(form.get("code", ""))
        if code is None or code.client_id != client_id:
            return self._aad_error(400, 9002313, "invalid_grant")
        if code.used:
            return self._aad_error(400, 54005)
        if code.redirect_uri is not None and form.get("redirect_uri") != code.redirect_uri:
            return self._aad_error(400, 50011, "invalid_request")
        if code.code_challenge and not pkce_matches(
            form.get("code_verifier", ""), code.code_challenge, code.code_challenge_method
        ):
            return self._aad_error(400, 50148)
        grant, refresh = self.oauth.redeem_code(code)
        return self._token_response(request, form, grant, refresh, code.nonce)

    def _refresh(self, request: Request, form: dict[str, str], client_id: str) -> Response:
        token = self.oauth.refresh_tokens.get(form.get("refresh_token", ""))
        if token is None or not token.valid:
            return self._aad_error(400, 70000)
        grant = self.oauth.grants[token.grant_id]
        if grant.client_id != client_id:
            return self._aad_error(400, 70000)
        if grant.dead_reason is not None:
            reason = grant.dead_reason
            return self._aad_error(400, reason if isinstance(reason, int) else 70000)
        new_refresh = self.oauth.record_refresh(
            token,
            grant,
            client_id,
            rotate=self.rotate_refresh_tokens and "offline_access" in grant.scopes,
            retire=self.invalidate_rotated_refresh_tokens,
        )
        return self._token_response(request, form, grant, new_refresh, None)

    def _token_response(self, request, form, grant, refresh: str | None, nonce) -> Response:
        access = self.oauth.new_access_token(grant.email, grant.client_id, grant.scopes, grant.id)
        account = self.accounts[grant.email]
        resource_scopes = [s for s in grant.scopes if s not in OIDC_SCOPES]
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(resource_scopes),
            "expires_in": self.oauth.token_lifetime,
            "ext_expires_in": self.oauth.token_lifetime,
            "access_token": access.token,
        }
        if refresh:
            body["refresh_token"] = refresh
        if "openid" in grant.scopes:
            body["id_token"] = self._id_token(request, account, grant, nonce)
        if form.get("client_info") == "1":
            info = {"uid": account.oid, "utid": account.tenant_id}
            body["client_info"] = b64url(json.dumps(info).encode())
        return json_response(200, body, {"Cache-Control": "no-store, no-cache"})

    def _id_token(self, request: Request, account: MicrosoftAccount, grant, nonce) -> str:
        now = int(self.now().timestamp())
        claims: dict[str, Any] = {
            "aud": grant.client_id,
            "iss": f"{request.base_url}/{account.tenant_id}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": account.name,
            "oid": account.oid,
            "preferred_username": account.upn,
            "sub": b64url(hashlib.sha256(f"{account.oid}{grant.client_id}".encode()).digest()),
            "tid": account.tenant_id,
            "ver": "2.0",
        }
        if "email" in grant.scopes:
            claims["email"] = account.email
        if nonce:
            claims["nonce"] = nonce
        return sign_jwt(claims)

    def _userinfo(self, request: Request) -> Response:
        record, account = self._authenticate(request, calendars=False)
        given, _, family = account.name.partition(" ")
        body = {
            "sub": b64url(hashlib.sha256(f"{account.oid}{record.client_id}".encode()).digest()),
            "name": account.name,
            "family_name": family or None,
            "given_name": given,
            "picture": "https://graph.microsoft.com/v1.0/me/photo/$value",
            "email": account.email,
        }
        return json_response(200, body)

    # --- Graph: user and calendars ----------------------------------------------------------

    def _graph_json(self, payload: Any, status: int = 200, headers=None) -> Response:
        return json_response(status, payload, headers, content_type=GRAPH_JSON)

    def _me(self, request: Request) -> Response:
        _, account = self._authenticate(request, calendars=False)
        given, _, surname = account.name.partition(" ")
        return self._graph_json(
            {
                "@odata.context": f"{request.base_url}/v1.0/$metadata#users/$entity",
                "businessPhones": [],
                "displayName": account.name,
                "givenName": given,
                "jobTitle": None,
                "mail": account.email,
                "mobilePhone": None,
                "officeLocation": None,
                "preferredLanguage": "en-US",
                "surname": surname or None,
                "userPrincipalName": account.upn,
                "id": account.oid,
            }
        )

    def _calendar_resource(self, calendar: GraphCalendar) -> dict[str, Any]:
        return {
            "id": calendar.id,
            "name": calendar.name,
            "color": calendar.color,
            "hexColor": calendar.hex_color,
            "isDefaultCalendar": calendar.is_default,
            "changeKey": b64url(calendar.id.encode()[-12:]) + "==",
            "canShare": calendar.can_edit,
            "canViewPrivateItems": calendar.can_edit,
            "canEdit": calendar.can_edit,
            "allowedOnlineMeetingProviders": ["teamsForBusiness"],
            "defaultOnlineMeetingProvider": "teamsForBusiness",
            "isTallyingResponses": calendar.is_default,
            "isRemovable": not calendar.is_default,
            "owner": {"name": calendar.owner_name, "address": calendar.owner_email},
        }

    def _calendars(self, request: Request) -> Response:
        _, account = self._authenticate(request)
        with self.lock:
            value = [self._calendar_resource(c) for c in account.calendars.values()]
        context = f"{request.base_url}/v1.0/$metadata#users('{account.oid}')/calendars"
        return self._graph_json({"@odata.context": context, "value": value})

    def _calendar_get(self, request: Request) -> Response:
        _, account = self._authenticate(request)
        with self.lock:
            calendar = self._resolve_calendar(request, account)
            body = self._calendar_resource(calendar)
        body["@odata.context"] = (
            f"{request.base_url}/v1.0/$metadata#users('{account.oid}')/calendars/$entity"
        )
        return self._graph_json(body)

    # --- Graph: calendarView delta ----------------------------------------------------------

    def _window(self, request: Request) -> tuple[dt.datetime, dt.datetime]:
        start, end = request.arg_ci("startDateTime"), request.arg_ci("endDateTime")
        if not start or not end:
            raise Abort(
                self._graph_error(
                    request,
                    400,
                    "ErrorInvalidParameter",
                    "This request requires a time window specified by the query string "
                    "parameters StartDateTime and EndDateTime.",
                )
            )
        try:
            return parse_graph_time(start), parse_graph_time(end)
        except ValueError:
            raise Abort(
                self._graph_error(
                    request, 400, "ErrorInvalidParameter", "The value of a parameter is invalid."
                )
            ) from None

    def _page_size(self, prefs: dict[str, str]) -> tuple[int, list[str]]:
        applied = []
        size = self.default_page_size
        if "odata.maxpagesize" in prefs:
            try:
                size = max(1, min(int(prefs["odata.maxpagesize"]), self.max_page_size))
                applied.append(f"odata.maxpagesize={size}")
            except ValueError:
                pass
        return size, applied

    def _view_items(
        self, calendar: GraphCalendar, lo: dt.datetime, hi: dt.datetime
    ) -> list[Instance]:
        """What a calendar view shows: single instances, occurrences, exceptions; no masters."""
        return self.store.instances(calendar.key, lo, hi)

    def _delta(self, request: Request) -> Response:
        _, account = self._authenticate(request)
        prefs = parse_prefer(request.headers)
        page_size, applied = self._page_size(prefs)
        skip_token = request.arg("$skiptoken")
        delta_token = request.arg("$deltatoken")
        with self.lock:
            calendar = self._resolve_calendar(request, account)
            if skip_token is not None:
                found = self._skip_tokens.get(skip_token)
                if found is None:
                    return self._sync_state_not_found(request)
                round_, offset = found
            elif delta_token is not None:
                state = self._delta_tokens.get(delta_token)
                if state is None or state.calendar != calendar.key:
                    return self._sync_state_not_found(request)
                round_, offset = self._next_round(calendar, state), 0
            else:
                lo, hi = self._window(request)
                current = self._view_items(calendar, lo, hi)
                after = _DeltaState(
                    calendar.key,
                    lo,
                    hi,
                    {self._graph_id(i): i.version for i in current},
                    self.store.version,
                )
                round_, offset = _Round([(self._graph_id(i), i) for i in current], after), 0
            chunk = round_.entries[offset : offset + page_size]
            end = offset + len(chunk)
            base = f"{request.base_url}{request.path}"
            body: dict[str, Any] = {
                "@odata.context": f"{request.base_url}/v1.0/$metadata#Collection(event)"
            }
            if end < len(round_.entries):
                token = new_id(40)
                self._skip_tokens[token] = (round_, end)
                body["@odata.nextLink"] = f"{base}?$skiptoken={token}"
            else:
                token = new_id(40)
                self._delta_tokens[token] = round_.after
                body["@odata.deltaLink"] = f"{base}?$deltatoken={token}"
            values = [self._delta_entry(graph_id, item, account, prefs) for graph_id, item in chunk]
            if self.duplicate_delta_items and values:
                values.append(values[0])
        headers = {"Preference-Applied": ", ".join(["odata.track-changes", *applied])}
        if "outlook.timezone" in prefs:
            headers["Preference-Applied"] += f', outlook.timezone="{prefs["outlook.timezone"]}"'
        return self._graph_json(_with_values(body, values), headers=headers)

    def _next_round(self, calendar: GraphCalendar, state: _DeltaState) -> _Round:
        current = self._view_items(calendar, state.lo, state.hi)
        current_ids = {self._graph_id(i): i for i in current}
        entries: list[tuple[str, Instance | None]] = [
            (graph_id, item)
            for graph_id, item in current_ids.items()
            if state.known.get(graph_id) != item.version
        ]
        gone = [graph_id for graph_id in state.known if graph_id not in current_ids]
        if self.removed_noise:
            # Graph also reports events changed entirely outside the window as removals;
            # clients must filter them by their own window
            seen = {item.event.id for item in current}
            seen.update(
                self._instance_ids.get(graph_id, (graph_id,))[0] for graph_id in state.known
            )
            for event in self.store.events_of(calendar.key):
                if event.max_version > state.version and event.id not in seen:
                    gone.append(event.id)
        entries.extend((graph_id, None) for graph_id in dict.fromkeys(gone))
        after = _DeltaState(
            calendar.key,
            state.lo,
            state.hi,
            {graph_id: item.version for graph_id, item in current_ids.items()},
            self.store.version,
        )
        return _Round(entries, after)

    def _sync_state_not_found(self, request: Request) -> Response:
        generation = self._rng.randint(100, 200)
        return self._graph_error(
            request,
            410,
            "SyncStateNotFound",
            f"The sync state generation is not found; generation={generation};"
            f"[highest={generation + 8}][{generation + 8}][{generation + 6}][{generation + 7}].",
        )

    def _delta_entry(self, graph_id: str, item: Instance | None, account, prefs) -> str:
        if item is None:
            return dumps(
                {
                    "@odata.type": "#microsoft.graph.event",
                    "id": graph_id,
                    "@removed": {"reason": "deleted"},
                }
            )
        return self.event_json(item, account, prefs)

    # --- Graph: plain listings --------------------------------------------------------------

    def _paged(self, request: Request, items: list[Instance], account, prefs) -> Response:
        """`$top`/`$skip` paging with absolute `@odata.nextLink`s (non-delta listings)."""
        size, applied = self._page_size(prefs)
        top = request.arg("$top")
        if top is not None and top.isdigit():
            size = max(1, min(int(top), self.max_page_size))
        skip = int(request.arg("$skip") or 0)
        chunk = items[skip : skip + size]
        body: dict[str, Any] = {
            "@odata.context": f"{request.base_url}/v1.0/$metadata#users('{account.oid}')/events",
        }
        if skip + size < len(items):
            query = {k: v[0] for k, v in request.query.items() if k not in ("$skip", "$top")}
            query.update({"$top": str(size), "$skip": str(skip + size)})
            body["@odata.nextLink"] = (
                f"{request.base_url}{request.path}?{urlencode(query, safe='$:')}"
            )
        headers = {"Preference-Applied": ", ".join(applied)} if applied else None
        values = [self.event_json(item, account, prefs) for item in chunk]
        return self._graph_json(_with_values(body, values), headers=headers)

    def _calendar_view(self, request: Request) -> Response:
        _, account = self._authenticate(request)
        lo, hi = self._window(request)
        with self.lock:
            calendar = self._resolve_calendar(request, account)
            items = self._view_items(calendar, lo, hi)
            return self._paged(request, items, account, parse_prefer(request.headers))

    def _events_list(self, request: Request) -> Response:
        """`/me/events`: single instances and series masters, no occurrences."""
        _, account = self._authenticate(request)
        with self.lock:
            calendar = self._resolve_calendar(request, account)
            items = [
                i
                for i in self.store.instances(calendar.key, expand=False)
                if i.kind in ("single", "master") and not i.cancelled
            ]
            return self._paged(request, items, account, parse_prefer(request.headers))

    def _find(self, account: MicrosoftAccount, graph_id: str) -> Instance | None:
        keys = {c.key for c in account.calendars.values()}
        if graph_id in self.store.events:
            event = self.store.events[graph_id]
            if event.calendar not in keys:
                return None
            return self.store.find_instance(graph_id, None)
        if graph_id in self._instance_ids:
            event_id, key = self._instance_ids[graph_id]
            event = self.store.events[event_id]
            return self.store.find_instance(event_id, key) if event.calendar in keys else None
        return None

    def _event_get(self, request: Request) -> Response:
        _, account = self._authenticate(request)
        with self.lock:
            item = self._find(account, request.params["event_id"])
            if item is None or item.cancelled:
                return self._graph_error(
                    request,
                    404,
                    "ErrorItemNotFound",
                    "The specified object was not found in the store.",
                )
            body = self.event_json(item, account, parse_prefer(request.headers))
        return self._graph_json(body)

    def _event_instances(self, request: Request) -> Response:
        _, account = self._authenticate(request)
        lo, hi = self._window(request)
        with self.lock:
            item = self._find(account, request.params["event_id"])
            if item is None or item.kind != "master":
                return self._graph_error(
                    request,
                    404,
                    "ErrorItemNotFound",
                    "The specified object was not found in the store.",
                )
            items = [
                i
                for i in self.store.instances(item.event.calendar, lo, hi)
                if i.event is item.event
            ]
            return self._paged(request, items, account, parse_prefer(request.headers))

    # --- rendering --------------------------------------------------------------------------

    @staticmethod
    def _change_key(version: int) -> str:
        return base64.b64encode(
            b"\x11\x9f\x6b\xdd\xcc\xf1\x63\x49" + version.to_bytes(8, "big")
        ).decode()

    def event_resource(
        self, item: Instance, account: MicrosoftAccount, prefs: dict[str, str]
    ) -> dict[str, Any]:
        """The Graph `event` resource for one item, in the `Prefer`red time zone (UTC default)."""
        return json.loads(self.event_json(item, account, prefs))

    def event_json(self, item: Instance, account: MicrosoftAccount, prefs: dict[str, str]) -> str:
        """`event_resource` serialised (cached: big pages are joined from these strings)."""
        tz_name = prefs.get("outlook.timezone", "UTC")
        iana = WINDOWS_ZONES.get(tz_name, tz_name)
        try:
            zone(iana)
        except (KeyError, ValueError):
            tz_name, iana = "UTC", "UTC"
        text_body = prefs.get("outlook.body-content-type") == "text"
        return self._cached_json(
            (*item.cache_key, account.email, tz_name, text_body),
            lambda: self._render(item, account, tz_name, iana, text_body),
        )

    def _render(
        self, item: Instance, account, tz_name: str, iana: str, text_body: bool
    ) -> dict[str, Any]:
        event, spec = item.event, item.spec
        graph_id = self._graph_id(item)
        owner = account.email
        organizer = spec.organizer or None
        organizer_email = organizer.email if organizer else owner
        organizer_name = (organizer.name if organizer else account.name) or organizer_email
        is_organizer = organizer_email == owner
        change_key = self._change_key(item.version)
        content = spec.description
        conference = spec.conference
        if conference and conference.join_url not in content:
            if conference.provider == "teams":
                content += (
                    '<div style="width:100%"><span>Microsoft Teams meeting</span><br>'
                    f'<a href="{conference.join_url}">Click here to join the meeting</a></div>'
                )
            else:
                content += f'<p>Join: <a href="{conference.join_url}">{conference.join_url}</a></p>'
        if content and not content.lstrip().startswith("<html"):
            content = f"<html><body>{content}</body></html>"
        teams = conference is not None and conference.provider == "teams"
        location = spec.location or ("Microsoft Teams Meeting" if teams else "")
        kind = {"single": "singleInstance", "master": "seriesMaster"}.get(item.kind, item.kind)
        me = next((a for a in spec.attendees if a.email == owner), None)
        if is_organizer:
            response = {"response": "organizer", "time": "0001-01-01T00:00:00Z"}
        elif me is None or me.response == "needsAction":
            response = {"response": "notResponded", "time": "0001-01-01T00:00:00Z"}
        else:
            response = {
                "response": RESPONSES[me.response],
                "time": graph_time(item.updated)[:19] + "Z",
            }
        ical_date = "00000000"
        if item.key is not None:
            original = (
                item.key
                if isinstance(item.key, dt.datetime)
                else dt.datetime.combine(item.key, dt.time())
            )
            ical_date = f"{original.year:04X}{original.month:02X}{original.day:02X}"
        ical_tail = hashlib.sha256(event.id.encode()).hexdigest()[:40].upper()
        resource: dict[str, Any] = {
            "@odata.type": "#microsoft.graph.event",
            "@odata.etag": f'W/"{change_key}"',
            "id": graph_id,
            "createdDateTime": graph_time(event.created),
            "lastModifiedDateTime": graph_time(item.updated),
            "changeKey": change_key,
            "categories": [],
            "transactionId": None,
            "originalStartTimeZone": IANA_TO_WINDOWS.get(spec.time_zone, spec.time_zone),
            "originalEndTimeZone": IANA_TO_WINDOWS.get(spec.time_zone, spec.time_zone),
            "iCalUId": spec.ical_uid
            or f"040000008200E00074C5B7101A82E008{ical_date}D0F7F4A8E2B0DA01000000000000000010000000{ical_tail}",
            "uid": spec.ical_uid or f"040000008200E00074C5B7101A82E00800000000{ical_tail}",
            "reminderMinutesBeforeStart": 15,
            "isReminderOn": True,
            "hasAttachments": False,
            "subject": spec.summary,
            "bodyPreview": strip_html(content)[:255],
            "importance": "normal",
            "sensitivity": spec.sensitivity or SENSITIVITY.get(spec.visibility, spec.visibility),
            "isAllDay": spec.all_day,
            "isCancelled": False,
            "isOrganizer": is_organizer,
            "responseRequested": True,
            "seriesMasterId": event.id if item.key is not None else None,
            "showAs": spec.show_as,
            "type": kind,
            "webLink": "https://outlook.office365.com/owa/?itemid="
            + graph_id.replace("=", "%3D")
            + "&exvsurl=1&path=/calendar/item",
            "onlineMeetingUrl": None,
            "isOnlineMeeting": teams,
            "onlineMeetingProvider": "teamsForBusiness" if teams else "unknown",
            "allowNewTimeProposals": True,
            "isDraft": False,
            "hideAttendees": False,
            "responseStatus": response,
            "body": {"contentType": "text", "content": strip_html(content)}
            if text_body
            else {"contentType": "html", "content": content},
            "start": self._when(spec.start, tz_name, iana),
            "end": self._when(spec.end, tz_name, iana),
        }
        if item.key is not None:
            original = (
                item.key
                if isinstance(item.key, dt.datetime)
                else dt.datetime.combine(item.key, dt.time(), zone(spec.time_zone))
            )
            resource["originalStart"] = original.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        location_resource: dict[str, Any] = {
            "displayName": location,
            "locationType": "default",
            "uniqueIdType": "private" if location else "unknown",
        }
        if location:
            location_resource["uniqueId"] = location
        else:
            location_resource.update(address={}, coordinates={})
        resource["location"] = location_resource
        resource["locations"] = [location_resource] if location else []
        resource["recurrence"] = self._recurrence(spec, event) if item.kind == "master" else None
        resource["attendees"] = [
            {
                "type": "resource" if a.resource else "optional" if a.optional else "required",
                "status": {
                    "response": RESPONSES.get(a.response, "none"),
                    "time": "0001-01-01T00:00:00Z",
                },
                "emailAddress": {"name": a.name or a.email, "address": a.email},
            }
            for a in spec.attendees
            if a.email != organizer_email
        ]
        resource["organizer"] = {
            "emailAddress": {"name": organizer_name, "address": organizer_email}
        }
        resource["onlineMeeting"] = {"joinUrl": conference.join_url} if teams else None
        resource.update(spec.extra)
        return resource

    @staticmethod
    def _when(value: DateOrDateTime, tz_name: str, iana: str) -> dict[str, str]:
        if isinstance(value, dt.datetime):
            local = value.astimezone(zone(iana))
        else:  # all-day: midnight to midnight in the response zone
            local = dt.datetime.combine(value, dt.time())
        stamp = local.replace(tzinfo=None).isoformat(timespec="seconds")
        return {"dateTime": f"{stamp}.0000000", "timeZone": tz_name}

    @staticmethod
    def _recurrence(spec, event: StoredEvent) -> dict[str, Any]:
        rule = spec.recurrence
        names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        days = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
        start_date = (
            spec.start if spec.all_day else spec.start.astimezone(zone(spec.time_zone)).date()
        )
        pattern: dict[str, Any] = {
            "type": {
                "DAILY": "daily",
                "WEEKLY": "weekly",
                "MONTHLY": "absoluteMonthly",
                "YEARLY": "absoluteYearly",
            }[rule.freq],
            "interval": rule.interval,
            "month": start_date.month if rule.freq == "YEARLY" else 0,
            "dayOfMonth": start_date.day if rule.freq in ("MONTHLY", "YEARLY") else 0,
            "firstDayOfWeek": "sunday",
            "index": "first",
        }
        if rule.freq == "WEEKLY":
            chosen = rule.by_day or (days[start_date.weekday()],)
            pattern["daysOfWeek"] = [names[days.index(d)] for d in chosen]
        range_: dict[str, Any] = {
            "type": "noEnd",
            "startDate": start_date.isoformat(),
            "endDate": "0001-01-01",
            "recurrenceTimeZone": IANA_TO_WINDOWS.get(spec.time_zone, spec.time_zone),
            "numberOfOccurrences": 0,
        }
        if rule.count is not None:
            range_.update(type="numbered", numberOfOccurrences=rule.count)
        elif rule.until is not None:
            until = rule.until.date() if isinstance(rule.until, dt.datetime) else rule.until
            range_.update(type="endDate", endDate=until.isoformat())
        return {"pattern": pattern, "range": range_}

    # --- Graph: subscriptions ---------------------------------------------------------------

    def _subscription_resource(
        self, request: Request, subscription: Subscription
    ) -> dict[str, Any]:
        return {
            "@odata.context": f"{request.base_url}/v1.0/$metadata#subscriptions/$entity",
            "id": subscription.id,
            "resource": subscription.resource,
            "applicationId": subscription.application_id,
            "changeType": ",".join(subscription.change_types),
            "clientState": subscription.client_state,
            "notificationUrl": subscription.notification_url,
            "notificationQueryOptions": None,
            "lifecycleNotificationUrl": subscription.lifecycle_url,
            "expirationDateTime": subscription.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "creatorId": subscription.creator_id,
            "includeResourceData": None,
            "latestSupportedTlsVersion": "v1_2",
            "encryptionCertificate": None,
            "encryptionCertificateId": None,
            "notificationUrlAppId": None,
        }

    def _calendar_for_resource(
        self, account: MicrosoftAccount, resource: str
    ) -> GraphCalendar | None:
        match = re.fullmatch(
            r"/?(?:me|users/(?P<user>[^/]+))(?:/calendar|/calendars/(?P<calendar>[^/]+))?/events",
            resource,
            re.I,
        )
        if match is None:
            return None
        user = match.group("user")
        if user and user.lower() not in (account.oid, account.email.lower(), account.upn.lower()):
            return None
        return account.calendars.get(match.group("calendar") or account.default_calendar_id)

    def _expiration(self, request: Request, value: Any) -> dt.datetime:
        try:
            expiration = parse_graph_time(str(value))
        except ValueError:
            raise Abort(
                self._graph_error(request, 400, "InvalidRequest", "expirationDateTime is invalid.")
            ) from None
        now = self.now()
        if expiration <= now:
            raise Abort(
                self._graph_error(
                    request,
                    400,
                    "InvalidRequest",
                    "Subscription expiration can only be in the future.",
                )
            )
        if expiration > now + dt.timedelta(minutes=self.max_subscription_minutes):
            raise Abort(
                self._graph_error(
                    request,
                    400,
                    "InvalidRequest",
                    f"Subscription expiration can only be {self.max_subscription_minutes} "
                    "minutes in the future.",
                )
            )
        return expiration

    def _validate_endpoint(self, request: Request, url: str) -> None:
        """The real handshake: POST `?validationToken=...`, expect a 200 text/plain echo."""
        token = (
            "Validation: Testing client application reachability for subscription Request-Id: "
            f"{uuid.uuid4()}"
        )
        separator = "&" if "?" in url else "?"
        delivery = post(
            f"{url}{separator}validationToken={quote_plus(token)}",
            b"",
            {"Content-Type": "text/plain; charset=utf-8"},
            self.validation_timeout,
            "graph.validation",
        )
        with self.deliverer._lock:
            self.deliverer.deliveries.append(delivery)
        if delivery.status is None:
            timed_out = "timed out" in (delivery.error or "").lower()
            message = (
                "Subscription validation request timed out."
                if timed_out
                else f"Subscription validation request failed. {delivery.error}"
            )
        elif delivery.status != 200:
            message = (
                "Subscription validation request failed. Notification endpoint must respond "
                f"with 200 OK to validation request. Response status code: {delivery.status}."
            )
        elif not delivery.response_headers.get(
            "Content-Type", delivery.response_headers.get("content-type", "")
        ).startswith("text/plain"):
            message = "Subscription validation request failed. Response must be text/plain."
        elif delivery.response_body.decode(errors="replace") != token:
            message = (
                "Subscription validation request failed. Response must exactly match "
                "validationToken query parameter."
            )
        else:
            return
        raise Abort(self._graph_error(request, 400, "ValidationError", message))

    def _subscription_create(self, request: Request) -> Response:
        record, account = self._authenticate(request)
        try:
            body = request.json() or {}
        except ValueError:
            return self.error_response(request, 400)
        change_types = tuple(
            t.strip() for t in (body.get("changeType") or "").split(",") if t.strip()
        )
        if not change_types or set(change_types) - {"created", "updated", "deleted"}:
            return self._graph_error(request, 400, "InvalidRequest", "changeType is invalid.")
        notification_url = body.get("notificationUrl")
        lifecycle_url = body.get("lifecycleNotificationUrl")
        for url in (notification_url, lifecycle_url):
            if url and self.require_https_webhooks and not url.startswith("https://"):
                return self._graph_error(
                    request, 400, "InvalidRequest", "The notification URL must use HTTPS."
                )
        if not notification_url:
            return self._graph_error(request, 400, "InvalidRequest", "notificationUrl is required.")
        client_state = body.get("clientState")
        if client_state is not None and len(client_state) > 128:
            return self._graph_error(request, 400, "InvalidRequest", "clientState is too long.")
        with self.lock:
            calendar = self._calendar_for_resource(account, body.get("resource") or "")
            if calendar is None:
                return self._graph_error(
                    request,
                    400,
                    "ExtensionError",
                    f"Resource '{body.get('resource')}' is not supported.",
                )
            expiration = self._expiration(request, body.get("expirationDateTime"))
        for url in (notification_url, lifecycle_url):
            if url:  # outside the lock: the receiver may well call us back
                self._validate_endpoint(request, url)
        with self.lock:
            subscription = Subscription(
                id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                email=account.email,
                calendar=calendar.key,
                resource=body["resource"],
                change_types=change_types,
                notification_url=notification_url,
                lifecycle_url=lifecycle_url,
                client_state=client_state,
                expiration=expiration,
                application_id=record.client_id,
                creator_id=account.oid,
            )
            self._subscriptions[subscription.id] = subscription
            return self._graph_json(self._subscription_resource(request, subscription), 201)

    def _live_subscription(self, request: Request, account: MicrosoftAccount) -> Subscription:
        subscription = self._subscriptions.get(request.params["subscription_id"])
        if (
            subscription is None
            or not subscription.active(self.now())
            or subscription.email != account.email
        ):
            raise Abort(
                self._graph_error(request, 404, "ResourceNotFound", "The object was not found.")
            )
        return subscription

    def _subscription_list(self, request: Request) -> Response:
        record, _ = self._authenticate(request, calendars=False)
        with self.lock:
            now = self.now()
            value = [
                self._subscription_resource(request, s)
                for s in self._subscriptions.values()
                if s.active(now) and s.application_id == record.client_id
            ]
        for item in value:
            item.pop("@odata.context")
        return self._graph_json(
            {"@odata.context": f"{request.base_url}/v1.0/$metadata#subscriptions", "value": value}
        )

    def _subscription_get(self, request: Request) -> Response:
        _, account = self._authenticate(request, calendars=False)
        with self.lock:
            subscription = self._live_subscription(request, account)
            return self._graph_json(self._subscription_resource(request, subscription))

    def _subscription_update(self, request: Request) -> Response:
        _, account = self._authenticate(request, calendars=False)
        body = request.json() or {}
        with self.lock:
            subscription = self._live_subscription(request, account)
            if "expirationDateTime" in body:
                subscription.expiration = self._expiration(request, body["expirationDateTime"])
                subscription.reauthorization_required = False
            if body.get("notificationUrl"):
                subscription.notification_url = body["notificationUrl"]
            return self._graph_json(self._subscription_resource(request, subscription))

    def _subscription_delete(self, request: Request) -> Response:
        _, account = self._authenticate(request, calendars=False)
        with self.lock:
            self._live_subscription(request, account).deleted = True
        return Response(204)

    def _subscription_reauthorize(self, request: Request) -> Response:
        _, account = self._authenticate(request, calendars=False)
        with self.lock:
            self._live_subscription(request, account).reauthorization_required = False
        return Response(204)


def _with_values(envelope: dict[str, Any], values: list[str]) -> str:
    """`envelope` plus `"value": [...]` joined from pre-serialised items."""
    return dumps(envelope)[:-1] + ',"value":[' + ",".join(values) + "]}"


_JSON = {"Content-Type": "application/json; charset=utf-8"}
_WWW_AUTHENTICATE = {
    "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
    'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
}

__all__ = ["FakeMicrosoft", "GraphCalendar", "MicrosoftAccount", "OAuthClient", "Subscription"]

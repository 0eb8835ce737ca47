"""The hosted OAuth connect flow (Recall Calendar V1 wire format).

The client app builds the provider's authorization URL with a JSON `state`:

    {"recall_calendar_auth_token": "...", "google_oauth_redirect_url": "...",   # or ms_oauth_...
     "success_url": "...", "error_url": "..."}                                  # both optional

The provider redirects the browser to our callback with `code` and `state`; we verify the token,
trade the code with the project's OAuth app, connect the calendar and send the browser on.
"""

import hashlib
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from config.errors import DomainError
from projects.models import Project
from projects.validators import normalize_origin, origin_allowed

from . import services, tokens
from .models import Calendar, CalendarUser, OAuthApp
from .providers import get_provider
from .providers.base import OAuthClient, ProviderError, ProviderUnavailable

MAX_STATE_LENGTH = 8192
# A browser that reloads the callback replays the code; the provider refuses it the second time.
# Remember codes we already used so the replay shows success instead of a confusing error.
USED_CODE_SECONDS = 600
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


class ConnectError(DomainError):
    """The connect flow refused: over the API its `message` is the reason; the hosted callback
    shows `page_message`."""

    def __init__(self, code: str, reason: str, *, status: int = 400, with_reason: bool = True):
        super().__init__(code, reason, status)
        self.reason = reason
        self.with_reason = with_reason

    @property
    def page_message(self) -> str:
        # The two forms Recall's docs quote, kept word for word.
        if self.with_reason:
            return f"Calendar connection failed! (reason: {self.reason})"
        return f"Calendar connection failed! ({self.reason})"


def invalid_token_error() -> ConnectError:
    return ConnectError(
        "invalid_token",
        "Invalid 'recall_calendar_auth_token' supplied",
        status=401,
        with_reason=False,
    )


@dataclass
class OAuthState:
    token: str
    redirect_uri: str
    success_url: str | None = None
    error_url: str | None = None
    extra: dict = field(default_factory=dict)


def parse_state(raw: str | None, *, platform: str) -> OAuthState:
    """Recall clients send the JSON raw in the URL or URL-encoded (once more than the query
    string needs); accept both. Unknown keys are kept for the client, never interpreted."""
    if not raw:
        raise ConnectError("invalid_state", "state parameter missing from the OAuth callback")
    if len(raw) > MAX_STATE_LENGTH:
        raise ConnectError("invalid_state", "state parameter is too long")
    data = None
    for candidate in (raw, unquote(raw)):
        try:
            data = json.loads(candidate)
            break
        except ValueError:
            continue
    if not isinstance(data, dict):
        raise ConnectError("invalid_state", "state parameter is not a JSON object")
    token = data.get("recall_calendar_auth_token")
    if not isinstance(token, str) or not token:
        raise ConnectError("invalid_state", "'recall_calendar_auth_token' missing from state")
    redirect_key = get_provider(platform).redirect_url_key
    redirect_uri = data.get(redirect_key)
    if not isinstance(redirect_uri, str) or not _is_http_url(redirect_uri):
        raise ConnectError("invalid_state", f"'{redirect_key}' missing from state or not a URL")
    urls = {}
    for key in ("success_url", "error_url"):
        value = data.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or not _is_http_url(value):
            raise ConnectError("invalid_state", f"'{key}' in state is not an http(s) URL")
        urls[key] = value
    extra = {
        k: v
        for k, v in data.items()
        if k not in {"recall_calendar_auth_token", redirect_key, *urls}
    }
    return OAuthState(token=token, redirect_uri=redirect_uri, extra=extra, **urls)


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def default_redirect_origins() -> set[str]:
    return {normalize_origin(settings.PUBLIC_BASE_URL)}


def check_redirect_url(url: str, *, project: Project) -> None:
    """success_url/error_url must point at an origin the project allows (no open redirect).

    A project that configured no origins may redirect only to this service itself, and in DEBUG
    to loopback hosts (a developer's local app): anything else needs an explicit allow-list.
    """
    parts = urlsplit(url)
    try:
        origin = normalize_origin(f"{parts.scheme}://{parts.netloc}")
    except ValidationError:
        raise ConnectError("redirect_not_allowed", "the redirect URL is not valid") from None
    allowed = project.allowed_redirect_origins or default_redirect_origins()
    local_dev = (
        settings.DEBUG and not project.allowed_redirect_origins and parts.hostname in LOOPBACK_HOSTS
    )
    if origin_allowed(origin, allowed) or local_dev:
        return
    raise ConnectError(
        "redirect_not_allowed",
        f"{origin} is not an allowed redirect origin for this project (allowed_redirect_origins)",
    )


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def callback_url(platform: str) -> str:
    # Registered redirect URIs conventionally end with a slash, as Recall's do.
    name = get_provider(platform).callback_name
    path = reverse("calendar-oauth-callback", kwargs={"callback_name": name})
    return settings.PUBLIC_BASE_URL + path.rstrip("/") + "/"


def oauth_client(project: Project, platform: str) -> OAuthClient:
    app = OAuthApp.objects.filter(project=project, platform=platform).first()
    if app is None or not app.client_secret:
        label = get_provider(platform).label
        raise ConnectError(
            "oauth_app_not_configured", f"the project has no {label} OAuth app configured"
        )
    return OAuthClient(client_id=app.client_id, client_secret=app.client_secret, tenant=app.tenant)


def authorization(
    *,
    calendar_user: CalendarUser,
    platform: str,
    success_url: str | None,
    error_url: str | None,
    api_key_id=None,
) -> dict:
    """Everything a client needs to start the flow: the provider URL with a well-formed state.
    The state's token is bound to `api_key_id`, the key behind the caller's own token."""
    project = calendar_user.project
    for url in (success_url, error_url):
        if url:
            check_redirect_url(url, project=project)
    client = oauth_client(project, platform)
    redirect_uri = callback_url(platform)
    provider = get_provider(platform)
    state = {
        "recall_calendar_auth_token": tokens.mint(calendar_user, api_key_id=api_key_id),
        provider.redirect_url_key: redirect_uri,
    }
    if success_url:
        state["success_url"] = success_url
    if error_url:
        state["error_url"] = error_url
    encoded_state = json.dumps(state, separators=(",", ":"))
    return {
        "platform": platform,
        "url": provider.authorization_url(
            client=client, redirect_uri=redirect_uri, state=encoded_state
        ),
        "redirect_uri": redirect_uri,
        "state": encoded_state,
    }


def _used_code_key(code: str) -> str:
    return "oauth-code:" + hashlib.sha256(code.encode()).hexdigest()


def complete(*, platform: str, state: OAuthState, calendar_user: CalendarUser, params) -> Calendar:
    """Finish the flow from the provider's callback query. Raises ConnectError; writes nothing
    unless the calendar is connected."""
    provider_error = params.get("error")
    if provider_error:
        if provider_error == "access_denied":
            raise ConnectError("access_denied", "the calendar owner denied access")
        description = (params.get("error_description") or "")[:200]
        raise ConnectError(provider_error[:50], f"{provider_error} {description}".strip())
    code = params.get("code")
    if not code:
        raise ConnectError("invalid_request", "code missing from the OAuth callback")

    previous = cache.get(_used_code_key(code))
    if previous and previous["calendar_user"] == str(calendar_user.pk):
        calendar = Calendar.objects.filter(pk=previous["calendar"]).first()
        if calendar is not None:
            return calendar

    provider = get_provider(platform)
    client = oauth_client(calendar_user.project, platform)
    try:
        grant = provider.exchange_code(client=client, code=code, redirect_uri=state.redirect_uri)
    except ProviderUnavailable as exc:
        raise ConnectError(exc.code, str(exc), status=502) from None
    except ProviderError as exc:
        raise ConnectError(exc.code, str(exc)) from None
    if not grant.refresh_token:
        raise ConnectError("refresh_token_missing", "refresh_token missing from oAuth response")
    if not provider.has_calendar_scope(grant):
        raise ConnectError(
            "invalid_scope",
            f"None of the supported calendar scopes({sorted(provider.calendar_scopes)}) present "
            f"in response({sorted(grant.scopes)})",
        )
    if not grant.email:
        raise ConnectError("email_missing", "the account's email address could not be read")
    calendar = services.calendar_connect(
        calendar_user=calendar_user, platform=platform, grant=grant
    )
    cache.set(
        _used_code_key(code),
        {"calendar_user": str(calendar_user.pk), "calendar": str(calendar.pk)},
        USED_CODE_SECONDS,
    )
    return calendar

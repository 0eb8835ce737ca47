"""The calendar session: Graph calendarView delta rounds, the calendar list and subscriptions,
through the one outbound session of config.http."""

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import requests
from django.conf import settings

from config import http

from ..base import (
    AuthRevoked,
    CalendarSession,
    Channel,
    Credentials,
    CursorExpired,
    Page,
    PermanentError,
    ProviderCalendar,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    Window,
)
from .oauth import CALENDAR_SCOPE, msal_app, token_error, token_request

CURSOR_EXPIRED_CODES = {"syncstatenotfound", "resyncrequired", "syncstateinvalid"}
TOKEN_MARGIN = timedelta(minutes=2)
# Outlook subscriptions: docs disagree (3 or 7 days); 4,230 minutes is valid under both.
MAX_SUBSCRIPTION = timedelta(minutes=4230)


class GraphSession(CalendarSession):
    def __init__(self, credentials: Credentials, *, calendar_id: str = ""):
        super().__init__(credentials, calendar_id=calendar_id)
        self.http = http.session()

    # --- tokens ---
    def _ensure_token(self, *, force: bool = False) -> None:
        expires_at = self.credentials.access_token_expires_at
        fresh = expires_at is not None and expires_at - TOKEN_MARGIN > datetime.now(UTC)
        if self.credentials.access_token and fresh and not force:
            return
        result = token_request(
            lambda: msal_app(self.credentials.client).acquire_token_by_refresh_token(
                self.credentials.refresh_token, scopes=[CALENDAR_SCOPE]
            )
        )
        if result.get("error"):
            raise token_error(
                result,
                rejected=PermanentError,
                message="Microsoft refused the token request ({error}).",
            )
        self.credentials.access_token = result["access_token"]
        self.credentials.access_token_expires_at = datetime.now(UTC) + timedelta(
            seconds=int(result.get("expires_in") or 3600)
        )
        if result.get("refresh_token"):
            self.credentials.refresh_token = result["refresh_token"]
        self.credentials_changed()

    # --- Graph ---
    def _request(self, method: str, url: str, *, json=None, prefer: str | None = None) -> dict:
        if not url.startswith(settings.MICROSOFT_GRAPH_URL):
            # Paging links come from the response; never send our token anywhere else.
            raise PermanentError("Graph returned a link outside the configured Graph URL.")
        for attempt in (1, 2):
            self._ensure_token(force=attempt == 2)
            headers = {"Authorization": f"Bearer {self.credentials.access_token}"}
            if prefer:
                headers["Prefer"] = prefer
            try:
                response = self.http.request(method, url, headers=headers, json=json)
            except requests.RequestException as exc:
                raise ProviderUnavailable(
                    f"Microsoft Graph could not be reached ({exc.__class__.__name__})."
                ) from None
            if response.status_code == 401 and attempt == 1:
                continue  # the access token expired early or was revoked: refresh once
            return _graph_body(response)
        return {}

    def _delta_url(self, window: Window) -> str:
        base = settings.MICROSOFT_GRAPH_URL
        path = (
            f"me/calendars/{quote(self.calendar_id)}/calendarView/delta"
            if self.calendar_id
            else "me/calendarView/delta"
        )
        return f"{base}{path}?" + urlencode(
            {"startDateTime": _graph_time(window.start), "endDateTime": _graph_time(window.end)}
        )

    def _rounds(self, url: str) -> Iterator[Page]:
        prefer = f'odata.maxpagesize={settings.GRAPH_PAGE_SIZE}, outlook.timezone="UTC"'
        while url:
            body = self.fetch_page(lambda url=url: self._request("GET", url, prefer=prefer))
            next_link = body.get("@odata.nextLink")
            cursor = None if next_link else body.get("@odata.deltaLink")
            yield Page(events=body.get("value", []), cursor=cursor)
            url = next_link

    def changes(self, *, cursor: str | None, window: Window) -> Iterator[Page]:
        return self._rounds(cursor or self._delta_url(window))

    def window_events(self, window: Window) -> Iterator[Page]:
        for page in self._rounds(self._delta_url(window)):
            yield Page(events=page.events)

    def account_email(self) -> str:
        try:  # needs User.Read besides Calendars.Read
            me = self._request("GET", settings.MICROSOFT_GRAPH_URL + "me")
        except ProviderError:
            return ""
        return me.get("mail") or me.get("userPrincipalName") or ""

    def list_calendars(self) -> list[ProviderCalendar]:
        url = settings.MICROSOFT_GRAPH_URL + "me/calendars"
        calendars = []
        while url:
            body = self._request("GET", url)
            for entry in body.get("value", []):
                default = bool(entry.get("isDefaultCalendar"))
                calendars.append(
                    ProviderCalendar(
                        id=entry.get("id", ""),
                        name=entry.get("name") or "",
                        email=(entry.get("owner") or {}).get("address") or "",
                        is_primary=default,
                        access_role="owner"
                        if default
                        else ("writer" if entry.get("canEdit") else "reader"),
                    )
                )
            url = body.get("@odata.nextLink")
        return calendars

    def watch(
        self, *, address: str, token: str, channel_id: str, lifecycle_address: str
    ) -> Channel:
        resource = f"/me/calendars/{self.calendar_id}/events" if self.calendar_id else "/me/events"
        ttl = min(timedelta(seconds=settings.PUSH_CHANNEL_TTL_SECONDS), MAX_SUBSCRIPTION)
        expires = datetime.now(UTC) + ttl - timedelta(minutes=1)
        body = self._request(
            "POST",
            settings.MICROSOFT_GRAPH_URL + "subscriptions",
            json={
                "changeType": "created,updated,deleted",
                "notificationUrl": address,
                "lifecycleNotificationUrl": lifecycle_address,
                "resource": resource,
                "expirationDateTime": _graph_time(expires) + "Z",
                "clientState": token,
            },
        )
        return Channel(
            id=body["id"],
            resource_id=body.get("resource", resource),
            expires_at=_parse_graph_expiry(body.get("expirationDateTime")) or expires,
        )

    def stop(self, channel: Channel) -> None:
        url = f"{settings.MICROSOFT_GRAPH_URL}subscriptions/{quote(channel.id)}"
        with contextlib.suppress(PermanentError):  # an unknown subscription is already gone
            self._request("DELETE", url)


def _graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _parse_graph_expiry(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _graph_body(response) -> dict:
    if response.status_code == 204:
        return {}
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code < 400:
        return body if isinstance(body, dict) else {}
    error = body.get("error") if isinstance(body, dict) else None
    code = (error or {}).get("code", "") if isinstance(error, dict) else ""
    inner = (
        ((error or {}).get("innerError") or {}).get("code", "") if isinstance(error, dict) else ""
    )
    detail = {"status": response.status_code, "code": code}
    codes = {code.lower(), str(inner).lower()}
    if response.status_code == 410 or codes & CURSOR_EXPIRED_CODES:
        raise CursorExpired("Graph requires a full sync (delta token expired).", detail=detail)
    retry_after = response.headers.get("Retry-After")
    try:
        retry_after = float(retry_after) if retry_after is not None else None
    except ValueError:
        retry_after = None
    if response.status_code == 429:
        raise RateLimited("Graph throttled the request.", retry_after=retry_after, detail=detail)
    if response.status_code >= 500:
        raise ProviderUnavailable(
            f"Graph answered {response.status_code}.", detail=detail, retry_after=retry_after
        )
    if response.status_code == 401:
        raise AuthRevoked("Graph refused a freshly refreshed token.", detail=detail)
    raise PermanentError(f"Graph answered {response.status_code} ({code}).", detail=detail)

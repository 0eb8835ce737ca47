"""The calendar session: events (incremental pages, instances), the calendar list, watch
channels. google-api-python-client talks through httplib2 (not `requests`), so these calls
cannot use config.http; they get the same timeout and user agent here."""

import contextlib
import functools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import google.auth.exceptions
import google.oauth2.credentials
import google_auth_httplib2
import httplib2
from django.conf import settings
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from ..base import (
    AuthRevoked,
    CalendarSession,
    Channel,
    ClientRejected,
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


@functools.cache
def _discovery_document() -> str:
    path = Path(discovery.__file__).parent / "discovery_cache" / "documents" / "calendar.v3.json"
    return path.read_text()


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _naive_utc(moment: datetime | None) -> datetime | None:
    # google-auth compares expiry with a naive UTC "now".
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else None


class GoogleSession(CalendarSession):
    def __init__(self, credentials: Credentials, *, calendar_id: str = ""):
        super().__init__(credentials, calendar_id=calendar_id)
        client = credentials.client
        self.google_credentials = google.oauth2.credentials.Credentials(
            token=credentials.access_token or None,
            refresh_token=credentials.refresh_token,
            token_uri=settings.GOOGLE_OAUTH_TOKEN_URL,
            client_id=client.client_id,
            client_secret=client.client_secret,
            expiry=_naive_utc(credentials.access_token_expires_at),
        )
        transport = httplib2.Http(timeout=settings.HTTP_TIMEOUT_SECONDS)
        self.service = discovery.build_from_document(
            _discovery_document(),
            http=google_auth_httplib2.AuthorizedHttp(self.google_credentials, http=transport),
            client_options={"api_endpoint": settings.GOOGLE_CALENDAR_API_URL},
        )

    @property
    def calendar(self) -> str:
        return self.calendar_id or "primary"

    def _execute(self, request) -> dict:
        request.headers["user-agent"] = settings.HTTP_USER_AGENT
        try:
            return request.execute()
        except HttpError as exc:
            raise _classify_api_error(exc) from None
        except google.auth.exceptions.RefreshError as exc:
            raise _classify_refresh_error(exc) from None
        except (google.auth.exceptions.TransportError, httplib2.HttpLib2Error, OSError) as exc:
            raise ProviderUnavailable(
                f"Google could not be reached ({exc.__class__.__name__})."
            ) from None
        finally:
            self._note_token()

    def _note_token(self) -> None:
        token = self.google_credentials.token
        if token and token != self.credentials.access_token:
            self.credentials.access_token = token
            expiry = self.google_credentials.expiry
            self.credentials.access_token_expires_at = (
                expiry.replace(tzinfo=UTC) if expiry else None
            )
            self.credentials_changed()

    def _pages(self, **params) -> Iterator[Page]:
        events = self.service.events()
        request = events.list(
            calendarId=self.calendar,
            singleEvents=True,
            showDeleted=True,
            maxResults=settings.GOOGLE_PAGE_SIZE,
            **params,
        )
        while request is not None:
            response = self.fetch_page(lambda request=request: self._execute(request))
            cursor = response.get("nextSyncToken")
            yield Page(events=response.get("items", []), cursor=cursor)
            request = events.list_next(request, response)

    def changes(self, *, cursor: str | None, window: Window) -> Iterator[Page]:
        if cursor:
            # A sync token carries the original query; time bounds are not allowed with it.
            return self._pages(syncToken=cursor)
        return self._pages(timeMin=_rfc3339(window.start), timeMax=_rfc3339(window.end))

    def window_events(self, window: Window) -> Iterator[Page]:
        for page in self._pages(timeMin=_rfc3339(window.start), timeMax=_rfc3339(window.end)):
            yield Page(events=page.events)

    def account_email(self) -> str:
        try:  # needs a calendar.readonly grant; events-only grants cannot read the list
            entry = self._execute(self.service.calendarList().get(calendarId="primary"))
        except ProviderError:
            return ""
        calendar_id = entry.get("id", "")
        return calendar_id if _is_address(calendar_id) else ""

    def list_calendars(self) -> list[ProviderCalendar]:
        lists = self.service.calendarList()
        request = lists.list(maxResults=250)
        calendars = []
        while request is not None:
            response = self._execute(request)
            for entry in response.get("items", []):
                if entry.get("deleted"):
                    continue
                calendar_id = entry.get("id", "")
                calendars.append(
                    ProviderCalendar(
                        id=calendar_id,
                        name=entry.get("summaryOverride") or entry.get("summary") or "",
                        # A user's calendar id is its address; group calendars have none.
                        email=calendar_id if _is_address(calendar_id) else "",
                        is_primary=bool(entry.get("primary")),
                        access_role=entry.get("accessRole", ""),
                    )
                )
            request = lists.list_next(request, response)
        return calendars

    def watch(
        self, *, address: str, token: str, channel_id: str, lifecycle_address: str
    ) -> Channel:
        body = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token,
            "params": {"ttl": str(settings.PUSH_CHANNEL_TTL_SECONDS)},
        }
        response = self._execute(self.service.events().watch(calendarId=self.calendar, body=body))
        expiration_ms = int(response.get("expiration") or 0)
        return Channel(
            id=response["id"],
            resource_id=response.get("resourceId", ""),
            expires_at=datetime.fromtimestamp(expiration_ms / 1000, tz=UTC),
        )

    def stop(self, channel: Channel) -> None:
        body = {"id": channel.id, "resourceId": channel.resource_id}
        with contextlib.suppress(PermanentError):  # an unknown channel is already gone
            self._execute(self.service.channels().stop(body=body))


def _is_address(calendar_id: str) -> bool:
    return "@" in calendar_id and not calendar_id.endswith(
        ("calendar.google.com", "group.v.calendar.google.com")
    )


def _retry_after(headers) -> float | None:
    value = headers.get("retry-after") if headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _classify_api_error(exc: HttpError) -> ProviderError:
    status = exc.status_code
    reasons = {d.get("reason") for d in (exc.error_details or []) if isinstance(d, dict)}
    detail = {"status": status, "reasons": sorted(r for r in reasons if r)}
    if status == 410:
        return CursorExpired("Google requires a full sync (sync token expired).", detail=detail)
    if status == 429 or (status == 403 and reasons & RATE_LIMIT_REASONS):
        return RateLimited(
            "Google rate limit reached.", retry_after=_retry_after(exc.resp), detail=detail
        )
    if status == 401:
        return AuthRevoked("Google refused the credentials after a refresh.", detail=detail)
    if status >= 500:
        return ProviderUnavailable(
            f"Google answered {status}.", detail=detail, retry_after=_retry_after(exc.resp)
        )
    return PermanentError(
        f"Google answered {status} ({', '.join(detail['reasons'])}).", detail=detail
    )


def _classify_refresh_error(exc: google.auth.exceptions.RefreshError) -> ProviderError:
    response = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
    error = response.get("error")
    detail = {"error": error, "error_description": (response.get("error_description") or "")[:300]}
    if error == "invalid_grant":
        return AuthRevoked("Google refused the refresh token (invalid_grant).", detail=detail)
    if error in ("invalid_client", "unauthorized_client"):
        return ClientRejected(f"Google rejected the OAuth client ({error}).", detail=detail)
    return ProviderUnavailable("Google's token endpoint failed; will retry.", detail=detail)


RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}

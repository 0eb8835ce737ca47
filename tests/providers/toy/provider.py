"""The toy provider: everything a provider implements (see calendars/providers/__init__.py),
against an in-memory server instead of HTTP.

Its events look like `{"id", "title", "starts", "ends", "organizer", "guests", "video_url",
"notes", "changed"}`; a removed one is `{"id", "deleted": true}`. Refresh tokens are
`toy-refresh:<email>`; cursors are positions in the account's change log.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse

from calendars.providers.base import (
    AuthRevoked,
    CalendarSession,
    Channel,
    CodeRejected,
    Credentials,
    Grant,
    Notification,
    OAuthClient,
    Page,
    Provider,
    ProviderCalendar,
    PushReading,
    Window,
)
from meetings.facts import (
    as_dict,
    as_str,
    is_external,
    join_link_fields,
    normalize_email,
    ordered_times,
    parse_datetime,
)
from meetings.links import Candidate, text_candidates, url_candidates

from . import server

REFRESH_PREFIX = "toy-refresh:"


class ToyProvider(Provider):
    platform = "toy"
    label = "Toy"
    callback_name = "toy"
    redirect_url_key = "toy_oauth_redirect_url"
    authorization_scopes = ("calendar",)
    calendar_scopes = frozenset({"calendar"})
    cursor_covers_window = False

    # --- OAuth ---
    def authorization_url(self, *, client: OAuthClient, redirect_uri: str, state: str) -> str:
        query = {"client_id": client.client_id, "redirect_uri": redirect_uri, "state": state}
        return f"https://toy.invalid/authorize?{urlencode(query)}"

    def exchange_code(self, *, client: OAuthClient, code: str, redirect_uri: str) -> Grant:
        email = server.SERVER.codes.pop(code, None)
        if email is None:
            raise CodeRejected("Toy rejected the authorization code.")
        return Grant(
            access_token="toy-access",
            refresh_token=REFRESH_PREFIX + email,
            scopes=frozenset(self.authorization_scopes),
            email=email,
        )

    # --- sync ---
    def session(self, credentials: Credentials, *, calendar_id: str = "") -> "ToySession":
        return ToySession(credentials, calendar_id=calendar_id)

    def event_id(self, raw: dict) -> str:
        return raw["id"]

    def is_removed(self, raw: dict) -> bool:
        return raw.get("deleted") is True

    def meeting_fields(self, raw: dict, *, account_email: str) -> dict:
        event = as_dict(raw)
        start, end = ordered_times(
            parse_datetime(event.get("starts"), UTC), parse_datetime(event.get("ends"), UTC)
        )
        organizer = normalize_email(event.get("organizer"))
        account = normalize_email(account_email)
        guests = event.get("guests") if isinstance(event.get("guests"), list) else []
        attendees = [
            {
                "name": None,
                "email": normalize_email(guest),
                "is_organizer": normalize_email(guest) == organizer,
                "status": "not_available",
            }
            for guest in guests
            if isinstance(guest, str)
        ]
        return {
            "platform_event_id": as_str(event.get("id")),
            "ical_uid": "",
            "series_id": "",
            "title": as_str(event.get("title")),
            "description": as_str(event.get("notes")),
            "location": "",
            "start_time": start,
            "end_time": end,
            "is_all_day": False,
            "status": "cancelled" if self.is_removed(event) else "confirmed",
            "organizer_email": organizer,
            "attendees": attendees,
            "is_external": is_external(organizer, account, attendees),
            "is_hosted_by_me": bool(account) and organizer == account,
            "is_recurring": False,
            "visibility": None,
            **join_link_fields(self.detect_link(event)),
            "raw": event,
            "provider_updated_at": parse_datetime(event.get("changed"), UTC),
        }

    def link_candidates(self, raw: dict) -> Iterator[Candidate]:
        event = as_dict(raw)
        yield from url_candidates(event.get("video_url"), source="video_url")
        yield from text_candidates(event.get("notes"), source="notes")

    # --- push ---
    def read_push(self, request: HttpRequest, *, endpoint: str) -> PushReading:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return PushReading(response=HttpResponse(status=400))
        body = as_dict(body)
        notification = Notification(
            channel_id=as_str(body.get("channel")), token=as_str(body.get("token"))
        )
        return PushReading(response=HttpResponse(status=204), notifications=[notification])


class ToySession(CalendarSession):
    def _account(self) -> str:
        token = self.credentials.refresh_token or ""
        email = token.removeprefix(REFRESH_PREFIX)
        if not token.startswith(REFRESH_PREFIX) or email in server.SERVER.revoked:
            raise AuthRevoked("Toy refused the refresh token.")
        return email

    def _live_in(self, window: Window) -> list[dict]:
        events = server.SERVER.events.get(self._account(), {}).values()
        return [
            e
            for e in events
            if not e.get("deleted")
            and window.contains(
                datetime.fromisoformat(e["starts"]), datetime.fromisoformat(e["ends"])
            )
        ]

    def changes(self, *, cursor: str | None, window: Window) -> Iterator[Page]:
        email = self._account()
        log = server.SERVER.log[email]
        if cursor is None:
            events = self._live_in(window)
        else:
            changed = dict.fromkeys(log[int(cursor) :])
            events = [server.SERVER.events[email][event_id] for event_id in changed]
        yield self.fetch_page(lambda: Page(events=events, cursor=str(len(log))))

    def window_events(self, window: Window) -> Iterator[Page]:
        yield self.fetch_page(lambda: Page(events=self._live_in(window)))

    def account_email(self) -> str:
        return self._account()

    def list_calendars(self) -> list[ProviderCalendar]:
        email = self._account()
        return [ProviderCalendar("primary", "Toy", email, is_primary=True, access_role="owner")]

    def watch(
        self, *, address: str, token: str, channel_id: str, lifecycle_address: str
    ) -> Channel:
        server.SERVER.channels[channel_id] = {
            "account": self._account(),
            "address": address,
            "token": token,
        }
        return Channel(channel_id, "toy-events", datetime.now(UTC) + timedelta(days=3))

    def stop(self, channel: Channel) -> None:
        server.SERVER.channels.pop(channel.id, None)

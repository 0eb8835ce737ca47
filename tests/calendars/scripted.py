"""An in-process provider for sync-engine tests: Google's event shapes and cursor semantics,
without HTTP. The wire format itself is tested against the loopback fakes in tests/fakes/."""

from datetime import UTC, datetime, timedelta

from calendars.providers.base import (
    AuthRevoked,
    CalendarSession,
    Channel,
    CursorExpired,
    Page,
    RateLimited,
)
from calendars.providers.google import GoogleProvider


def google_event(event_id: str, start: datetime, minutes: int = 30, **extra) -> dict:
    return {
        "id": event_id,
        "status": "confirmed",
        "summary": extra.pop("summary", f"Meeting {event_id}"),
        "iCalUID": f"{event_id}@google.com",
        "start": {"dateTime": start.astimezone(UTC).isoformat()},
        "end": {"dateTime": (start + timedelta(minutes=minutes)).astimezone(UTC).isoformat()},
        "hangoutLink": "https://meet.google.com/abc-defg-hij",
        "organizer": {"email": "alice@acme.com"},
        "updated": datetime.now(UTC).isoformat(),
        **extra,
    }


class ScriptedCalendar:
    """Events plus a change log; cursors are positions in the log."""

    def __init__(self):
        self.events: dict[str, dict] = {}
        self.log: list[str] = []
        self.page_size = 2
        self.requests = 0
        self.fail_next: list[Exception] = []
        self.expired_cursors: set[str] = set()

    def put(self, event: dict) -> None:
        self.events[event["id"]] = event
        self.log.append(event["id"])

    def cancel(self, event_id: str) -> None:
        self.events[event_id] = {"id": event_id, "status": "cancelled"}
        self.log.append(event_id)


def _overlaps(event: dict, start: str, end: str) -> bool:
    try:
        return event["end"]["dateTime"] > start and event["start"]["dateTime"] < end
    except (KeyError, TypeError):
        return True  # a malformed event is listed, as a real provider would


class ScriptedSession(CalendarSession):
    def __init__(self, store: ScriptedCalendar, credentials):
        super().__init__(credentials)
        self.store = store

    def list_calendars(self):
        return []

    def _paged(self, items: list[dict], cursor: str | None) -> list[Page]:
        size = self.store.page_size
        chunks = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
        return [
            Page(events=chunk, cursor=cursor if n == len(chunks) - 1 else None)
            for n, chunk in enumerate(chunks)
        ]

    def _request(self):
        self.store.requests += 1
        if self.store.fail_next:
            raise self.store.fail_next.pop(0)

    def changes(self, *, cursor, window):
        if cursor in self.store.expired_cursors:
            self._request()
            raise CursorExpired("expired")
        if cursor:
            changed = dict.fromkeys(self.store.log[int(cursor) :])
            items = [self.store.events[i] for i in changed]
        else:
            items = [
                e
                for e in self.store.events.values()
                if e.get("status") != "cancelled"
                and _overlaps(e, window.start.isoformat(), window.end.isoformat())
            ]
        for page in self._paged(items, str(len(self.store.log))):
            self.fetch_page(self._request)
            yield page

    def window_events(self, window):
        items = [
            e
            for e in self.store.events.values()
            if e.get("status") != "cancelled"
            and e["start"]["dateTime"] >= window.start.isoformat()
            and e["start"]["dateTime"] < window.end.isoformat()
        ]
        for page in self._paged(items, None):
            self.fetch_page(self._request)
            yield Page(events=page.events)

    def watch(self, *, address, token, channel_id, lifecycle_address):
        self._request()
        return Channel(channel_id, "resource-1", datetime.now(UTC) + timedelta(days=3))

    def stop(self, channel):
        self._request()


class ScriptedProvider(GoogleProvider):
    def __init__(self, store: ScriptedCalendar):
        self.store = store

    def session(self, credentials, *, calendar_id=""):
        return ScriptedSession(self.store, credentials)


__all__ = ["AuthRevoked", "RateLimited", "ScriptedCalendar", "ScriptedProvider", "google_event"]

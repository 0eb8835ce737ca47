"""Provider-neutral calendar data for the fakes: event specs, recurrence, a versioned store.

Both fakes keep their events in a `CalendarStore` and differ only in how they render and page
them. Every mutation takes a new store-wide version number; sync tokens and delta tokens are
"everything after version N" (Google) or "the state the client last saw" (Graph), so incremental
results are exact rather than approximated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from calendar import monthrange
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from .base import UTC, Clock, dumps

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
#: neutral attendee responses (Google's vocabulary); Graph maps them
RESPONSES = ("needsAction", "accepted", "declined", "tentative")
DateOrDateTime = dt.date | dt.datetime


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str = ""
    response: str = "needsAction"
    optional: bool = False
    resource: bool = False


@dataclass(frozen=True)
class Conference:
    """Structured conferencing data: Google `conferenceData` (+ `hangoutLink` for Meet),
    Graph `onlineMeeting` (Teams only; other providers' links go into the body).

    Links that only appear in free text belong in `EventSpec.description` / `location`.
    """

    provider: str  # "meet" | "zoom" | "teams" | "webex" | anything else
    join_url: str
    meeting_code: str = ""
    passcode: str = ""


@dataclass(frozen=True)
class Recurrence:
    """The RRULE subset the fakes expand: DAILY/WEEKLY/MONTHLY/YEARLY, INTERVAL, COUNT, UNTIL,
    BYDAY (weekly only). Expansion happens in the event's time zone, so DST is respected."""

    freq: str
    interval: int = 1
    count: int | None = None
    until: DateOrDateTime | None = None
    by_day: tuple[str, ...] = ()

    def __post_init__(self):
        if self.freq not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
            raise ValueError(f"unsupported FREQ {self.freq!r}")
        if any(day not in WEEKDAYS for day in self.by_day):
            raise ValueError(f"bad BYDAY {self.by_day!r}")

    def rrule(self) -> str:
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if isinstance(self.until, dt.datetime):
            parts.append(f"UNTIL={self.until.astimezone(UTC):%Y%m%dT%H%M%SZ}")
        elif isinstance(self.until, dt.date):
            parts.append(f"UNTIL={self.until:%Y%m%d}")
        if self.by_day:
            parts.append("BYDAY=" + ",".join(self.by_day))
        return "RRULE:" + ";".join(parts)

    def starts(self, first: Any, tz: str, stop: Any) -> Iterator[Any]:
        """Local occurrence starts (naive datetimes, or dates for all-day) from `first`,
        stopping before `stop` (same type as `first`) or at COUNT/UNTIL."""
        until = self.until
        if isinstance(until, dt.datetime) and not isinstance(first, dt.datetime):
            until = until.astimezone(zone(tz)).date()
        elif isinstance(until, dt.datetime):
            until = until.astimezone(zone(tz)).replace(tzinfo=None)
        elif isinstance(until, dt.date) and isinstance(first, dt.datetime):
            until = dt.datetime.combine(until, dt.time(23, 59, 59))
        produced = 0
        for candidate in self._candidates(first):
            if candidate < first:
                continue
            if candidate >= stop or (until is not None and candidate > until):
                return
            if self.count is not None and produced >= self.count:
                return
            produced += 1
            yield candidate

    def _candidates(self, first: Any) -> Iterator[Any]:
        step = 0
        while True:
            if self.freq == "DAILY":
                yield first + dt.timedelta(days=step * self.interval)
            elif self.freq == "WEEKLY":
                days = sorted(WEEKDAYS.index(d) for d in self.by_day) or [first.weekday()]
                monday = first - dt.timedelta(days=first.weekday())
                week = monday + dt.timedelta(weeks=step * self.interval)
                for day in days:
                    yield week + dt.timedelta(days=day)
            else:
                months = step * self.interval * (12 if self.freq == "YEARLY" else 1)
                year, month = divmod(first.month - 1 + months, 12)
                year, month = first.year + year, month + 1
                if first.day <= monthrange(year, month)[1]:  # RFC 5545 skips the 31st
                    yield first.replace(year=year, month=month)  # of short months
            step += 1
            if step > 100_000:
                return


@dataclass(frozen=True)
class EventSpec:
    """One event as a test wants it to exist, in neutral terms.

    `start`/`end`: aware datetimes (naive ones are read in `time_zone`), or dates for all-day
    events (end exclusive). `organizer=None` means the calendar owner. `visibility` uses Google's
    words; Graph's `sensitivity` is derived from it unless given. `show_as` uses Graph's words;
    Google's `transparency` is derived. `extra` is merged into the rendered resource as-is.
    """

    summary: str
    start: DateOrDateTime
    end: DateOrDateTime
    time_zone: str = "UTC"
    description: str = ""
    location: str = ""
    organizer: Person | None = None
    attendees: tuple[Attendee, ...] = ()
    conference: Conference | None = None
    visibility: str = "default"
    sensitivity: str | None = None
    show_as: str = "busy"
    status: str = "confirmed"
    recurrence: Recurrence | None = None
    ical_uid: str | None = None
    event_type: str = "default"
    created: dt.datetime | None = None
    #: preferred event id (series master id for a series); the fake makes one up when None
    id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, dt.datetime)

    def normalized(self) -> EventSpec:
        """Make timed starts/ends aware (in `time_zone`) and attendees a tuple."""
        changes: dict[str, Any] = {"attendees": tuple(self.attendees)}
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, dt.datetime) and value.tzinfo is None:
                changes[name] = value.replace(tzinfo=zone(self.time_zone))
        if isinstance(self.start, dt.datetime) != isinstance(self.end, dt.datetime):
            raise ValueError("start and end must both be dates or both be datetimes")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return dataclasses.replace(self, **changes)


def to_utc(value: DateOrDateTime, tz: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC)
    return dt.datetime.combine(value, dt.time(), zone(tz)).astimezone(UTC)


def instance_key(original: DateOrDateTime) -> DateOrDateTime:
    """Identity of an occurrence: its original start (UTC datetime, or date for all-day)."""
    if isinstance(original, dt.datetime):
        if original.tzinfo is None:
            raise ValueError("original start must be timezone-aware")
        return original.astimezone(UTC)
    return original


@dataclass
class Override:
    """A modified or cancelled occurrence of a series (Google: exception; Graph: exception or
    a deleted occurrence)."""

    key: DateOrDateTime
    changes: dict[str, Any]
    cancelled: bool
    version: int
    updated: dt.datetime
    sequence: int = 0


@dataclass
class StoredEvent:
    id: str
    calendar: str
    spec: EventSpec
    version: int
    created: dt.datetime
    updated: dt.datetime
    sequence: int = 0
    deleted: bool = False
    overrides: dict[Any, Override] = field(default_factory=dict)
    cached_single: Instance | None = field(default=None, repr=False, compare=False)
    #: occurrence Instances by key; cleared on every change to the event
    cached_occurrences: dict[Any, Instance] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_series(self) -> bool:
        return self.spec.recurrence is not None

    @property
    def max_version(self) -> int:
        return max([self.version, *(o.version for o in self.overrides.values())])


@dataclass(frozen=True)
class Instance:
    """What a listing returns: a single event, a master, or one occurrence of a series."""

    event: StoredEvent
    key: DateOrDateTime | None  # original start for occurrences/exceptions
    spec: EventSpec
    start: dt.datetime  # UTC
    end: dt.datetime  # UTC
    kind: str  # "single" | "master" | "occurrence" | "exception"
    cancelled: bool
    version: int
    updated: dt.datetime
    sequence: int

    @property
    def cache_key(self) -> tuple:
        return (self.event.id, self.key, self.version, self.cancelled, self.kind)


def _start_order(item: Instance) -> tuple[dt.datetime, str]:
    return item.start, item.event.id


class CalendarStore:
    """Events of many calendars (keyed by an opaque calendar key) with change versions."""

    def __init__(self, now: Clock, horizon: dt.timedelta = dt.timedelta(days=365)):
        self.now = now
        #: how far past `now()` open-ended series are expanded when a query has no upper bound
        self.horizon = horizon
        self.version = 0
        self.events: dict[str, StoredEvent] = {}
        self.calendars: dict[str, dict[str, StoredEvent]] = {}

    def bump(self) -> int:
        self.version += 1
        return self.version

    # mutations -----------------------------------------------------------------------------

    def add(self, calendar: str, event_id: str, spec: EventSpec) -> StoredEvent:
        if event_id in self.events:
            raise ValueError(f"event id {event_id!r} already exists")
        spec = spec.normalized()
        now = self.now()
        event = StoredEvent(
            id=event_id,
            calendar=calendar,
            spec=spec,
            version=self.bump(),
            created=spec.created or now,
            updated=max(now, spec.created or now),
        )
        self.events[event_id] = event
        self.calendars.setdefault(calendar, {})[event_id] = event
        return event

    def get(self, event_id: str) -> StoredEvent:
        try:
            return self.events[event_id]
        except KeyError:
            raise KeyError(f"no event {event_id!r} in this fake") from None

    def update(self, event_id: str, **changes: Any) -> StoredEvent:
        event = self.get(event_id)
        if event.deleted:
            raise ValueError(f"event {event_id!r} is deleted")
        new_spec = dataclasses.replace(event.spec, **changes).normalized()
        if (new_spec.start, new_spec.end) != (event.spec.start, event.spec.end):
            event.sequence += 1
        event.spec = new_spec
        event.cached_occurrences.clear()
        event.version = self.bump()
        event.updated = self.now()
        return event

    def delete(self, event_id: str) -> StoredEvent:
        event = self.get(event_id)
        event.cached_occurrences.clear()
        event.deleted = True
        event.version = self.bump()
        event.updated = self.now()
        return event

    def purge(self, event_id: str) -> None:
        """Forget an event entirely (no tombstone): it simply stops existing."""
        event = self.events.pop(event_id)
        self.calendars[event.calendar].pop(event_id, None)
        self.bump()

    def override(
        self, event_id: str, original: DateOrDateTime, *, cancelled: bool = False, **changes: Any
    ) -> Override:
        event = self.get(event_id)
        if not event.is_series:
            raise ValueError(f"event {event_id!r} is not recurring")
        key = instance_key(original)
        if not self.is_occurrence(event, key):
            raise ValueError(f"{original!r} is not an occurrence of {event_id!r}")
        existing = event.overrides.get(key)
        merged = {**(existing.changes if existing else {}), **changes}
        effective = self._occurrence_spec(event, key, merged).normalized()  # checks start < end
        merged = {name: getattr(effective, name) for name in merged}
        override = Override(
            key=key,
            changes=merged,
            cancelled=cancelled or bool(existing and existing.cancelled),
            version=self.bump(),
            updated=self.now(),
            sequence=(existing.sequence + 1) if existing else event.sequence,
        )
        event.overrides[key] = override
        event.cached_occurrences.clear()
        return override

    def is_occurrence(self, event: StoredEvent, key: DateOrDateTime) -> bool:
        spec = event.spec
        target = key if spec.all_day else key.astimezone(zone(spec.time_zone)).replace(tzinfo=None)
        first = self._local_first(spec)
        stop = target + (dt.timedelta(days=1) if spec.all_day else dt.timedelta(seconds=1))
        return target in set(spec.recurrence.starts(first, spec.time_zone, stop))

    # queries -------------------------------------------------------------------------------

    def events_of(self, calendar: str) -> list[StoredEvent]:
        return list(self.calendars.get(calendar, {}).values())

    def instances(
        self,
        calendar: str,
        lo: dt.datetime | None = None,
        hi: dt.datetime | None = None,
        *,
        expand: bool = True,
        include_cancelled: bool = False,
        since_version: int | None = None,
    ) -> list[Instance]:
        """Items overlapping [lo, hi) (end > lo and start < hi), sorted by start.

        `expand=False` returns masters instead of occurrences (plus exceptions). With
        `since_version`, only items changed after that version are returned, cancelled and
        deleted ones included, regardless of the window.
        """
        upper = hi or (self.now() + self.horizon)
        result: list[Instance] = []
        for event in self.calendars.get(calendar, {}).values():
            if since_version is not None and event.max_version <= since_version:
                continue
            if not event.is_series:
                items = [self._single(event)]
            elif expand:
                items = list(self._occurrences(event, lo, upper))
            else:
                items = [self._master(event), *self._exceptions(event)]
            for item in items:
                if since_version is not None:
                    if item.version > since_version:
                        result.append(item)
                    continue
                if item.cancelled and not include_cancelled:
                    continue
                if (lo is None or item.end > lo) and item.start < upper:
                    result.append(item)
        result.sort(key=_start_order)
        return result

    def find_instance(self, event_id: str, key: DateOrDateTime | None) -> Instance | None:
        event = self.get(event_id)
        if key is None:
            return self._master(event) if event.is_series else self._single(event)
        key = instance_key(key)
        if not self.is_occurrence(event, key):
            return None
        return self._occurrence(event, key)

    # internals -----------------------------------------------------------------------------

    @staticmethod
    def _local_first(spec: EventSpec) -> Any:
        if spec.all_day:
            return spec.start
        return spec.start.astimezone(zone(spec.time_zone)).replace(tzinfo=None)

    def _single(self, event: StoredEvent) -> Instance:
        cached = event.cached_single
        if cached is not None and cached.version == event.version:
            return cached
        spec = event.spec
        event.cached_single = Instance(
            event=event,
            key=None,
            spec=spec,
            start=to_utc(spec.start, spec.time_zone),
            end=to_utc(spec.end, spec.time_zone),
            kind="single",
            cancelled=event.deleted or spec.status == "cancelled",
            version=event.version,
            updated=event.updated,
            sequence=event.sequence,
        )
        return event.cached_single

    def _master(self, event: StoredEvent) -> Instance:
        return dataclasses.replace(self._single(event), kind="master")

    def _occurrence_spec(self, event: StoredEvent, key: Any, changes: dict) -> EventSpec:
        spec = event.spec
        if spec.all_day:
            start: Any = key
            end: Any = key + (spec.end - spec.start)
        else:
            start = key.astimezone(zone(spec.time_zone))
            end = start + (spec.end - spec.start)
        base = dataclasses.replace(spec, start=start, end=end, recurrence=None)
        return dataclasses.replace(base, **changes) if changes else base

    def _occurrence(self, event: StoredEvent, key: Any) -> Instance:
        cached = event.cached_occurrences.get(key)
        if cached is None:
            cached = event.cached_occurrences[key] = self._new_occurrence(event, key)
        return cached

    def _new_occurrence(self, event: StoredEvent, key: Any) -> Instance:
        override = event.overrides.get(key)
        version, updated, sequence = event.version, event.updated, event.sequence
        if override is not None:
            version = max(version, override.version)
            updated = max(updated, override.updated)
            sequence = override.sequence
        cancelled = event.deleted or bool(override and override.cancelled)
        if override is None or cancelled:
            # a cancelled occurrence keeps its original slot
            kind, spec = "occurrence", self._occurrence_spec(event, key, {})
        else:
            kind, spec = "exception", self._occurrence_spec(event, key, override.changes)
        return Instance(
            event=event,
            key=key,
            spec=spec,
            start=to_utc(spec.start, spec.time_zone),
            end=to_utc(spec.end, spec.time_zone),
            kind=kind,
            cancelled=cancelled,
            version=version,
            updated=updated,
            sequence=sequence,
        )

    def _occurrences(
        self, event: StoredEvent, lo: dt.datetime | None, hi: dt.datetime
    ) -> Iterator[Instance]:
        spec = event.spec
        tz = zone(spec.time_zone)
        first = self._local_first(spec)
        if spec.all_day:
            stop: Any = hi.astimezone(tz).date() + dt.timedelta(days=1)
        else:
            stop = hi.astimezone(tz).replace(tzinfo=None) + dt.timedelta(days=1)
        for local in spec.recurrence.starts(first, spec.time_zone, stop):
            key = local if spec.all_day else local.replace(tzinfo=tz).astimezone(UTC)
            if key in event.overrides:
                continue
            yield self._occurrence(event, key)
        for key in event.overrides:
            yield self._occurrence(event, key)

    def _exceptions(self, event: StoredEvent) -> Iterator[Instance]:
        for key in event.overrides:
            yield self._occurrence(event, key)


Outbox = list[tuple[str, str, bytes, dict[str, str]]]


class CalendarControl:
    """Control methods shared by both fakes (mixed into a `FakeServer` subclass).

    The host class provides `lock`, `store`, `deliverer`, `accounts` (e-mail -> account with
    a `calendars` dict of objects with a `key`), `provider_name`, and implements
    `_calendar_key()`, `_new_event_id()`, `instance_id()`, `_changed()` (which returns the
    notifications to send; they go out after the lock is released, so a receiver may call the
    fake back) and `_prerender_item()`.
    """

    store: CalendarStore
    accounts: dict[str, Any]
    _render_cache: dict[tuple, str]
    #: used in error messages ("no Google account ...")
    provider_name = "provider"

    def add_event(
        self,
        email: str,
        spec: EventSpec | None = None,
        *,
        calendar_id: str | None = None,
        event_id: str | None = None,
        **fields: Any,
    ) -> str:
        """Create a single event or (with `recurrence=Recurrence(...)`) a series; return its id.

        Either pass an `EventSpec` or its fields as keywords (`summary`, `start`, `end`, ...).
        `calendar_id=None` means the account's primary/default calendar.
        """
        spec = dataclasses.replace(spec, **fields) if spec is not None else EventSpec(**fields)
        with self.lock:
            calendar = self._calendar_key(email, calendar_id)
            event_id = event_id or spec.id or self._new_event_id()
            event = self.store.add(calendar, event_id, spec)
            outbox = self._changed(event, "created", None)
        self._send(outbox)
        return event.id

    def add_events(
        self, email: str, specs: list[EventSpec], *, calendar_id: str | None = None
    ) -> list[str]:
        """Bulk insert without notifications (for seeding big calendars quickly)."""
        with self.lock:
            calendar = self._calendar_key(email, calendar_id)
            ids = []
            for spec in specs:
                ids.append(self.store.add(calendar, spec.id or self._new_event_id(), spec).id)
            return ids

    def update_event(self, event_id: str, **fields: Any) -> None:
        """Change fields of a single event or of a whole series (all its occurrences)."""
        with self.lock:
            event = self.store.update(event_id, **fields)
            outbox = self._changed(event, "updated", None)
        self._send(outbox)

    def move_event(self, event_id: str, start: DateOrDateTime, end: DateOrDateTime) -> None:
        self.update_event(event_id, start=start, end=end)

    def delete_event(self, event_id: str) -> None:
        """Delete an event or a whole series (Google keeps a `cancelled` tombstone)."""
        with self.lock:
            event = self.store.delete(event_id)
            outbox = self._changed(event, "deleted", None)
        self._send(outbox)

    def cancel_event(self, event_id: str) -> None:
        """The organizer cancels the meeting. Same as `delete_event` unless a provider says
        otherwise (Graph keeps an attendee's copy with `isCancelled: true`)."""
        self.delete_event(event_id)

    def update_instance(self, event_id: str, original_start: DateOrDateTime, **fields) -> str:
        """Turn one occurrence of a series into an exception; returns the instance id."""
        with self.lock:
            override = self.store.override(event_id, original_start, **fields)
            event = self.store.get(event_id)
            outbox = self._changed(event, "updated", override.key)
            return_id = self.instance_id(event_id, original_start)
        self._send(outbox)
        return return_id

    def move_instance(
        self,
        event_id: str,
        original_start: DateOrDateTime,
        start: DateOrDateTime,
        end: DateOrDateTime,
    ) -> str:
        return self.update_instance(event_id, original_start, start=start, end=end)

    def cancel_instance(self, event_id: str, original_start: DateOrDateTime) -> str:
        """Cancel (delete) one occurrence of a series; returns the instance id."""
        with self.lock:
            override = self.store.override(event_id, original_start, cancelled=True)
            event = self.store.get(event_id)
            outbox = self._changed(event, "deleted", override.key)
            return_id = self.instance_id(event_id, original_start)
        self._send(outbox)
        return return_id

    def event_spec(self, event_id: str) -> EventSpec:
        with self.lock:
            return self.store.get(event_id).spec

    def event_ids(self, email: str, *, calendar_id: str | None = None) -> list[str]:
        """Ids of live (not deleted) events and series masters in a calendar."""
        with self.lock:
            calendar = self._calendar_key(email, calendar_id)
            return [e.id for e in self.store.events_of(calendar) if not e.deleted]

    def prerender(self, lo: dt.datetime | None = None, hi: dt.datetime | None = None) -> int:
        """Expand and serialise every item the provider lists in [lo, hi) (default: everything
        up to the recurrence horizon), so first syncs in benchmarks measure the client, not the
        fake. Returns the number of items."""
        count = 0
        with self.lock:
            for account in self.accounts.values():
                for calendar in account.calendars.values():
                    for item in self.store.instances(calendar.key, lo, hi):
                        self._prerender_item(item, account, calendar)
                        count += 1
        return count

    def _cached_json(self, cache_key: tuple, build: Callable[[], Any]) -> str:
        """`dumps(build())`, remembered under `cache_key` (in `self._render_cache`)."""
        cached = self._render_cache.get(cache_key)
        if cached is None:
            if len(self._render_cache) > 200_000:
                self._render_cache.clear()
            cached = dumps(build())
            self._render_cache[cache_key] = cached
        return cached

    def _account(self, email: str) -> Any:
        try:
            return self.accounts[email]
        except KeyError:
            raise KeyError(
                f"no {self.provider_name} account {email!r}; call add_account() first"
            ) from None

    def _send(self, outbox: Outbox) -> None:
        for kind, url, body, headers in outbox:
            self.deliverer.send(kind, url, body, headers)

    # provided by the host class
    def _calendar_key(self, email: str, calendar_id: str | None) -> str:
        raise NotImplementedError

    def _new_event_id(self) -> str:
        raise NotImplementedError

    def instance_id(self, event_id: str, original_start: DateOrDateTime) -> str:
        raise NotImplementedError

    def _changed(self, event: StoredEvent, change: str, key: Any) -> Outbox:
        raise NotImplementedError

    def _prerender_item(self, item: Instance, account: Any, calendar: Any) -> None:
        raise NotImplementedError

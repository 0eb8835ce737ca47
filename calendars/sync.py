"""The sync engine: keep a calendar's meetings equal to the provider's events in the horizon.

One sync of one calendar:
1. take the calendar's lease (a conditional UPDATE: works on PostgreSQL and SQLite; a crashed
   worker's lease simply expires), so one worker syncs a calendar at a time;
2. read only what changed since the stored cursor (Google sync token, Graph delta link), or the
   whole horizon when there is none; a grown horizon is fetched slice-wise (Google) or by a new
   round (Graph, whose delta link encodes its window); an expired cursor means a clean full sync;
3. per page, outside any transaction while on the network, then in one short transaction:
   insert the new events (COPY on PostgreSQL), update the changed ones (rows whose fingerprint
   is unchanged are not touched) and soft-delete what went away. A written row is marked
   `needs_reconcile` unless it was decided at insert and needs no bot; its `updated_at` is taken
   under the calendar's row lock (the announcement watermark relies on it). A failed page
   request is retried within the round (calendars/providers/base.py);
4. after a full round, soft-delete the meetings of the horizon the provider no longer has;
5. store the new cursor only after the last page, so a crash anywhere replays the round and
   converges (every write is idempotent);
6. still holding the lease, whatever the round's outcome: reconcile the marked meetings (bots),
   then announce every meeting changed since the calendar's announcement watermark (webhooks),
   each step in its own transaction. What a failure or crash leaves undone, the next attempt or
   the minute's drains (bots.reconcile.reconcile_pending, calendars.jobs.announce_pending) do.

The lease is short (SYNC_LEASE_SECONDS) and renewed by every write and by a heartbeat while the
syncing thread waits for the provider, so a killed worker's calendar is taken over within
seconds; `sync_finished_at` tells the sweeper which attempts died without an outcome.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import uuid
from collections.abc import Iterator
from contextlib import closing, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from types import SimpleNamespace
from typing import NamedTuple

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from config import faults
from meetings.decisions import decide
from meetings.models import BotSchedule, Meeting

from .models import Calendar, CalendarUser, OAuthApp
from .providers import get_provider
from .providers.base import (
    AuthRevoked,
    CalendarSession,
    ClientRejected,
    Credentials,
    CursorExpired,
    OAuthClient,
    Page,
    PermanentError,
    ProviderError,
    Window,
)

logger = logging.getLogger(__name__)

# Meeting fields a sync owns (everything else - override, decision - belongs to other rules).
SYNCED_FIELDS = (
    "ical_uid",
    "series_id",
    "title",
    "description",
    "location",
    "start_time",
    "end_time",
    "is_all_day",
    "status",
    "organizer_email",
    "attendees",
    "is_external",
    "is_hosted_by_me",
    "is_recurring",
    "visibility",
    "meeting_url",
    "meeting_platform",
    "meeting_invite",
    "raw",
    "provider_updated_at",
)
UPSERT_BATCH = 1000
_MAX_LENGTHS = {
    f.name: f.max_length
    for f in Meeting._meta.concrete_fields
    if getattr(f, "max_length", None) and f.name in SYNCED_FIELDS
}
_FINGERPRINTED = tuple(name for name in SYNCED_FIELDS if name != "raw")


class LeaseLost(Exception):
    """Another worker took the calendar over (our lease expired): stop writing."""


@dataclass
class SyncResult:
    status: str  # synced | busy | skipped | retry | disconnected
    full: bool = False
    upserted: int = 0
    deleted: int = 0
    skipped_events: int = 0
    changed_event_ids: set[str] = field(default_factory=set)
    # New meetings decided at insert that need no bot.
    settled_event_ids: set[str] = field(default_factory=set)
    # Pages inserted meetings decided to record: their bots are made after the round.
    bots_pending: bool = False
    announced: int = 0
    error: str = ""
    started_at: datetime = field(default_factory=timezone.now)


def horizon(project, now: datetime) -> Window:
    """Whole UTC days, so the window (and with it Graph's delta round) moves once a day."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Window(
        start=today - timedelta(days=project.sync_days_past),
        end=today + timedelta(days=project.sync_days_future + 1),
    )


def credentials_for(calendar: Calendar) -> Credentials:
    if calendar.oauth_client_id:
        client = OAuthClient(calendar.oauth_client_id, calendar.oauth_client_secret)
    else:
        app = OAuthApp.objects.filter(
            project_id=calendar.project_id, platform=calendar.platform
        ).first()
        if app is None:
            raise PermanentError("The project has no OAuth app for this platform.")
        client = OAuthClient(app.client_id, app.client_secret, app.tenant)
    return Credentials(
        client=client,
        refresh_token=calendar.refresh_token,
        access_token=calendar.access_token,
        access_token_expires_at=calendar.access_token_expires_at,
    )


# --- lease ----------------------------------------------------------------------------------------


def lease_free(now: datetime) -> Q:
    return Q(sync_lease_expires_at__isnull=True) | Q(sync_lease_expires_at__lte=now)


def _acquire(calendar_id, owner: str, now: datetime) -> bool:
    return bool(
        Calendar.objects.filter(lease_free(now), pk=calendar_id)
        .exclude(state=Calendar.State.DISCONNECTED)
        .update(
            sync_lease_owner=owner,
            sync_lease_expires_at=now + timedelta(seconds=settings.SYNC_LEASE_SECONDS),
            sync_due_at=None,  # this sync answers every request made so far
            last_attempted_sync_at=now,
        )
    )


def _fence(calendar_id, owner: str, **also) -> None:
    """Renew our lease, or stop if it is no longer ours. Inside a write transaction it also
    locks the calendar row, which every writer of the calendar's meetings takes first. `also`:
    more calendar fields to write in the same statement."""
    renewed = Calendar.objects.filter(pk=calendar_id, sync_lease_owner=owner).update(
        sync_lease_expires_at=timezone.now() + timedelta(seconds=settings.SYNC_LEASE_SECONDS),
        **also,
    )
    if not renewed:
        raise LeaseLost(str(calendar_id))


def heartbeat_seconds() -> float:
    return settings.SYNC_LEASE_SECONDS / 4


def _release(calendar_id, owner: str) -> bool:
    """Give the lease back, noting that this attempt ended; True when a sync was requested
    meanwhile (run it again)."""
    Calendar.objects.filter(pk=calendar_id, sync_lease_owner=owner).update(
        sync_lease_owner="", sync_lease_expires_at=None, sync_finished_at=timezone.now()
    )
    return Calendar.objects.filter(pk=calendar_id, sync_due_at__lte=timezone.now()).exists()


# --- writes ----------------------------------------------------------------------------------------


def _json(value) -> str:
    """JSON text of provider data. orjson is several times faster than the standard library on
    kilobytes of event payload; what it refuses (integers beyond 64 bits) goes the slow way."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value, default=str, separators=(",", ":"))


def _without_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


def _fingerprint(fields: dict, raw_json: str) -> str:
    """What a sync wrote; an event whose fingerprint is unchanged is not written again."""
    facts = _json([fields[name] for name in _FINGERPRINTED])
    return hashlib.sha256(f"{facts}\n{raw_json}".encode()).hexdigest()


def _fit(fields: dict) -> dict:
    """Provider data that would break a column (or the batch with it) is cut to fit."""
    for name, limit in _MAX_LENGTHS.items():
        value = fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            fields[name] = value[:limit]
    if fields["end_time"] < fields["start_time"]:
        fields["end_time"] = fields["start_time"]
    return fields


@dataclass
class Row:
    """One meeting to write: the synced fields, their fingerprint and the payload's JSON text
    (encoded once, for the fingerprint and for COPY)."""

    event_id: str
    fields: dict
    raw_json: str
    fingerprint: str
    will_record: bool = False
    will_record_reason: str = ""
    needs_reconcile: bool = True


class Prepared(NamedTuple):
    present: dict[str, Row]  # event id -> row
    gone: set[str]  # event ids removed, or moved out of the horizon


class PageWriter:
    """Applies pages of raw events to one calendar's meetings."""

    def __init__(
        self, calendar: Calendar, provider, window: Window, owner: str, result: SyncResult
    ):
        self.calendar = calendar
        self.provider = provider
        self.window = window
        self.owner = owner
        self.result = result
        self.seen: set[str] = set()

    def _parse(self, events: list[dict]) -> tuple[dict[str, dict], set[str]]:
        present: dict[str, dict] = {}
        gone: set[str] = set()
        for raw in events:
            try:
                event_id = self.provider.event_id(raw)
                if self.provider.is_removed(raw):
                    present.pop(event_id, None)
                    gone.add(event_id)
                    continue
                fields = self.provider.meeting_fields(raw, account_email=self.calendar.email)
                if fields.get("start_time") is None or fields.get("end_time") is None:
                    raise ValueError("event without start or end time")
                fields = _fit(fields)
            except Exception:
                # One malformed event must not stop the calendar's sync.
                logger.warning(
                    "skipping malformed event of calendar %s", self.calendar.pk, exc_info=True
                )
                self.result.skipped_events += 1
                continue
            if self.window.contains(fields["start_time"], fields["end_time"]):
                present[event_id] = fields
                gone.discard(event_id)
            else:
                gone.add(event_id)  # moved out of the horizon, or a change we do not keep
                present.pop(event_id, None)
        return present, gone

    def prepare(self, page: Page) -> Prepared:
        """The half of a page's work that needs no database: parse, encode, fingerprint."""
        present, gone = self._parse(page.events)
        rows = {}
        for event_id, fields in present.items():
            raw_json = _json(fields["raw"])
            if "\\u0000" in raw_json:
                # PostgreSQL's text and jsonb cannot hold NUL; every field comes from the payload.
                fields = _without_nul(fields)
                raw_json = _json(fields["raw"])
            rows[event_id] = Row(event_id, fields, raw_json, _fingerprint(fields, raw_json))
        return Prepared(rows, gone)

    def write(self, page: Page) -> None:
        self.apply(self.prepare(page))

    def apply(self, prepared: Prepared) -> None:
        """The other half: compare with what is stored and write the difference."""
        present, gone = prepared
        self.seen.update(present)
        if not present and not gone:
            return
        existing = {
            row[0]: row[1:]
            for row in Meeting.objects.filter(
                calendar=self.calendar, platform_event_id__in=[*present, *gone]
            ).values_list("platform_event_id", "pk", "fingerprint", "is_deleted")
        }
        new: list[Row] = []
        changed: list[Row] = []
        for event_id, row in present.items():
            known = existing.get(event_id)
            if known is None:
                new.append(row)
            elif known[1] != row.fingerprint or known[2]:
                changed.append(row)
        deleted = {e: existing[e][0] for e in gone if e in existing and not existing[e][2]}
        if not new and not changed and not deleted:
            return
        settled = self._decide(new, timezone.now())
        # Recorded new meetings are not marked one by one: the calendar's flag says that some
        # of them wait for bots (reconciliation finds them), which spares an update per row.
        bots_pending = any(row.will_record for row in new)
        with transaction.atomic():
            _fence(self.calendar.pk, self.owner, **({"bots_pending": True} if bots_pending else {}))
            # After the lock: an announcement (which takes it too) never misses these rows.
            now = timezone.now()
            _write_rows(self.calendar, new, now, new=True)
            _write_rows(self.calendar, changed, now, new=False)
            if deleted:
                Meeting.objects.filter(pk__in=list(deleted.values())).update(
                    is_deleted=True, updated_at=now, needs_reconcile=True
                )
        faults.point("sync.page_committed")
        result = self.result
        result.bots_pending |= bots_pending
        result.upserted += len(new) + len(changed)
        result.deleted += len(deleted)
        result.changed_event_ids.update(row.event_id for row in new)
        result.changed_event_ids.update(row.event_id for row in changed)
        result.changed_event_ids.update(deleted)
        result.settled_event_ids.difference_update(row.event_id for row in changed)
        result.settled_event_ids.difference_update(deleted)
        result.settled_event_ids.update(settled)

    def _decide(self, rows: list[Row], now: datetime) -> set[str]:
        """New meetings are inserted with their recording decision, so reconciliation (which
        would load each one again) skips those that need no bot (settled) and only makes the
        bots of the others. A calendar that is not connected yet leaves every decision to the
        reconciliation after the sync."""
        if not rows or self.calendar.state != Calendar.State.CONNECTED:
            return set()
        calendar = self.calendar
        preferences = CalendarUser.objects.filter(pk=calendar.calendar_user_id).first()
        series = {row.fields["series_id"] for row in rows} - {""}
        schedules = (
            {
                schedule.series_id: schedule
                for schedule in BotSchedule.objects.filter(
                    calendar=calendar, meeting__isnull=True, series_id__in=series
                )
            }
            if series
            else {}
        )
        settled = set()
        for row in rows:
            meeting = SimpleNamespace(**row.fields, is_deleted=False, override_should_record=None)
            decision = decide(
                meeting,
                preferences,
                account_email=calendar.email,
                now=now,
                schedule=schedules.get(row.fields["series_id"]),
            )
            row.will_record, row.will_record_reason = decision.will_record, decision.reason
            row.needs_reconcile = False
            if not decision.will_record:
                settled.add(row.event_id)
        return settled

    def sweep(self) -> None:
        """After a full round: what the horizon holds but the provider did not list is gone."""
        in_window = Meeting.objects.filter(
            calendar=self.calendar,
            is_deleted=False,
            end_time__gt=self.window.start,
            start_time__lt=self.window.end,
        )
        missing = {
            event_id: pk
            for event_id, pk in in_window.values_list("platform_event_id", "pk")
            if event_id not in self.seen
        }
        if not missing:
            return
        with transaction.atomic():
            _fence(self.calendar.pk, self.owner)
            Meeting.objects.filter(pk__in=list(missing.values())).update(
                is_deleted=True, updated_at=timezone.now(), needs_reconcile=True
            )
        self.result.deleted += len(missing)
        self.result.changed_event_ids.update(missing)
        self.result.settled_event_ids.difference_update(missing)


UPSERT_UPDATED = (
    *SYNCED_FIELDS,
    "fingerprint",
    "is_deleted",
    "updated_at",
    "needs_reconcile",
)
INSERTED = (
    "id",
    "project",
    "calendar",
    "platform_event_id",
    "created_at",
    *UPSERT_UPDATED,
    "will_record",
    "will_record_reason",
)
# Below this many rows the ORM's INSERT .. ON CONFLICT is as fast and costs fewer statements.
COPY_THRESHOLD = 200
JSON_FIELDS = {
    f.name for f in Meeting._meta.concrete_fields if f.get_internal_type() == "JSONField"
}


def _copy_values(calendar: Calendar, row: Row, now: datetime) -> list:
    """One row for COPY, columns in INSERTED order, JSON columns as JSON text."""
    fields = row.fields
    values = [uuid.uuid4(), calendar.project_id, calendar.pk, row.event_id, now]
    for name in SYNCED_FIELDS:
        value = fields[name]
        if name == "raw":
            value = row.raw_json
        elif name in JSON_FIELDS and value is not None:
            value = _json(value)
        values.append(value)
    values += [
        row.fingerprint,
        False,
        now,
        row.needs_reconcile,
        row.will_record,
        row.will_record_reason,
    ]
    return values


def _model(calendar: Calendar, row: Row, now: datetime) -> Meeting:
    return Meeting(
        project_id=calendar.project_id,
        calendar=calendar,
        platform_event_id=row.event_id,
        fingerprint=row.fingerprint,
        is_deleted=False,
        created_at=now,
        updated_at=now,
        will_record=row.will_record,
        will_record_reason=row.will_record_reason,
        needs_reconcile=row.needs_reconcile,
        **{name: row.fields[name] for name in SYNCED_FIELDS},
    )


def _columns(names) -> str:
    # The identifiers come from the model's metadata, never from input.
    return ", ".join(f'"{Meeting._meta.get_field(name).column}"' for name in names)


def _write_rows(calendar: Calendar, rows: list[Row], now: datetime, *, new: bool) -> None:
    """`new`: meetings the calendar does not have yet - under the sync lease nobody else writes
    this calendar's meetings, so on PostgreSQL large pages are COPied straight into the table.
    Otherwise meetings whose event changed (or came back): COPY into a temporary table, then one
    INSERT .. ON CONFLICT (building the rows as SQL parameters through the ORM costs several
    times more per event). A decision already made stays; reconciliation recomputes it."""
    if not rows:
        return
    if connection.vendor != "postgresql" or len(rows) < COPY_THRESHOLD:
        _upsert_by_orm(calendar, rows, now)
        return
    table = Meeting._meta.db_table
    names = _columns(INSERTED)
    with connection.cursor() as cursor:
        if new:
            _copy(cursor, table, names, calendar, rows, now)
            return
        updates = ", ".join(
            f'"{Meeting._meta.get_field(name).column}" = EXCLUDED."{Meeting._meta.get_field(name).column}"'
            for name in UPSERT_UPDATED
        )
        create = f"CREATE TEMP TABLE IF NOT EXISTS meeting_upsert ON COMMIT DELETE ROWS AS SELECT {names} FROM {table} WITH NO DATA"  # noqa: S608
        merge = f"INSERT INTO {table} ({names}) SELECT {names} FROM meeting_upsert ON CONFLICT (calendar_id, platform_event_id) DO UPDATE SET {updates}"  # noqa: S608
        cursor.execute(create)
        _copy(cursor, "meeting_upsert", names, calendar, rows, now)
        cursor.execute(merge)
        cursor.execute("DELETE FROM meeting_upsert")


def _copy(cursor, table: str, names: str, calendar: Calendar, rows: list[Row], now) -> None:
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(_copy_values(calendar, row, now))


def _upsert_by_orm(calendar: Calendar, rows: list[Row], now: datetime) -> None:
    Meeting.objects.bulk_create(
        [_model(calendar, row, now) for row in rows],
        batch_size=UPSERT_BATCH,
        update_conflicts=True,
        unique_fields=["calendar", "platform_event_id"],
        update_fields=list(UPSERT_UPDATED),
    )


# --- one sync -----------------------------------------------------------------------------------


def _save_tokens(calendar_id, credentials: Credentials) -> None:
    # Its own statement, committed at once: a rotated Microsoft refresh token must never be lost.
    Calendar.objects.filter(pk=calendar_id).update(
        refresh_token=credentials.refresh_token,
        access_token=credentials.access_token,
        access_token_expires_at=credentials.access_token_expires_at,
    )


def _prepared_ahead(
    session: CalendarSession, pages: Iterator[Page], prepare, heartbeat=None
) -> Iterator[tuple[Page, Prepared]]:
    """`(page, prepare(page))` for each page, fetched and prepared by a helper thread one page
    ahead: while the syncing thread waits for the database to take page N, the helper fetches
    and parses page N+1, so the database's and the provider's time overlap with ours.

    The helper never touches the database. Credentials it refreshes come through the queue and
    are saved by the syncing thread before the page fetched with them (a refresh in the middle
    of a round so waits at most for the page being written). While the syncing thread waits for
    the helper (a slow provider, a retry's back-off) it calls `heartbeat()` every
    `heartbeat_seconds()`, which renews the lease.
    """
    handoff: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    save = session.on_credentials_changed

    def put(item) -> None:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def work() -> None:
        try:
            for page in pages:
                put(("page", (page, prepare(page))))
                if stop.is_set():
                    return
        except BaseException as exc:  # raised in the syncing thread, in page order
            put(("error", exc))
            return
        put(("done", None))

    session.on_credentials_changed = lambda credentials: put(("credentials", replace(credentials)))
    helper = threading.Thread(target=work, name="sync-pages", daemon=True)
    helper.start()
    try:
        while True:
            try:
                kind, value = handoff.get(timeout=heartbeat_seconds())
            except queue.Empty:
                if heartbeat is not None:
                    heartbeat()
                continue
            if kind == "page":
                yield value
            elif kind == "credentials":
                if save is not None:
                    save(value)
            elif kind == "error":
                raise value
            else:
                helper.join()
                return
    finally:
        # Leaving early (the lease was lost, a write failed): the helper stops after its
        # current request; nobody waits for it.
        stop.set()
        session.on_credentials_changed = save


def _round(session: CalendarSession, writer: PageWriter, *, cursor: str | None) -> str | None:
    final_cursor = None
    pages = session.changes(cursor=cursor, window=writer.window)
    calendar_id, owner = writer.calendar.pk, writer.owner
    # closing(): a failed write stops the helper now, not when the traceback is collected.
    heartbeat = partial(_fence, calendar_id, owner)
    with closing(_prepared_ahead(session, pages, writer.prepare, heartbeat)) as prepared_pages:
        for page, prepared in prepared_pages:
            writer.apply(prepared)
            if page.cursor:
                final_cursor = page.cursor
    if cursor is None:
        writer.sweep()
    return final_cursor


def _sync(calendar: Calendar, owner: str, result: SyncResult) -> None:
    from . import services

    provider = get_provider(calendar.platform)
    window = horizon(calendar.project, timezone.now())
    session = provider.session(credentials_for(calendar), calendar_id=calendar.platform_calendar_id)
    session.on_credentials_changed = lambda credentials: _save_tokens(calendar.pk, credentials)
    # Calendars connected with the customer's own tokens (server API) arrive without the
    # account's address; the meeting facts (internal/external) need it.
    if not calendar.email and (email := session.account_email().strip().lower()):
        Calendar.objects.filter(pk=calendar.pk).update(email=email)
        calendar.email = email
    writer = PageWriter(calendar, provider, window, owner, result)

    cursor = calendar.sync_cursor or None
    stored = (
        Window(calendar.sync_window_start, calendar.sync_window_end)
        if calendar.sync_window_start and calendar.sync_window_end
        else None
    )
    if cursor and stored != window:
        if provider.cursor_covers_window or stored is None:
            cursor = None  # a new round over the new window
        elif window.end > stored.end:
            # The horizon grew: instances that entered it have not changed, so no cursor
            # reports them. Fetch just the new slice.
            pages = session.window_events(Window(max(stored.end, window.start), window.end))
            heartbeat = partial(_fence, calendar.pk, owner)
            with closing(_prepared_ahead(session, pages, writer.prepare, heartbeat)) as slices:
                for _page, prepared in slices:
                    writer.apply(prepared)
    result.full = cursor is None
    try:
        new_cursor = _round(session, writer, cursor=cursor)
    except CursorExpired:
        if cursor is None:
            raise
        logger.info("calendar %s: cursor expired, full resync", calendar.pk)
        result.full = True
        writer.seen.clear()
        new_cursor = _round(session, writer, cursor=None)

    faults.point("sync.round_done")
    previous_state = calendar.state
    # One statement unless the state changes too (then its webhook events go with it).
    with transaction.atomic() if previous_state != Calendar.State.CONNECTED else nullcontext():
        updates = {
            "sync_lease_expires_at": timezone.now()
            + timedelta(seconds=settings.SYNC_LEASE_SECONDS),
            "sync_cursor": new_cursor or "",
            "sync_window_start": window.start,
            "sync_window_end": window.end,
            "last_successful_sync_at": timezone.now(),
            "consecutive_sync_failures": 0,
            "connection_failure_data": None,  # a retried failure is over
        }
        if calendar.state != Calendar.State.CONNECTED:
            calendar.set_state(Calendar.State.CONNECTED)
            updates.update(state=calendar.state, state_history=calendar.state_history)
        # Fenced like every write: nothing is stored once the lease is no longer ours.
        if not Calendar.objects.filter(pk=calendar.pk, sync_lease_owner=owner).update(**updates):
            raise LeaseLost(str(calendar.pk))
        for name, value in updates.items():
            setattr(calendar, name, value)
        # Written with the cursor: the news of a sync is never lost, nor sent for a rolled back
        # one. The meeting changes are announced once their bots are settled (_settle).
        services.calendar_state_news(calendar=calendar, previous_state=previous_state)
    faults.point("sync.cursor_committed")
    result.status = "synced"


def _backoff_seconds(failures: int, retry_after: float | None) -> float:
    backoff = min(settings.SYNC_MAX_BACKOFF_SECONDS, 30 * 2 ** min(failures, 10))
    return max(backoff, retry_after or 0)


def _record_failure(calendar: Calendar, exc: Exception, retry_after: float | None = None) -> None:
    failures = calendar.consecutive_sync_failures + 1
    Calendar.objects.filter(pk=calendar.pk).update(
        consecutive_sync_failures=failures,
        sync_due_at=timezone.now() + timedelta(seconds=_backoff_seconds(failures, retry_after)),
        connection_failure_data={
            "error": getattr(exc, "code", exc.__class__.__name__),
            "message": str(exc)[:500],
            "timestamp": timezone.now().isoformat(),
            "retrying": True,
        },
    )


def sync_calendar_by_id(calendar_id) -> SyncResult:
    """Sync one calendar now, if no other worker is syncing it. Safe to call at any time.

    No `finally` here on purpose: a worker killed mid-sync runs none, so recovery must not
    depend on one (the lease expires, the markers stay; tests/convergence kill it on purpose).
    """
    from . import services

    owner = uuid.uuid4().hex
    if not _acquire(calendar_id, owner, timezone.now()):
        # Busy (or disconnected/gone): ask for another sync after the running one.
        Calendar.objects.filter(pk=calendar_id, sync_due_at__isnull=True).exclude(
            state=Calendar.State.DISCONNECTED
        ).update(sync_due_at=timezone.now())
        return SyncResult(status="busy")
    faults.point("sync.acquired")
    result = SyncResult(status="skipped")
    calendar = None
    try:
        calendar = Calendar.objects.select_related("project").get(pk=calendar_id)
        _sync(calendar, owner, result)
    except (AuthRevoked, ClientRejected, PermanentError) as exc:
        logger.info("calendar %s disconnected: %s", calendar_id, exc)
        services.calendar_mark_disconnected(calendar=calendar, error=exc)
        result.status, result.error = "disconnected", exc.code
    except ProviderError as exc:  # rate limits, outages: later, as the provider asked
        _record_failure(calendar, exc, exc.retry_after)
        result.status, result.error = "retry", exc.code
    except LeaseLost:
        # Another worker holds the calendar now: it settles what we committed.
        result.status = "busy"
        return result
    except Calendar.DoesNotExist:
        result.status = "skipped"
    except Exception as exc:
        logger.exception("calendar %s: sync crashed", calendar_id)
        if calendar is not None:
            _record_failure(calendar, exc)
            _settle(calendar, owner, result)
        _release(calendar_id, owner)
        raise
    if calendar is not None:
        _settle(calendar, owner, result)
    again = _release(calendar_id, owner)
    if again and result.status == "synced":
        services.calendar_request_sync(calendar=calendar)
    return result


def _settle(calendar: Calendar, owner: str, result: SyncResult) -> None:
    """Still under the lease, whatever the attempt's outcome: what it (or an attempt before it)
    committed gets its bots, then its announcement (so a customer fetching the announced events
    sees their decisions and bots). A step that fails leaves its marker (`needs_reconcile`, the
    announcement watermark) for the next attempt or the minute's drains; the others still run."""
    from bots.reconcile import reconcile_pending

    from . import services

    faults.point("sync.settling")

    def still_ours() -> bool:  # between batches: stop once another worker took over
        try:
            _fence(calendar.pk, owner)
        except LeaseLost:
            return False
        return True

    try:
        reconcile_pending(
            calendar_ids=[calendar.pk], bots_pending=result.bots_pending, heartbeat=still_ours
        )
    except Exception:
        logger.exception("calendar %s: reconciliation failed; it stays marked", calendar.pk)
    faults.point("sync.reconciled")
    try:
        result.announced += services.calendar_announce_changes(calendar=calendar)
    except Exception:
        logger.exception("calendar %s: announcing changes failed; they stay pending", calendar.pk)
    faults.point("sync.announced")
    if result.status == "synced":
        services.calendar_after_sync(calendar=calendar)

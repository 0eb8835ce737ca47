"""The engine: one sync attempt of one calendar, from taking its lease to settling the round.

1. take the calendar's lease (lease.py), so one worker syncs a calendar at a time;
2. read only what changed since the stored cursor (Google sync token, Graph delta link), or the
   whole horizon when there is none; a grown horizon is fetched slice-wise (Google) or by a new
   round (Graph, whose delta link encodes its window); an expired cursor means a clean full sync;
3. per page, fetched and prepared one page ahead by a helper thread (pipeline.py), write the
   difference in one short transaction (writer.py, bulk.py). A failed page request is retried
   within the round (calendars/providers/base.py);
4. after a full round, soft-delete the meetings of the horizon the provider no longer has;
5. store the new cursor only after the last page, so a crash anywhere replays the round and
   converges (every write is idempotent);
6. still holding the lease, whatever the round's outcome: reconcile the marked meetings (bots),
   then announce every meeting changed since the calendar's announcement watermark (webhooks),
   each step in its own transaction. What a failure or crash leaves undone, the next attempt or
   the minute's drains (bots.reconcile.reconcile_pending, calendars.jobs.announce_pending) do.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import closing, nullcontext
from datetime import UTC, datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bots.reconcile import reconcile_pending
from config import backoff, faults

from ..credentials import credentials_for
from ..models import Calendar
from ..providers import get_provider
from ..providers.base import (
    AuthRevoked,
    CalendarSession,
    ClientRejected,
    Credentials,
    CursorExpired,
    PermanentError,
    ProviderError,
    Window,
)
from .due import calendar_request_sync
from .lease import LeaseLost, acquire, answered_since, fence, release
from .outcomes import (
    calendar_after_sync,
    calendar_announce_changes,
    calendar_mark_disconnected,
    calendar_record_attempt,
    calendar_state_news,
)
from .pipeline import prepared_ahead
from .result import SyncResult
from .writer import PageWriter

logger = logging.getLogger(__name__)


def horizon(project, now: datetime) -> Window:
    """Whole UTC days, so the window (and with it Graph's delta round) moves once a day."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Window(
        start=today - timedelta(days=project.sync_days_past),
        end=today + timedelta(days=project.sync_days_future + 1),
    )


def _save_tokens(calendar_id, credentials: Credentials) -> None:
    # Its own statement, committed at once: a rotated Microsoft refresh token must never be lost.
    Calendar.objects.filter(pk=calendar_id).store_tokens(credentials)


def _round(session: CalendarSession, writer: PageWriter, *, cursor: str | None) -> str | None:
    final_cursor = None
    pages = session.changes(cursor=cursor, window=writer.window)
    calendar_id, owner = writer.calendar.pk, writer.owner
    # closing(): a failed write stops the helper now, not when the traceback is collected.
    heartbeat = partial(fence, calendar_id, owner)
    with closing(prepared_ahead(session, pages, writer.prepare, heartbeat)) as prepared_pages:
        for page, prepared in prepared_pages:
            writer.apply(prepared)
            if page.cursor:
                final_cursor = page.cursor
    if cursor is None:
        writer.sweep()
    return final_cursor


def _sync(calendar: Calendar, owner: str, result: SyncResult) -> None:
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
            heartbeat = partial(fence, calendar.pk, owner)
            with closing(prepared_ahead(session, pages, writer.prepare, heartbeat)) as slices:
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
            "sync_cursor": new_cursor or "",
            "sync_window_start": window.start,
            "sync_window_end": window.end,
            "last_successful_sync_at": timezone.now(),
            "consecutive_sync_failures": 0,
            "connection_failure_data": None,  # a retried failure is over
        }
        if calendar.state != Calendar.State.CONNECTED:
            updates.update(calendar.set_state(Calendar.State.CONNECTED))
        # Fenced like every write: nothing is stored once the lease is no longer ours.
        fence(calendar.pk, owner, **updates)
        for name, value in updates.items():
            setattr(calendar, name, value)
        # Written with the cursor: the news of a sync is never lost, nor sent for a rolled back
        # one. The meeting changes are announced once their bots are settled (_settle).
        calendar_state_news(calendar=calendar, previous_state=previous_state)
    faults.point("sync.cursor_committed")
    result.status = "synced"


def _backoff(failures: int, retry_after: float | None) -> timedelta:
    # 1 min, 2, 4, ... up to SYNC_MAX_BACKOFF_SECONDS (and never beyond 30 * 2**10 s).
    return backoff.delay(
        failures,
        first=timedelta(seconds=60),
        factor=2,
        cap=timedelta(seconds=min(settings.SYNC_MAX_BACKOFF_SECONDS, 30 * 2**10)),
        retry_after=timedelta(seconds=retry_after) if retry_after else None,
    )


def _record_failure(calendar: Calendar, exc: Exception, retry_after: float | None = None) -> None:
    failures = calendar.consecutive_sync_failures + 1
    Calendar.objects.filter(pk=calendar.pk).record_sync_failure(
        exc, failures=failures, retry_at=timezone.now() + _backoff(failures, retry_after)
    )


def sync_calendar_by_id(calendar_id, *, queued_at: datetime | None = None) -> SyncResult:
    """Sync one calendar now, if no other worker is syncing it. Safe to call at any time.
    `queued_at`: when the job calling this was queued; an attempt that began since then answers
    it (status "answered": nothing done, the calendar not marked due again).

    No `finally` here on purpose: a worker killed mid-sync runs none, so recovery must not
    depend on one (the lease expires, the markers stay; tests/convergence kill it on purpose).
    """
    owner = uuid.uuid4().hex
    if not acquire(calendar_id, owner, timezone.now(), queued_at=queued_at):
        if queued_at is not None and answered_since(calendar_id, queued_at):
            return SyncResult(status="answered")
        # Busy (or disconnected/gone): ask for another sync after the running one.
        Calendar.objects.filter(pk=calendar_id).mark_due()
        return SyncResult(status="busy")
    faults.point("sync.acquired")
    result = SyncResult(status="skipped")
    calendar = None
    try:
        calendar = Calendar.objects.select_related("project").get(pk=calendar_id)
        _sync(calendar, owner, result)
    except (AuthRevoked, ClientRejected, PermanentError) as exc:
        logger.info("calendar %s disconnected: %s", calendar_id, exc)
        calendar_mark_disconnected(calendar=calendar, error=exc)
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
        release(calendar_id, owner)
        raise
    if calendar is not None:
        _settle(calendar, owner, result)
    again = release(calendar_id, owner)
    if again and result.status == "synced":
        calendar_request_sync(calendar=calendar)
    return result


def _settle(calendar: Calendar, owner: str, result: SyncResult) -> None:
    """Still under the lease, whatever the attempt's outcome: what it (or an attempt before it)
    committed gets its bots, then its announcement (so a customer fetching the announced events
    sees their decisions and bots). A step that fails leaves its marker (`needs_reconcile`, the
    announcement watermark) for the next attempt or the minute's drains; the others still run."""
    faults.point("sync.settling")
    try:
        calendar_record_attempt(calendar=calendar, result=result)
    except Exception:
        logger.exception("calendar %s: recording the attempt in its history failed", calendar.pk)

    def still_ours() -> bool:  # between batches: stop once another worker took over
        try:
            fence(calendar.pk, owner)
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
        result.announced += calendar_announce_changes(calendar=calendar)
    except Exception:
        logger.exception("calendar %s: announcing changes failed; they stay pending", calendar.pk)
    faults.point("sync.announced")
    if result.status == "synced":
        calendar_after_sync(calendar=calendar)

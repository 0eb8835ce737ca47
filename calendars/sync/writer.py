"""The page writer: applies pages of provider events to one calendar's meetings.

Per page, the half without the database (parse, encode, fingerprint: `prepare`, run by the
pipeline's helper thread) and then, in one short transaction under the calendar's row lock,
the other half (`apply`): insert the new events, update the changed ones (rows whose fingerprint
is unchanged are not touched) and soft-delete what went away. New meetings are inserted with
their recording decision, and those decided to record get their bots in the same transaction;
changed and removed rows are marked `needs_reconcile` for the reconciliation after the round.
A row's `updated_at` is taken under the calendar's row lock (the announcement watermark relies on
it). After a full round, `sweep` soft-deletes the meetings of the horizon the provider no longer
has.
"""

from __future__ import annotations

import logging
from datetime import datetime
from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from bots.reconcile import schedule_inserted
from config import faults
from config.db import AnyOf, loaded_instances
from meetings.decisions import decide
from meetings.models import AutoJoinRule, BotSchedule, Meeting

from ..models import Calendar, CalendarUser
from ..providers.base import Page, Window
from .bulk import write_rows
from .lease import fence
from .outcomes import calendar_state_news
from .result import SyncResult
from .rows import Prepared, Row, _fingerprint, _fit, _json, _without_nul

logger = logging.getLogger(__name__)

# A page writes these calendars' new meetings with their decision (a connecting calendar
# becomes connected with its first page written).
DECIDED_AT_INSERT = (Calendar.State.CONNECTED, Calendar.State.CONNECTING)


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
                AnyOf("platform_event_id", [*present, *gone], "text"), calendar=self.calendar
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
        recorded = [row for row in new if row.will_record]
        bots_pending = False
        calendar, previous_state = self.calendar, self.calendar.state
        with transaction.atomic():
            # The first page written proves a connecting calendar's credentials: it becomes
            # connected with that page (its news, and its marks, in the same transaction), so
            # its meetings are decided at insert like those of any connected calendar.
            connected = (
                calendar.set_state(Calendar.State.CONNECTED)
                if previous_state == Calendar.State.CONNECTING
                else {}
            )
            fence(calendar.pk, self.owner, **connected)
            if connected:
                calendar_state_news(calendar=calendar, previous_state=previous_state)
            # After the lock: an announcement (which takes it too) never misses these rows.
            now = timezone.now()
            write_rows(self.calendar, new, now, new=True)
            write_rows(self.calendar, changed, now, new=False)
            if recorded:
                bots_pending = not self._schedule_bots(recorded, now)
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

    def _schedule_bots(self, rows: list[Row], now: datetime) -> bool:
        """The bots of new meetings decided to record, created with them (bots.reconcile.
        schedule_inserted): no reading them back after the sync. When that fails, the page
        still commits, with the calendar flagged `bots_pending` (recorded meetings wait for
        bots; the reconciliation after the sync, or the minute's drain, finds them): False."""
        calendar = self.calendar
        # As just written (the rows' synced fields), not read back.
        meetings = loaded_instances(
            Meeting,
            (
                {
                    **row.fields,
                    "id": row.meeting_id,
                    "project_id": calendar.project_id,
                    "calendar_id": calendar.pk,
                    "platform_event_id": row.event_id,
                    "is_deleted": False,
                    "override_should_record": None,
                    "will_record": True,
                    "will_record_reason": row.will_record_reason,
                }
                for row in rows
            ),
            Meeting.objects.db,
        )
        for meeting, row in zip(meetings, rows, strict=True):
            meeting._state.fields_cache.update(calendar=calendar, project=calendar.project)
            meeting.decision, meeting.effective_schedule = row.decision, row.schedule
        try:
            with transaction.atomic():
                schedule_inserted(meetings, now)
                faults.point("sync.page_bots_scheduled")
        except Exception:
            logger.exception(
                "calendar %s: creating the bots of a page's new meetings failed; the "
                "reconciliation after the sync makes them",
                calendar.pk,
            )
            fence(calendar.pk, self.owner, bots_pending=True)
            return False
        return True

    def _decide(self, rows: list[Row], now: datetime) -> set[str]:
        """New meetings are inserted with their recording decision, so no reconciliation loads
        them again: those that need no bot are settled (returned), the others get their bots
        with the page (`_schedule_bots`). A connecting calendar's page decides as connected:
        it connects the calendar in the transaction that writes the rows (`apply`)."""
        if not rows or self.calendar.state not in DECIDED_AT_INSERT:
            return set()
        calendar = self.calendar
        preferences = CalendarUser.objects.filter(pk=calendar.calendar_user_id).first()
        # The user's auto-join rules, compiled once for the page.
        rules = AutoJoinRule.objects.rule_sets([preferences]).get(calendar.calendar_user_id)
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
                rules=rules,
                provider=calendar.platform,
            )
            row.will_record, row.will_record_reason = decision.will_record, decision.reason
            row.needs_reconcile = False
            if decision.will_record:
                row.decision, row.schedule = decision, schedules.get(row.fields["series_id"])
            else:
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
            fence(self.calendar.pk, self.owner)
            Meeting.objects.filter(pk__in=list(missing.values())).update(
                is_deleted=True, updated_at=timezone.now(), needs_reconcile=True
            )
        self.result.deleted += len(missing)
        self.result.changed_event_ids.update(missing)
        self.result.settled_event_ids.difference_update(missing)

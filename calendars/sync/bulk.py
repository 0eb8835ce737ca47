"""Writing meeting rows in bulk: COPY on PostgreSQL for large pages (straight into the table
for new meetings, through a temporary table and one INSERT .. ON CONFLICT for changed ones),
the ORM's INSERT .. ON CONFLICT otherwise."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import connection

from config.db import random_uuids
from meetings.models import Meeting

from ..models import Calendar
from .rows import SYNCED_FIELDS, Row, _json

UPSERT_BATCH = 1000
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


def _copy_values(calendar: Calendar, row: Row, now: datetime, meeting_id: uuid.UUID) -> list:
    """One row for COPY, columns in INSERTED order, JSON columns as JSON text."""
    fields = row.fields
    values = [meeting_id, calendar.project_id, calendar.pk, row.event_id, now]
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
        id=row.meeting_id,
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


def write_rows(calendar: Calendar, rows: list[Row], now: datetime, *, new: bool) -> None:
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


def give_ids(rows: list[Row]) -> None:
    """Choose the ids of rows without one, in one system call: uuid4's each give up the
    interpreter lock, and while the helper thread parses the next page, each one waits for it
    back (a third of a Graph sync's time). A changed row's id is only a placeholder: the upsert
    keeps the stored one."""
    missing = [row for row in rows if row.meeting_id is None]
    for row, meeting_id in zip(missing, random_uuids(len(missing)), strict=True):
        row.meeting_id = meeting_id


def _copy(cursor, table: str, names: str, calendar: Calendar, rows: list[Row], now) -> None:
    give_ids(rows)
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(_copy_values(calendar, row, now, row.meeting_id))


def _upsert_by_orm(calendar: Calendar, rows: list[Row], now: datetime) -> None:
    give_ids(rows)
    Meeting.objects.bulk_create(
        [_model(calendar, row, now) for row in rows],
        batch_size=UPSERT_BATCH,
        update_conflicts=True,
        unique_fields=["calendar", "platform_event_id"],
        update_fields=list(UPSERT_UPDATED),
    )

"""Leases by conditional UPDATE: one worker at a time per row (a calendar's sync, a bot's push,
a webhook delivery's attempt), the same on PostgreSQL and SQLite.

A lease is a nullable expiry column. Taking it is one UPDATE of the rows whose lease is free
(never taken, or lapsed - a crashed worker's lease simply expires); of two workers that read the
same row only one matches (PostgreSQL re-checks the condition after the other's commit, SQLite
runs writers one at a time). The holder proves in every later write that the lease is still its
own with a fence in the filter: its owner token or the expiry it set.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone


def free(field: str, now: datetime) -> Q:
    """Rows whose lease in `field` is free at `now`."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lte": now})


def take(
    rows: QuerySet, *, field: str, now: datetime, length: timedelta, **also
) -> datetime | None:
    """Take the lease of `rows` (one row, by its filter) if it is free: the expiry set, or None
    when another worker holds it (or the row is gone). `also`: more fields to write in the same
    statement."""
    until = now + length
    taken = rows.filter(free(field, now)).update(**{field: until}, **also)
    return until if taken else None


def renew(rows: QuerySet, *, field: str, length: timedelta, **also) -> bool:
    """Move the lease's expiry `length` ahead of now; `rows` carries the holder's fence. False
    when the lease is no longer ours."""
    return bool(rows.update(**{field: timezone.now() + length}, **also))


def release(rows: QuerySet, *, field: str, **also) -> int:
    """Give the lease back; `rows` carries the holder's fence."""
    return rows.update(**{field: None}, **also)

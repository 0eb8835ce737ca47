"""The calendar's sync lease: one worker syncs a calendar at a time.

A conditional UPDATE (works on PostgreSQL and SQLite; a crashed worker's lease simply expires).
The lease is short (SYNC_LEASE_SECONDS) and renewed by every write and by a heartbeat while the
syncing thread waits for the provider, so a killed worker's calendar is taken over within
seconds; `sync_finished_at` tells the sweeper which attempts died without an outcome.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from config import leases

from ..models import SYNC_LEASE_FIELD, Calendar


class LeaseLost(Exception):
    """Another worker took the calendar over (our lease expired): stop writing."""


FIELD = SYNC_LEASE_FIELD


def length() -> timedelta:
    return timedelta(seconds=settings.SYNC_LEASE_SECONDS)


def acquire(calendar_id, owner: str, now: datetime) -> bool:
    calendar = Calendar.objects.filter(pk=calendar_id).live()
    taken = leases.take(
        calendar,
        field=FIELD,
        now=now,
        length=length(),
        sync_lease_owner=owner,
        sync_due_at=None,  # this sync answers every request made so far
        last_attempted_sync_at=now,
    )
    return taken is not None


def fence(calendar_id, owner: str, **also) -> None:
    """Renew our lease, or stop if it is no longer ours. Inside a write transaction it also
    locks the calendar row, which every writer of the calendar's meetings takes first. `also`:
    more calendar fields to write in the same statement."""
    ours = Calendar.objects.filter(pk=calendar_id, sync_lease_owner=owner)
    if not leases.renew(ours, field=FIELD, length=length(), **also):
        raise LeaseLost(str(calendar_id))


def heartbeat_seconds() -> float:
    return settings.SYNC_LEASE_SECONDS / 4


def release(calendar_id, owner: str) -> bool:
    """Give the lease back, noting that this attempt ended; True when a sync was requested
    meanwhile (run it again)."""
    ours = Calendar.objects.filter(pk=calendar_id, sync_lease_owner=owner)
    leases.release(ours, field=FIELD, sync_lease_owner="", sync_finished_at=timezone.now())
    return Calendar.objects.filter(pk=calendar_id, sync_due_at__lte=timezone.now()).exists()

"""The calendar's sync lease: one worker syncs a calendar at a time.

A conditional UPDATE (works on PostgreSQL and SQLite; a crashed worker's lease simply expires).
The lease is short (SYNC_LEASE_SECONDS) and renewed by every write and by a heartbeat while the
syncing thread waits for the provider, so a killed worker's calendar is taken over within
seconds; `sync_finished_at` tells the sweeper which attempts died without an outcome.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from config import leases

from ..models import SYNC_LEASE_FIELD, Calendar


class LeaseLost(Exception):
    """Another worker took the calendar over (our lease expired): stop writing."""


FIELD = SYNC_LEASE_FIELD


def length() -> timedelta:
    return timedelta(seconds=settings.SYNC_LEASE_SECONDS)


def acquire(calendar_id, owner: str, now: datetime, *, queued_at: datetime | None = None) -> bool:
    """Take the lease. With `queued_at` (a queued job's), only if no attempt began since the job
    was queued, unless a sync was asked for again since (`answered_since`)."""
    calendar = Calendar.objects.filter(pk=calendar_id).live()
    if queued_at is not None:
        calendar = calendar.filter(
            Q(last_attempted_sync_at__isnull=True)
            | Q(last_attempted_sync_at__lt=queued_at)
            | Q(sync_due_at__lte=now)
        )
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


def answered_since(calendar_id, queued_at: datetime) -> bool:
    """An attempt began after `queued_at`: it answers every sync asked for before it began (its
    lease cleared the due mark), so a job queued then has nothing left to do. A job can be queued
    twice: the sweeper queues a calendar again when its job waited longer than the queued grace,
    which happens whenever the queue's backlog exceeds it, and then cannot tell a lost job from
    one a worker has already taken off the broker (django-q2 prefetches) but not yet started."""
    return Calendar.objects.filter(pk=calendar_id, last_attempted_sync_at__gte=queued_at).exists()


def heartbeat_seconds() -> float:
    return settings.SYNC_LEASE_SECONDS / 4


def release(calendar_id, owner: str) -> bool:
    """Give the lease back, noting that this attempt ended; True when a sync was requested
    meanwhile (run it again)."""
    ours = Calendar.objects.filter(pk=calendar_id, sync_lease_owner=owner)
    leases.release(ours, field=FIELD, sync_lease_owner="", sync_finished_at=timezone.now())
    return Calendar.objects.filter(pk=calendar_id, sync_due_at__lte=timezone.now()).exists()

"""What one sync attempt did: its outcome and the tally the page writer keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone


@dataclass
class SyncResult:
    status: str  # synced | busy | answered | skipped | retry | disconnected
    full: bool = False
    upserted: int = 0
    deleted: int = 0
    skipped_events: int = 0
    changed_event_ids: set[str] = field(default_factory=set)
    # New meetings decided at insert that need no bot.
    settled_event_ids: set[str] = field(default_factory=set)
    # A page could not create the bots of new meetings decided to record (it committed with the
    # calendar flagged `bots_pending`): they are made after the round.
    bots_pending: bool = False
    announced: int = 0
    error: str = ""
    started_at: datetime = field(default_factory=timezone.now)

"""The sync engine: keep a calendar's meetings equal to the provider's events in the horizon.

One screen per concern:
- `engine.py`: one sync attempt - lease, rounds of pages, the cursor, failures, settling;
- `lease.py`: the calendar's sync lease (one worker per calendar, renewed by every write);
- `pipeline.py`: the helper thread that fetches and prepares the next page meanwhile;
- `writer.py`: a page of provider events applied to the calendar's meetings;
- `rows.py`: an event as a row (fields cut to fit, JSON text, fingerprint);
- `bulk.py`: writing rows in bulk (COPY on PostgreSQL, INSERT .. ON CONFLICT);
- `result.py`: what an attempt did;
- `due.py`: asking for a sync (the calendar marked due, its job queued on commit);
- `outcomes.py`: what an outcome does beyond the rows (connected, disconnected, announced).

The services (calendars/services.py) build on this package; it never imports them.
"""

from .engine import horizon, sync_calendar_by_id
from .lease import LeaseLost, heartbeat_seconds
from .pipeline import prepared_ahead as _prepared_ahead
from .result import SyncResult
from .rows import SYNCED_FIELDS, _json
from .writer import PageWriter

__all__ = [
    "SYNCED_FIELDS",
    "LeaseLost",
    "PageWriter",
    "SyncResult",
    "_json",
    "_prepared_ahead",
    "heartbeat_seconds",
    "horizon",
    "sync_calendar_by_id",
]

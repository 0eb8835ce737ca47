"""Database helpers shared by the apps: which errors are worth retrying, and retrying them."""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# SQLSTATE classes a new attempt can succeed after: serialization failure, deadlock, lock not
# available (PostgreSQL). SQLite reports a busy database as "database is locked".
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def is_transient(exc: BaseException) -> bool:
    """A deadlock, serialization failure or lock time-out: the same work may succeed again."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(exc)


def retrying(work: Callable[[], T], *, attempts: int = 3, pause: float = 0.05) -> T:
    """Run `work` (which owns its transaction) again after a transient database error."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            logger.info("transient database error (attempt %s), retrying: %s", attempt, exc)
            time.sleep(pause * attempt)
    raise AssertionError("unreachable")

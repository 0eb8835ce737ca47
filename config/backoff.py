"""Exponential backoff, one rule for every retry: calendar syncs, bot pushes, webhook deliveries."""

from __future__ import annotations

import random
from datetime import timedelta

_random = random.SystemRandom()


def delay(
    failures: int,
    *,
    first: timedelta,
    factor: float,
    cap: timedelta,
    jitter: float = 0.0,
    retry_after: timedelta | None = None,
) -> timedelta:
    """How long to wait after the `failures`-th failure in a row: `first`, then `factor` times
    more per failure up to `cap`, spread by ±`jitter` (a fraction) so that retries of many rows
    failed together do not arrive together; never shorter than the `retry_after` the other side
    asked for."""
    # In seconds, the exponent bounded: a row that failed for weeks must not overflow timedelta.
    grown = first.total_seconds() * factor ** min(failures - 1, 64)
    wait = timedelta(seconds=min(grown, cap.total_seconds()))
    if jitter:
        wait *= _random.uniform(1 - jitter, 1 + jitter)
    return max(wait, retry_after) if retry_after else wait

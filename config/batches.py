"""Jobs that work through a batch of items queued together (a burst costs a few broker writes,
not one per item), yet end well within Q_TIMEOUT however slow the items turn out to be."""

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.conf import settings

Item = TypeVar("Item")
Result = TypeVar("Result")


def budget(item_timeout: float) -> float:
    """Seconds a batch job may start new items for: half of Q_TIMEOUT, less one item's own
    time-out (the last item started must still end in time)."""
    return max(settings.Q_TIMEOUT / 2 - item_timeout, 0)


def within_budget(
    items: Sequence[Item],
    each: Callable[[Item], Result],
    *,
    seconds: float,
    requeue: Callable[[Sequence[Item]], None],
    clock: Callable[[], float] = time.monotonic,
) -> list[Result]:
    """`each(item)` for the items in turn. Once `seconds` have gone, the rest go to
    `requeue(rest)` (a new job) and this job ends; the first item always runs. A worker that
    dies midway leaves the rest to the sweepers. Returns what `each` returned, in order."""
    started = clock()
    results = []
    for position, item in enumerate(items):
        if position and clock() - started > seconds:
            requeue(items[position:])
            break
        results.append(each(item))
    return results

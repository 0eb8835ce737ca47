"""Named failure points between the steps of multi-step work (sync, reconciliation, announcing).

Production code calls `point("sync.page_committed")` where a crash would leave the database
between two steps. It does nothing unless a test installed a hook, which may raise there to
simulate a fault or a killed worker (tests/convergence). A killed worker runs no cleanup code,
so the code between points keeps its recovery in the database (leases that expire, markers that
the next pass reads), never in `finally` blocks.
"""

from collections.abc import Callable
from contextlib import contextmanager

_hook: Callable[[str], None] | None = None


def point(name: str) -> None:
    if _hook is not None:
        _hook(name)


@contextmanager
def installed(hook: Callable[[str], None]):
    """Run `hook(name)` at every failure point while the block runs."""
    global _hook
    previous, _hook = _hook, hook
    try:
        yield
    finally:
        _hook = previous

"""The page pipeline: a helper thread fetches and prepares the next page while the syncing
thread writes the current one."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import replace

from ..providers.base import CalendarSession, Page
from .lease import heartbeat_seconds
from .rows import Prepared


def prepared_ahead(
    session: CalendarSession, pages: Iterator[Page], prepare, heartbeat=None
) -> Iterator[tuple[Page, Prepared]]:
    """`(page, prepare(page))` for each page, fetched and prepared by a helper thread one page
    ahead: while the syncing thread waits for the database to take page N, the helper fetches
    and parses page N+1, so the database's and the provider's time overlap with ours.

    The helper never touches the database. Credentials it refreshes come through the queue and
    are saved by the syncing thread before the page fetched with them (a refresh in the middle
    of a round so waits at most for the page being written). While the syncing thread waits for
    the helper (a slow provider, a retry's back-off) it calls `heartbeat()` every
    `heartbeat_seconds()`, which renews the lease.
    """
    handoff: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    save = session.on_credentials_changed

    def put(item) -> None:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def work() -> None:
        try:
            for page in pages:
                put(("page", (page, prepare(page))))
                if stop.is_set():
                    return
        except BaseException as exc:  # raised in the syncing thread, in page order
            put(("error", exc))
            return
        put(("done", None))

    session.on_credentials_changed = lambda credentials: put(("credentials", replace(credentials)))
    helper = threading.Thread(target=work, name="sync-pages", daemon=True)
    helper.start()
    try:
        while True:
            try:
                kind, value = handoff.get(timeout=heartbeat_seconds())
            except queue.Empty:
                if heartbeat is not None:
                    heartbeat()
                continue
            if kind == "page":
                yield value
            elif kind == "credentials":
                if save is not None:
                    save(value)
            elif kind == "error":
                raise value
            else:
                helper.join()
                return
    finally:
        # Leaving early (the lease was lost, a write failed): the helper stops after its
        # current request; nobody waits for it.
        stop.set()
        session.on_credentials_changed = save

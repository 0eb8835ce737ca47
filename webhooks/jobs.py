"""Background jobs: thin, idempotent wrappers that load by id and call a service.

The periodic ones are declared in `config/schedules.py`; deliveries are queued through
`webhooks/queueing.py`.
"""

import time

from django.conf import settings

from . import queueing
from .delivery import attempt
from .services import deliveries_cleanup, deliveries_sweep


def deliver(*delivery_ids: str) -> None:
    """Attempt each delivery in turn (each claimed on its own, just before it is sent). A job
    must end well within Q_TIMEOUT: once half of it has gone, the rest is queued as a new job
    (and if the worker dies, the sweeper finds the rest anyway)."""
    budget = settings.Q_TIMEOUT / 2 - settings.WEBHOOKS_TIMEOUT_SECONDS
    started = time.monotonic()
    for position, delivery_id in enumerate(delivery_ids):
        if position and time.monotonic() - started > budget:
            queueing.enqueue_delivery(delivery_ids[position:])
            return
        attempt(delivery_id=delivery_id)


def sweep() -> int:
    return deliveries_sweep()


def cleanup() -> int:
    return deliveries_cleanup()

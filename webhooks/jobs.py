"""Background jobs: thin, idempotent wrappers that load by id and call a service.

The periodic ones are declared in `config/schedules.py`; deliveries are queued through
`webhooks/queueing.py`.
"""

from django.conf import settings

from config.batches import budget, within_budget

from . import queueing
from .delivery import attempt
from .services import deliveries_cleanup, deliveries_sweep


def deliver(*delivery_ids: str) -> None:
    """Attempt each delivery in turn (each claimed on its own, just before it is sent). A job
    must end well within Q_TIMEOUT: once half of it has gone, the rest is queued as a new job
    (and if the worker dies, the sweeper finds the rest anyway)."""
    within_budget(
        delivery_ids,
        lambda delivery_id: attempt(delivery_id=delivery_id),
        seconds=budget(settings.WEBHOOKS_TIMEOUT_SECONDS),
        requeue=queueing.enqueue_delivery,
    )


def sweep() -> int:
    return deliveries_sweep()


def cleanup() -> int:
    return deliveries_cleanup()

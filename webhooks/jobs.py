"""Background jobs: thin, idempotent wrappers that load by id and call a service.

The periodic ones are declared in `config/schedules.py`; deliveries are queued through
`webhooks/queueing.py`.
"""

from django.conf import settings

from config.batches import budget, within_budget

from . import delivery as attempts
from . import queueing
from .services import deliveries_cleanup, deliveries_sweep


def deliver(*delivery_ids: str) -> None:
    """Attempt the deliveries in waves of SEND_CONCURRENCY: each wave claimed in one statement
    just before it is sent, its attempts made concurrently, their outcomes written together.
    Then one more wave of whatever else is due, longest due first: under a steady flow of
    events, each queued with its own job, a delivery goes with the first job that runs rather
    than wait for its own, and the jobs behind find their deliveries done (one statement each).

    A job must end well within Q_TIMEOUT: once half of it has gone, the waves not started are
    queued as a new job (and if the worker dies, the sweeper finds them anyway)."""
    size = attempts.SEND_CONCURRENCY
    waves = [delivery_ids[start : start + size] for start in range(0, len(delivery_ids), size)]
    within_budget(
        [*waves, None],
        attempts.attempt_many,
        seconds=budget(settings.WEBHOOKS_TIMEOUT_SECONDS),
        requeue=lambda rest: queueing.enqueue_delivery([i for wave in rest if wave for i in wave]),
    )


def sweep() -> int:
    return deliveries_sweep()


def cleanup() -> int:
    return deliveries_cleanup()

"""Background jobs: thin, idempotent wrappers that load by id and call a service.

The periodic ones are declared in `config/schedules.py`; deliveries are queued through
`webhooks/queueing.py`.
"""

from .delivery import attempt
from .services import deliveries_cleanup, deliveries_sweep


def deliver(delivery_id: str) -> None:
    attempt(delivery_id=delivery_id)


def sweep() -> int:
    return deliveries_sweep()


def cleanup() -> int:
    return deliveries_cleanup()

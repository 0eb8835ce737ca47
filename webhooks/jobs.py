"""Background jobs: thin, idempotent wrappers that load by id and call a service.

The periodic ones are declared in `config/schedules.py`.
"""

from django_q.tasks import async_task


def enqueue_delivery(delivery_id) -> None:
    async_task(
        "webhooks.jobs.deliver",
        str(delivery_id),
        q_options={"group": "webhooks", "save": False, "task_name": f"webhook {delivery_id}"},
    )


def deliver(delivery_id: str) -> None:
    from .delivery import attempt

    attempt(delivery_id=delivery_id)


def sweep() -> int:
    from .services import deliveries_sweep

    return deliveries_sweep()


def cleanup() -> int:
    from .services import deliveries_cleanup

    return deliveries_cleanup()

"""Queueing a delivery's job (its own module: services queue through it, and the jobs it
queues call the services)."""

from django_q.tasks import async_task


def enqueue_delivery(delivery_id) -> None:
    async_task(
        "webhooks.jobs.deliver",
        str(delivery_id),
        q_options={"group": "webhooks", "save": False, "task_name": f"webhook {delivery_id}"},
    )

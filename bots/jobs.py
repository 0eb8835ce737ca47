"""Background jobs: thin wrappers that load by id and call the hand-over engine
(`bots/dispatch.py`). Safe to run twice or at the same time. The periodic ones are declared in
`config/schedules.py`."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from config.batches import budget, within_budget
from webhooks.queueing import broker_writes, shared_broker

# Bots per push job: a first sync or a rule change can schedule thousands of bots (each job is
# one queue write); a job past its time budget queues the rest as a new job.
PUSH_BATCH = 100


def enqueue_pushes(bot_ids) -> None:
    """Queue the hand-over of these bots to their backend: one job per PUSH_BATCH."""
    from django_q.tasks import async_task

    bot_ids = [str(bot_id) for bot_id in bot_ids]
    with broker_writes():
        for start in range(0, len(bot_ids), PUSH_BATCH):
            async_task(
                "bots.jobs.push_bot_to_backend",
                *bot_ids[start : start + PUSH_BATCH],
                q_options={"group": "bots", "broker": shared_broker()},
            )


def push_bot_to_backend(*bot_ids: str) -> str:
    """Make the project's dispatch backend match these Bot rows (create, move or delete), one
    after the other; each records its own failure and retry. Past the job's time budget the
    rest are queued as a new job."""
    from .dispatch import push_bot

    outcomes = within_budget(
        bot_ids,
        lambda bot_id: push_bot(bot_id=bot_id).outcome,
        seconds=budget(settings.BOTS_BACKEND_TIMEOUT_SECONDS),
        requeue=enqueue_pushes,
    )
    return ", ".join(outcomes)


def dispatch_bot(bot_id: str, join_at: str) -> str:
    """Dispatch one due bot, fenced by the `join_at` (ISO) it was queued with."""
    from .dispatch import dispatch_bot as dispatch

    return dispatch(bot_id=bot_id, join_at=datetime.fromisoformat(join_at))


def dispatch_due_bots() -> int:
    """Every minute: dispatch the bots whose join time has come. Bots dispatched without a
    network call are dispatched here; one that still needs a hand-over to a remote backend
    gets its own job, so one slow backend does not hold up the others."""
    from django_q.tasks import async_task

    from projects.failures import isolated

    from .dispatch import dispatch_bot as dispatch
    from .dispatch import due_bots, needs_network
    from .models import Bot

    due = due_bots(now=timezone.now())
    for bot in due:
        # One bot that cannot be dispatched (bad data of its project) is recorded and skipped.
        with isolated("dispatch", Bot, bot.pk):
            if not needs_network(bot):
                dispatch(bot_id=bot.pk, join_at=bot.join_at)
            else:
                async_task(
                    "bots.jobs.dispatch_bot", str(bot.pk), bot.join_at.isoformat(), group="bots"
                )
    return len(due)


def sweep_backend_pushes() -> int:
    """Every minute: queue the pushes whose retry is due, and those whose job got lost."""
    from django_q.tasks import async_task

    from .dispatch import pushes_due

    bot_ids = pushes_due(now=timezone.now())
    for bot_id in bot_ids:
        async_task("bots.jobs.push_bot_to_backend", str(bot_id), group="bots")
    return len(bot_ids)

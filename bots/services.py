"""Writes on bots outside reconciliation: status reports from runners and staff actions. Each
owns its transaction, writes its webhook events in it and queues the backend push once it
commits."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.errors import DomainError
from webhooks import events
from webhooks.services import emit_event

from .models import Bot

# Sub-codes of a `fatal` set by calsync because the bot never reached its runner.
DISPATCH_FAILURES = ("backend_unreachable", "backend_rejected", "dispatch_missed")


class BotError(DomainError):
    """A bot request refused (`bot_terminal`, `invalid_transition`, ...)."""


def _enqueue_on_commit(func: str, *args) -> None:
    from django_q.tasks import async_task

    # robust: a broker that is down must not undo the change; the sweeps catch up.
    transaction.on_commit(lambda: async_task(func, *args, group="bots"), robust=True)


def enqueue_push(bot: Bot) -> None:
    _enqueue_on_commit("bots.jobs.push_bot_to_backend", str(bot.pk))


def _locked(bot: Bot) -> Bot:
    return Bot.objects.select_for_update(of=("self",)).select_related("project").get(pk=bot.pk)


@transaction.atomic
def bot_report_status(
    *, bot: Bot, code: str, sub_code: str | None = None, message: str = ""
) -> Bot:
    """A runner's report. Accepted reports are recorded with `bot.status_change` and the
    per-code event (`bot.joining_call`, ...); the same report twice in a row is recorded once.
    Refusals raise BotError (see `Bot.report_refusal` for the transition table)."""
    bot = _locked(bot)
    now = timezone.now()
    refusal = bot.report_refusal(code, now=now)
    if refusal is not None:
        error_code, error_message = refusal
        status = 400 if error_code in ("unknown_status_code", "status_not_reportable") else 409
        raise BotError(error_code, error_message, status)
    last = bot.status_changes[-1] if bot.status_changes else {}
    if (last.get("code"), last.get("sub_code")) == (code, sub_code):
        return bot
    bot.set_status(code, sub_code=sub_code, message=message)
    if bot.dispatched_at is None and code != Bot.Status.FATAL:
        bot.dispatched_at = now  # reported before the dispatch tick reached it
    bot.save(update_fields=["status", "status_changes", "dispatched_at", "updated_at"])
    for event_type, data in events.bot_status_events(bot):
        emit_event(project=bot.project, event_type=event_type, data=data)
    return bot


@transaction.atomic
def bot_cancel(*, bot: Bot, reason: str = "cancelled_by_staff", message: str = "") -> Bot:
    """Cancel a bot that has not joined yet; the backend removes its copy after commit."""
    bot = _locked(bot)
    if not bot.is_movable:
        raise BotError(
            "bot_not_cancellable",
            f"The bot is `{bot.status}`: only bots that have not joined yet can be cancelled.",
            409,
        )
    bot.set_status(Bot.Status.CANCELLED, sub_code=reason, message=message or "Cancelled.")
    bot.save(update_fields=["status", "status_changes", "updated_at"])
    emit_event(
        project=bot.project,
        event_type=events.BOT_CANCELLED,
        data=events.bot_cancelled(bot, reason=reason),
    )
    enqueue_push(bot)
    return bot


def can_redispatch(bot: Bot) -> bool:
    last = bot.status_changes[-1] if bot.status_changes else {}
    failed = bot.status == Bot.Status.FATAL and last.get("sub_code") in DISPATCH_FAILURES
    return failed or bot.status == Bot.Status.DISPATCHED


@transaction.atomic
def bot_redispatch(*, bot: Bot) -> Bot:
    """Send again a bot whose dispatch failed (or whose runner never picked it up): back to
    `scheduled`, due now; it is pushed and dispatched right after commit."""
    bot = _locked(bot)
    if not can_redispatch(bot):
        raise BotError(
            "bot_not_redispatchable",
            "Only a bot whose dispatch failed, or a dispatched bot that has not joined, can "
            "be dispatched again.",
            409,
        )
    previous_join_at = bot.join_at
    bot.join_at = timezone.now()
    bot.set_status(Bot.Status.SCHEDULED, sub_code="redispatch", message="Dispatched again.")
    bot.backend_error, bot.backend_attempts, bot.backend_retry_at = "", 0, None
    try:
        with transaction.atomic():
            bot.save()
    except IntegrityError:
        raise BotError(
            "deduplication_key_in_use",
            "Another live bot has this bot's deduplication key; it serves the meeting now.",
            409,
        ) from None
    emit_event(
        project=bot.project,
        event_type=events.BOT_RESCHEDULED,
        data=events.bot_rescheduled(bot, previous_join_at=previous_join_at),
    )
    _enqueue_on_commit("bots.jobs.dispatch_bot", str(bot.pk), bot.join_at.isoformat())
    return bot

"""Hand-over of bots to their dispatch backend, and dispatch at join time.

Push (`push_bot`, job `bots.jobs.push_bot_to_backend`): makes the backend's copy of one bot
match the Bot row - create it, move it (join time, meeting URL, name) or delete it once the bot
is cancelled - and records what the backend acknowledged in the `backend_*` fields, so a second
push finds nothing to do. One worker at a time per bot (a lease taken with a conditional
UPDATE, which works the same on PostgreSQL and SQLite); no transaction is open during network
calls. Failures are recorded on the bot (`backend_error`, `backend_attempts`) and retried with
backoff - 30 s, 2 min, 8 min, 32 min, then hourly, honouring Retry-After, and never later than
the join time - by `sweep_pushes`; a refusal (4xx) waits for the next change or the dispatch.

Dispatch (`dispatch_bot`, every minute through `dispatch_due_bots`): a `scheduled` bot whose
`join_at` has come becomes `dispatched`, once. The change is one conditional UPDATE on
(status = scheduled, join_at = the value read), so a dispatch queued before a reschedule does
nothing, and a bot is never dispatched before its join_at. There is no look-ahead: a bot goes
out within a minute after its join time (the tick, plus up to ~30 s of django-q scheduler
jitter); the project's join lead time (two minutes by default) absorbs that. A bot the backend
does not hold yet is pushed first; if that keeps failing until BOTS_DISPATCH_GRACE_SECONDS after
the join time (or the end of its meetings, if later), or the backend refuses it, the bot becomes
`fatal` - the only way a push failure ends a bot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from config import backoff, leases
from webhooks import events
from webhooks.services import emit_event

from .backends import get_backend
from .backends.base import Ack, BackendError, BotBackend
from .models import Bot

logger = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
BACKOFF_FACTOR = 4
MAX_RETRY_DELAY = timedelta(hours=1)
JITTER = 0.1
# Past this (after the join time) a cancelled bot's copy is not worth removing any more.
DELETE_GIVE_UP_AFTER = timedelta(hours=1)
# A change younger than this still has its own push job on the way.
LOST_PUSH_AFTER = timedelta(seconds=60)
SWEEP_BEHIND = timedelta(days=1)
SWEEP_AHEAD = timedelta(days=2)
SWEEP_BATCH = 1000
ROUNDS = 3

CREATE, UPDATE, DELETE = "create", "update", "delete"

LEASE = "backend_lease_until"  # one push at a time per bot


@dataclass(frozen=True)
class PushResult:
    outcome: str  # "synced", "failed", "busy" (another worker holds the bot), "missing"
    error: BackendError | None = None


def backend_name(bot: Bot) -> str:
    return bot.backend or bot.project.bot_dispatch_backend


def pending_action(bot: Bot) -> str | None:
    """What the backend must do for its copy to match the bot, if anything."""
    if bot.status == Bot.Status.CANCELLED:
        holds_copy = bool(bot.backend_bot_id) and bot.backend_join_at is not None
        return DELETE if holds_copy else None
    if not bot.is_movable:
        return None  # it has joined: the runner owns it now
    if not bot.backend_bot_id:
        return CREATE
    acknowledged = (bot.backend_join_at, bot.backend_meeting_url, bot.backend_name)
    return UPDATE if acknowledged != (bot.join_at, bot.meeting_url, bot.name) else None


def needs_network(bot: Bot) -> bool:
    if pending_action(bot) is None:
        return False
    try:
        return get_backend(backend_name(bot)).remote
    except BackendError:
        return True  # its job records the error


def retry_delay(failures: int) -> timedelta:
    return backoff.delay(
        failures, first=FIRST_RETRY, factor=BACKOFF_FACTOR, cap=MAX_RETRY_DELAY, jitter=JITTER
    )


def lease_length() -> timedelta:
    # Longer than a push can take (an update may be a delete, a leave and a create).
    return timedelta(seconds=10 * settings.BOTS_BACKEND_TIMEOUT_SECONDS + 30)


def _claim(bot_id, now: datetime) -> datetime | None:
    return leases.take(Bot.objects.filter(pk=bot_id), field=LEASE, now=now, length=lease_length())


def push_bot(*, bot_id) -> PushResult:
    """Make the backend match the bot. Safe to run twice or at the same time."""
    lease = _claim(bot_id, timezone.now())
    if lease is None:
        exists = Bot.objects.filter(pk=bot_id).exists()
        return PushResult("busy" if exists else "missing")
    try:
        # Another round when the bot changed while we talked to the backend.
        for _ in range(ROUNDS):
            bot = Bot.objects.select_related("project").filter(pk=bot_id).first()
            if bot is None:
                return PushResult("missing")
            action = pending_action(bot)
            if action is None:
                break
            try:
                backend = get_backend(backend_name(bot))
                ack = _perform(backend, action, bot)
            except BackendError as exc:
                _record_failure(bot, action, exc, lease)
                return PushResult("failed", exc)
            except Exception as exc:  # a bug must not stop the retries
                logger.exception("pushing bot %s to its backend failed unexpectedly", bot_id)
                error = BackendError(f"Internal error: {type(exc).__name__}", retryable=True)
                _record_failure(bot, action, error, lease)
                return PushResult("failed", error)
            if not _record_success(bot, backend, action, ack, lease):
                return PushResult("busy")  # our lease lapsed and someone else took over
        return PushResult("synced")
    finally:
        leases.release(Bot.objects.filter(pk=bot_id, backend_lease_until=lease), field=LEASE)


def _perform(backend: BotBackend, action: str, bot: Bot) -> Ack | None:
    if action == CREATE:
        return backend.create(bot)
    if action == UPDATE:
        return backend.update(bot)
    backend.delete(bot)
    return None


def _record_success(bot: Bot, backend: BotBackend, action: str, ack, lease) -> bool:
    fields = {
        "backend": backend.name,
        "backend_synced_at": timezone.now(),
        "backend_error": "",
        "backend_attempts": 0,
        "backend_retry_at": None,
    }
    if action == DELETE:
        fields.update(backend_join_at=None, backend_meeting_url="", backend_name="")
    else:
        fields.update(
            backend_bot_id=ack.backend_bot_id,
            backend_join_at=ack.join_at,
            backend_meeting_url=ack.meeting_url,
            backend_name=ack.name,
        )
    return bool(Bot.objects.filter(pk=bot.pk, backend_lease_until=lease).update(**fields))


def _record_failure(bot: Bot, action: str, error: BackendError, lease) -> None:
    now = timezone.now()
    failures = bot.backend_attempts + 1
    message = str(error)
    retry_at = None
    if error.retryable:
        delay = retry_delay(failures)
        if error.retry_after:
            delay = max(delay, timedelta(seconds=error.retry_after))
        retry_at = now + delay
        if action == DELETE and now > bot.join_at + DELETE_GIVE_UP_AFTER:
            retry_at = None
            message = f"Gave up removing the bot from the backend: {message}"
        elif action != DELETE:
            retry_at = min(retry_at, max(bot.join_at, now + FIRST_RETRY))
    logger.warning(
        "bot %s: %s at backend failed (attempt %d, retry at %s): %s",
        bot.pk,
        action,
        failures,
        retry_at,
        message,
    )
    Bot.objects.filter(pk=bot.pk, backend_lease_until=lease).update(
        backend_error=message[:2000], backend_attempts=failures, backend_retry_at=retry_at
    )


def _emit_status_events(bot: Bot) -> None:
    for event_type, data in events.bot_status_events(bot):
        emit_event(project=bot.project, event_type=event_type, data=data)


def dispatch_deadline(bot: Bot) -> datetime:
    """Until when dispatching a bot late is still worth it."""
    deadline = bot.join_at + timedelta(seconds=settings.BOTS_DISPATCH_GRACE_SECONDS)
    meetings_end = bot.meetings.aggregate(end=Max("end_time"))["end"]
    return max(deadline, meetings_end) if meetings_end else deadline


def dispatch_bot(*, bot_id, join_at: datetime) -> str:
    """Dispatch a due bot once; `join_at` is the value the caller read (the fence).

    Returns "dispatched", "stale" (changed, or dispatched by someone else), "early",
    "retrying" (its hand-over failed; the next tick tries again), "busy" or "failed".
    """
    now = timezone.now()
    bot = Bot.objects.select_related("project").filter(pk=bot_id).first()
    if bot is None or bot.status != Bot.Status.SCHEDULED or bot.join_at != join_at:
        return "stale"
    if join_at > now:
        return "early"
    grace = timedelta(seconds=settings.BOTS_DISPATCH_GRACE_SECONDS)
    if now > join_at + grace and now > dispatch_deadline(bot):
        if bot.backend_error:
            _fail(
                bot_id,
                join_at,
                "backend_unreachable",
                f"Could not hand the bot over to the dispatch backend in time: {bot.backend_error}",
            )
        else:
            _fail(bot_id, join_at, "dispatch_missed", "The bot was not dispatched in time.")
        return "failed"
    if pending_action(bot) is not None:
        result = push_bot(bot_id=bot_id)
        if result.outcome == "failed":
            if result.error.retryable:
                return "retrying"  # until the deadline above
            _fail(
                bot_id,
                join_at,
                "backend_rejected",
                f"The dispatch backend refused the bot: {result.error}",
            )
            return "failed"
        if result.outcome != "synced":
            return result.outcome
        bot = Bot.objects.select_related("project").get(pk=bot_id)
        if pending_action(bot) is not None:
            return "retrying"
    try:
        backend = get_backend(backend_name(bot))
    except BackendError:
        return "retrying"
    with transaction.atomic():
        claimed = (
            Bot.objects.filter(pk=bot_id, join_at=join_at)
            .due(now)
            .update(status=Bot.Status.DISPATCHED, dispatched_at=now, updated_at=now)
        )
        if not claimed:
            return "stale"
        bot = Bot.objects.select_related("project").get(pk=bot_id)
        bot.set_status(Bot.Status.DISPATCHED, message=f"Handed to the {backend.name} backend.")
        bot.save(update_fields=["status", "status_changes"])
        backend.on_dispatch(bot)
        _emit_status_events(bot)
    return "dispatched"


def _fail(bot_id, join_at: datetime, sub_code: str, message: str) -> bool:
    with transaction.atomic():
        bot = (
            Bot.objects.select_for_update(of=("self",))
            .select_related("project")
            .filter(pk=bot_id, status=Bot.Status.SCHEDULED, join_at=join_at)
            .first()
        )
        if bot is None:
            return False
        bot.set_status(Bot.Status.FATAL, sub_code=sub_code, message=message[:500])
        bot.save(update_fields=["status", "status_changes", "updated_at"])
        _emit_status_events(bot)
    logger.warning("bot %s is fatal: %s", bot_id, message)
    return True


def due_bots(*, now: datetime) -> list[Bot]:
    return list(Bot.objects.select_related("project").due(now).order_by("join_at")[:SWEEP_BATCH])


def pushes_due(*, now: datetime) -> list:
    """Bots whose retry is due, and bots out of step with their backend whose own push job got
    lost (a broker outage, a crash) - looked for among bots joining from a day ago to two days
    ahead, which bounds the scan. Bots refused for good wait for a change or their dispatch."""
    lease_free = leases.free(LEASE, now)
    retries = Bot.objects.filter(lease_free, backend_retry_at__lte=now).order_by("backend_retry_at")
    out_of_step = (
        Q(backend_bot_id="")
        | Q(backend_join_at__isnull=True)
        | ~Q(backend_join_at=F("join_at"))
        | ~Q(backend_meeting_url=F("meeting_url"))
        | ~Q(backend_name=F("name"))
    )
    needs_delete = Q(status=Bot.Status.CANCELLED, backend_join_at__isnull=False) & ~Q(
        backend_bot_id=""
    )
    lost = Bot.objects.filter(
        lease_free,
        (Q(status__in=Bot.MOVABLE_STATUSES) & out_of_step) | needs_delete,
        join_at__gte=now - SWEEP_BEHIND,
        join_at__lte=now + SWEEP_AHEAD,
        backend_attempts=0,
        updated_at__lte=now - LOST_PUSH_AFTER,
    )
    ids = list(retries.values_list("pk", flat=True)[:SWEEP_BATCH])
    ids += list(lost.values_list("pk", flat=True)[:SWEEP_BATCH])
    return list(dict.fromkeys(ids))

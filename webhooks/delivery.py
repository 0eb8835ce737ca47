"""Delivery attempts: claim them, render each in its endpoint's format (`formats.py`: body,
signature, static headers), POST, log, and decide what happens next. The same for every format.

Attempts go in waves of up to SEND_CONCURRENCY (`attempt_many`): claimed in one transaction,
sent at once from the process's sending threads over kept-alive connections (`http.send`; the
private-address guard runs whenever a connection opens, and guarded attempts never share an
unguarded connection), logged with one INSERT and one UPDATE per group of equal outcomes.
A worker that dies between two of these steps leaves its deliveries claimed: due again when
the lease ends, so the sweeper retries them (same `webhook-id`). No order is kept between
deliveries (README: events are not promised in order).

Retry policy (at least once; receivers deduplicate on `webhook-id`):
- 2xx: delivered.
- network errors, timeouts, 408, 429, 5xx and 3xx (redirects are not followed): retried with
  exponential backoff and jitter - about 30 s, 2 min, 8 min, 32 min, 2 h, then every 4 h -
  until 24 h after the event, the last attempt at the 24 h mark. A `Retry-After` is honoured
  (within those 24 h).
- other 4xx and a refused destination (private address): final.
- an endpoint whose every attempt failed for 5 days is disabled; its pending deliveries fail.
"""

from __future__ import annotations

import email.utils
import logging
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config import backoff, faults, http

from . import formats
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
BACKOFF_FACTOR = 4
MAX_RETRY_DELAY = timedelta(hours=4)
JITTER = 0.2
DISABLE_AFTER = timedelta(days=5)
# Longer than any attempt can take (connect + answer + body, each bounded by the timeout), so
# a lease only lapses when its worker died.
LEASE = timedelta(minutes=2)
RESPONSE_EXCERPT_BYTES = 2048
RETRYABLE_STATUSES = {408, 429}
# Attempts one worker process makes at once (threads; each keeps its connections alive). A job
# claims this many deliveries at a time, so the claimed ones all end within one attempt's time.
SEND_CONCURRENCY = 16
CLAIMED_FIELDS = (
    "id",
    "endpoint",
    "event_id",
    "payload",
    "attempt_count",
    "created_at",
    "give_up_at",
)


def retry_delay(attempt_number: int) -> timedelta:
    """Backoff after the `attempt_number`-th failed attempt, with ±20 % jitter."""
    return backoff.delay(
        attempt_number, first=FIRST_RETRY, factor=BACKOFF_FACTOR, cap=MAX_RETRY_DELAY, jitter=JITTER
    )


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        at = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(at - now, timedelta(0)) if at.tzinfo else None


@dataclass
class Result:
    outcome: str  # WebhookAttempt.Outcome, before the retry window is applied
    response_status: int | None = None
    response_body: str = ""
    error: str = ""
    retry_after: timedelta | None = None


def claim(delivery: WebhookDelivery, *, now: datetime) -> bool:
    """Take the next attempt of one due delivery (`claim_due` for one row); on success
    `delivery.attempt_count` is the number of the attempt taken."""
    claimed = claim_due([delivery.pk], now=now)
    if claimed:
        delivery.attempt_count = claimed[0].attempt_count
    return bool(claimed)


def claim_due(delivery_ids: Sequence | None, *, now: datetime) -> list[WebhookDelivery]:
    """Take the next attempt of those of `delivery_ids` that are pending and due - or, for
    None, of up to SEND_CONCURRENCY of any due deliveries, the longest due first - and return
    them (attempt_count: the attempt taken). The due rows are found without locks; then, in one
    transaction, read again under lock with the same conditions, and counted and leased in one
    UPDATE - the due time is the lease: while the attempts run, their deliveries are due again
    LEASE later.

    Exactly once among concurrent workers: on PostgreSQL the read takes the rows' locks and
    skips those another worker holds (`FOR UPDATE SKIP LOCKED`); a row another worker claimed
    and committed meanwhile is re-checked against the filter and no longer due. SQLite runs
    writers one at a time (transactions take the write lock at BEGIN)."""
    if delivery_ids is not None and not delivery_ids:
        return []
    due = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    )
    if delivery_ids is None:
        due = due.order_by("next_attempt_at")[:SEND_CONCURRENCY]
    else:
        due = due.filter(pk__in=delivery_ids).order_by()
    # A look without locks first: most jobs behind a busy one find their deliveries done, and
    # then take no write lock at all (SQLite has one for the whole database).
    candidates = list(due.values_list("pk", flat=True))
    if not candidates:
        return []
    with transaction.atomic():
        claimed = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                pk__in=candidates,
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at__lte=now,
            )
            .order_by()
            .only(*CLAIMED_FIELDS)
        )
        if claimed:
            WebhookDelivery.objects.filter(pk__in=[row.pk for row in claimed]).update(
                next_attempt_at=now + LEASE, attempt_count=F("attempt_count") + 1
            )
    for row in claimed:
        row.attempt_count += 1
        row.next_attempt_at = now + LEASE
    faults.point("webhooks.claimed")
    return claimed


def attempt(*, delivery_id) -> WebhookAttempt | None:
    """Make the next attempt of a delivery if it is due and nobody else is making it."""
    logged = attempt_many([delivery_id])
    return logged[0] if logged else None


def attempt_many(delivery_ids: Sequence | None) -> list[WebhookAttempt]:
    """Make the next attempt of each of `delivery_ids` that is due and nobody else is making
    (None: of any due deliveries, `claim_due`): claimed together, sent concurrently (at most
    SEND_CONCURRENCY at once, so that they all end within one attempt's time, well inside the
    lease), logged together. Pass at most SEND_CONCURRENCY ids (`jobs.deliver` cuts its batch
    into such waves). Returns the attempt log rows, in no particular order."""
    now = timezone.now()
    claimed = claim_due(delivery_ids, now=now)
    if not claimed:
        return []
    endpoints = WebhookEndpoint.objects.in_bulk({row.endpoint_id for row in claimed})
    # Read at the claim, like the rest of the row: a deleted endpoint took its deliveries along.
    claimed = [row for row in claimed if row.endpoint_id in endpoints]
    if len(claimed) == 1:
        outcomes = [_attempt_one(claimed[0], endpoints[claimed[0].endpoint_id], now)]
    else:
        outcomes = list(
            _senders().map(lambda row: _attempt_one(row, endpoints[row.endpoint_id], now), claimed)
        )
    faults.point("webhooks.sent")
    return record_many(outcomes, started_at=now)


def _attempt_one(delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: datetime) -> Outcome:
    started = time.monotonic()
    if endpoint.is_active:
        result = send(delivery, endpoint=endpoint, at=now)
    else:
        result = Result(WebhookAttempt.Outcome.FAILED, error="The endpoint is disabled.")
    duration_ms = round((time.monotonic() - started) * 1000)
    return Outcome(delivery, endpoint, result, duration_ms)


_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _senders() -> ThreadPoolExecutor:
    """The process's sending threads (they share `http.send`'s keep-alive pool). Made again in
    a forked child: threads do not survive a fork."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (
                os.getpid(),
                ThreadPoolExecutor(SEND_CONCURRENCY, thread_name_prefix="webhook-send"),
            )
        return _pool[1]


def send(delivery: WebhookDelivery, *, endpoint: WebhookEndpoint, at: datetime) -> Result:
    try:
        outgoing = formats.render(
            message_id=str(delivery.event_id), payload=delivery.payload, endpoint=endpoint, at=at
        )
    except Exception as exc:  # a bug must not stop the retries
        logger.exception("webhook delivery %s could not be rendered", delivery.pk)
        return Result(
            WebhookAttempt.Outcome.RETRYING, error=f"Internal error: {type(exc).__name__}"
        )
    hidden = endpoint.get_static_headers().values()
    allow_private = endpoint.allow_private_addresses or settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES
    try:
        response = http.send(
            "POST",
            endpoint.url,
            body=outgoing.body,
            headers=outgoing.headers,
            guard_private=not allow_private,
            timeout=settings.WEBHOOKS_TIMEOUT_SECONDS,
            max_bytes=RESPONSE_EXCERPT_BYTES,
        )
    except http.UnsafeDestination as exc:
        return Result(WebhookAttempt.Outcome.FAILED, error=f"Refused destination: {exc}")
    except requests.exceptions.Timeout:
        return Result(
            WebhookAttempt.Outcome.RETRYING,
            error=f"Timed out after {settings.WEBHOOKS_TIMEOUT_SECONDS} s.",
        )
    except requests.exceptions.RequestException as exc:
        return Result(
            WebhookAttempt.Outcome.RETRYING, error=_hide(f"{type(exc).__name__}: {exc}", hidden)
        )
    except Exception as exc:  # a bug must not stop the retries
        logger.exception("webhook delivery %s failed unexpectedly", delivery.pk)
        return Result(
            WebhookAttempt.Outcome.RETRYING, error=f"Internal error: {type(exc).__name__}"
        )

    status = response.status_code
    # A receiver that echoes the request (a debugging bin) must not reveal the static headers.
    excerpt = _hide(response.content.decode("utf-8", errors="replace"), hidden)
    if 200 <= status < 300:
        outcome = WebhookAttempt.Outcome.SUCCEEDED
    elif status in RETRYABLE_STATUSES or status >= 500 or 300 <= status < 400:
        outcome = WebhookAttempt.Outcome.RETRYING
    else:
        outcome = WebhookAttempt.Outcome.FAILED
    return Result(
        outcome,
        response_status=status,
        response_body=excerpt,
        error="" if outcome == WebhookAttempt.Outcome.SUCCEEDED else f"HTTP {status}",
        retry_after=parse_retry_after(response.headers.get("Retry-After"), now=at),
    )


def _hide(text: str, values) -> str:
    """The delivery log is shown in the API: a static header's value never gets there, even
    inside an HTTP library's message."""
    for value in values:
        text = text.replace(value, "[hidden]")
    return text


@dataclass
class Outcome:
    """What one attempt found, to be recorded."""

    delivery: WebhookDelivery
    endpoint: WebhookEndpoint
    result: Result
    duration_ms: int


def record(
    delivery: WebhookDelivery,
    *,
    endpoint: WebhookEndpoint,
    result: Result,
    started_at: datetime,
    duration_ms: int,
) -> WebhookAttempt:
    """`record_many` for one attempt."""
    (logged,) = record_many(
        [Outcome(delivery, endpoint, result, duration_ms)], started_at=started_at
    )
    return logged


def record_many(outcomes: list[Outcome], *, started_at: datetime) -> list[WebhookAttempt]:
    """Log the attempts claimed at `started_at` and decide what happens next to each delivery,
    in one transaction: one INSERT for the log, one UPDATE per group of deliveries with the
    same outcome (usually one), and the endpoints' health."""
    now = timezone.now()
    logged, changes = [], {}
    for item in outcomes:
        delivery, endpoint, result = item.delivery, item.endpoint, item.result
        outcome = result.outcome
        next_attempt_at = None
        if outcome == WebhookAttempt.Outcome.RETRYING:
            give_up_at = delivery.give_up_at or delivery.created_at + RETRY_WINDOW
            delay = retry_delay(delivery.attempt_count)
            if result.retry_after:
                delay = max(delay, result.retry_after)
            if now >= give_up_at:
                outcome = WebhookAttempt.Outcome.FAILED
            else:
                next_attempt_at = min(now + delay, give_up_at)
        logged.append(
            WebhookAttempt(
                delivery_id=delivery.pk,
                number=delivery.attempt_count,
                started_at=started_at,
                duration_ms=item.duration_ms,
                url=endpoint.url,
                outcome=outcome,
                response_status=result.response_status,
                response_body=result.response_body,
                error=result.error,
            )
        )
        # Fenced by the attempt number: a worker whose lease lapsed cannot overwrite a newer
        # attempt's outcome.
        change = (
            delivery.attempt_count,
            _STATUS[outcome],
            next_attempt_at,
            result.response_status,
            result.response_body,
            result.error,
        )
        changes.setdefault(change, []).append(delivery.pk)

    with transaction.atomic():
        WebhookAttempt.objects.bulk_create(logged)
        faults.point("webhooks.recording")
        for (number, status, next_attempt_at, response_status, body, error), ids in changes.items():
            WebhookDelivery.objects.filter(pk__in=ids, attempt_count=number).update(
                status=status,
                next_attempt_at=next_attempt_at,
                last_attempt_at=started_at,
                response_status=response_status,
                response_body=body,
                error=error,
                delivered_at=now if status == WebhookDelivery.Status.SUCCEEDED else None,
                updated_at=now,
            )
        succeeded: dict = {}
        for item, entry in zip(outcomes, logged, strict=True):
            if item.endpoint.is_active:
                ok = entry.outcome == WebhookAttempt.Outcome.SUCCEEDED
                succeeded[item.endpoint.pk] = succeeded.get(item.endpoint.pk, False) or ok
        endpoints = {item.endpoint.pk: item.endpoint for item in outcomes}
        for endpoint_id, ok in succeeded.items():
            # One success among the batch ends the endpoint's failure streak.
            _track_health(endpoints[endpoint_id], succeeded=ok, now=now)
    return logged


_STATUS = {
    WebhookAttempt.Outcome.SUCCEEDED: WebhookDelivery.Status.SUCCEEDED,
    WebhookAttempt.Outcome.RETRYING: WebhookDelivery.Status.PENDING,
    WebhookAttempt.Outcome.FAILED: WebhookDelivery.Status.FAILED,
}


def _track_health(endpoint: WebhookEndpoint, *, succeeded: bool, now: datetime) -> None:
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint.pk)
    if succeeded:
        # As read at the claim: a streak that began since then ends at the next success.
        if endpoint.failing_since is not None:
            endpoints.update(failing_since=None)
        return
    endpoints.filter(failing_since__isnull=True).update(failing_since=now)
    disabled = endpoints.filter(is_active=True, failing_since__lte=now - DISABLE_AFTER).update(
        is_active=False,
        disabled_at=now,
        disabled_reason=f"Disabled automatically: every delivery failed for "
        f"{DISABLE_AFTER.days} days. Fix the receiver, then enable the endpoint again.",
        updated_at=now,
    )
    if disabled:
        logger.warning(
            "webhook endpoint %s disabled after %s of failures", endpoint.pk, DISABLE_AFTER
        )
        WebhookDelivery.objects.filter(
            endpoint=endpoint, status=WebhookDelivery.Status.PENDING
        ).update(
            status=WebhookDelivery.Status.FAILED,
            next_attempt_at=None,
            error="The endpoint was disabled.",
            updated_at=now,
        )

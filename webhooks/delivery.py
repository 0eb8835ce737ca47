"""One delivery attempt: claim it, render it in the endpoint's format (`formats.py`: body,
signature, static headers), POST, log, and decide what happens next. The same for every format.

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
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config import backoff, http, leases

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
    """Take the next attempt of a due delivery. One conditional UPDATE: of two workers that
    read the same row, only one matches (PostgreSQL re-checks the condition after the other's
    commit; SQLite runs writers one at a time)."""
    # The due time is the lease: while an attempt runs, its delivery is due again LEASE later.
    claimed = leases.take(
        WebhookDelivery.objects.filter(
            pk=delivery.pk,
            status=WebhookDelivery.Status.PENDING,
            attempt_count=delivery.attempt_count,
            next_attempt_at__isnull=False,
        ),
        field="next_attempt_at",
        now=now,
        length=LEASE,
        attempt_count=delivery.attempt_count + 1,
    )
    if claimed:
        delivery.attempt_count += 1
    return claimed is not None


def attempt(*, delivery_id) -> WebhookAttempt | None:
    """Make the next attempt of a delivery if it is due and nobody else is making it."""
    now = timezone.now()
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .first()
    )
    if delivery is None or not claim(delivery, now=now):
        return None
    endpoint = delivery.endpoint
    started = time.monotonic()
    if endpoint.is_active:
        result = send(delivery, endpoint=endpoint, at=now)
    else:
        result = Result(WebhookAttempt.Outcome.FAILED, error="The endpoint is disabled.")
    duration_ms = round((time.monotonic() - started) * 1000)
    return record(
        delivery, endpoint=endpoint, result=result, started_at=now, duration_ms=duration_ms
    )


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
        response = http.request(
            "POST",
            endpoint.url,
            data=outgoing.body,
            headers=outgoing.headers,
            guard_private=not allow_private,
            timeout=settings.WEBHOOKS_TIMEOUT_SECONDS,
            max_bytes=RESPONSE_EXCERPT_BYTES,
            truncate=True,
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


def record(
    delivery: WebhookDelivery,
    *,
    endpoint: WebhookEndpoint,
    result: Result,
    started_at: datetime,
    duration_ms: int,
) -> WebhookAttempt:
    now = timezone.now()
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
    succeeded = outcome == WebhookAttempt.Outcome.SUCCEEDED
    status = {
        WebhookAttempt.Outcome.SUCCEEDED: WebhookDelivery.Status.SUCCEEDED,
        WebhookAttempt.Outcome.RETRYING: WebhookDelivery.Status.PENDING,
        WebhookAttempt.Outcome.FAILED: WebhookDelivery.Status.FAILED,
    }[outcome]

    with transaction.atomic():
        logged = WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempt_count,
            started_at=started_at,
            duration_ms=duration_ms,
            url=endpoint.url,
            outcome=outcome,
            response_status=result.response_status,
            response_body=result.response_body,
            error=result.error,
        )
        # Fenced by the attempt number: a worker whose lease lapsed cannot overwrite a newer
        # attempt's outcome.
        WebhookDelivery.objects.filter(pk=delivery.pk, attempt_count=delivery.attempt_count).update(
            status=status,
            next_attempt_at=next_attempt_at,
            last_attempt_at=started_at,
            response_status=result.response_status,
            response_body=result.response_body,
            error=result.error,
            delivered_at=now if succeeded else None,
            updated_at=now,
        )
        if endpoint.is_active:
            _track_health(endpoint, succeeded=succeeded, now=now)
    return logged


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

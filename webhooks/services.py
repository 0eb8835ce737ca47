"""Outgoing webhooks: the emitting API other apps call, and the writes behind the webhooks API.

Delivery is an outbox: `emit_event` writes one `WebhookDelivery` per interested endpoint in the
caller's transaction and queues its delivery when that transaction commits. If the process dies
between the commit and the queueing, `deliveries_sweep` (every minute) finds the row anyway.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config import http
from config.db import bulk_insert, new_instances, random_uuids
from config.errors import DomainError
from projects.models import Project

from . import delivery as delivery_attempts
from . import events, formats, queueing
from .models import WebhookDelivery, WebhookEndpoint
from .signing import generate_secret, parse_secret

DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)
SWEEP_BATCH = 1000
CLEANUP_BATCH = 1000


def emit_event(
    *, project: Project, event_type: str, data: dict | Callable[[], dict]
) -> list[WebhookDelivery]:
    """Record an event for every enabled endpoint of `project` that subscribes to it, in the
    caller's transaction; delivery starts once it commits. Nothing is written when no endpoint
    wants the event. One event id (the `webhook-id`) is shared by all its deliveries."""
    return emit_events(project=project, items=[(event_type, data)])


def emit_events(
    *, project: Project, items: Iterable[tuple[str, dict | Callable[[], dict | None]]]
) -> list[WebhookDelivery]:
    """`emit_event` for many events of one project (a sync scheduling thousands of bots): the
    endpoints are read once and all deliveries written in one statement. A payload builder
    that returns None skips its event."""
    items = list(items)
    for event_type, _data in items:
        if event_type not in events.CATALOGUE:
            raise ValueError(
                f"Unknown webhook event type {event_type!r}; add it to webhooks.events."
            )
    endpoints = list(
        WebhookEndpoint.objects.filter(project=project, is_active=True).only(
            "id", "is_active", "event_types", "format"
        )
    )
    batch = []
    wanted: dict[str, list] = {}  # per event type, asked once (a batch has thousands of events)
    for event_type, data in items:
        wanting = wanted.get(event_type)
        if wanting is None:
            wanting = wanted[event_type] = [e for e in endpoints if e.wants(event_type)]
        if wanting:
            # Built only when someone listens (payloads can cost queries); a builder that
            # returns None found nothing to tell.
            payload = data() if callable(data) else data
            if payload is not None:
                batch.append((event_type, payload, wanting))
    return _write_deliveries(project=project, batch=batch) if batch else []


def _write_deliveries(
    *, project, batch: list[tuple[str, dict, list]], enqueue: bool = True
) -> list[WebhookDelivery]:
    """`batch`: (event type, data, endpoints) per event."""
    now = timezone.now()
    give_up_at = now + delivery_attempts.RETRY_WINDOW
    rows = []
    for (event_type, data, endpoints), event_id in zip(
        batch, random_uuids(len(batch)), strict=True
    ):
        payload = events.envelope(event_id=str(event_id), event_type=event_type, data=data, at=now)
        rows += [
            {
                "project_id": project.pk,
                "endpoint_id": endpoint.pk,
                "event_id": event_id,
                "event_type": event_type,
                "payload": payload,
                "next_attempt_at": now,
                "give_up_at": give_up_at,
            }
            for endpoint in endpoints
        ]
    with transaction.atomic():
        # Thousands at a time (a first sync's bots): built without Model.__init__.
        deliveries = bulk_insert(WebhookDelivery, new_instances(WebhookDelivery, rows))
        if enqueue:
            _enqueue_on_commit([delivery.pk for delivery in deliveries])
    return deliveries


def _enqueue_on_commit(delivery_ids: list) -> None:
    """Queue the deliveries once the transaction commits, in batches (queueing.py).
    robust: a broker that is down must not fail the caller's change; the sweeper catches up."""
    transaction.on_commit(lambda: queueing.enqueue_delivery(delivery_ids), robust=True)


# --- Endpoints -----------------------------------------------------------------------------------


def validate_endpoint_url(url: str, *, allow_private: bool = False) -> None:
    """https (http only with DEBUG), no credentials, and - unless allowed - a host that does
    not resolve to a private address. Delivery checks the address again on every attempt."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise ValidationError({"url": "The port is not valid."}) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": "Enter an absolute http(s) URL."})
    if parts.scheme != "https" and not settings.DEBUG:
        raise ValidationError({"url": "Webhook URLs must use https."})
    if parts.username or parts.password:
        raise ValidationError({"url": "Put no credentials in the URL; verify the signature."})
    if allow_private or settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return
    try:
        http.check_url(url)
    except http.UnsafeDestination:
        raise ValidationError(
            {"url": "The URL resolves to a private, loopback or link-local address."}
        ) from None
    except (socket.gaierror, UnicodeError):
        pass  # not resolvable yet: the check at delivery time still applies


@transaction.atomic
def endpoint_create(
    *,
    project: Project,
    url: str,
    description: str = "",
    event_types: list[str] | None = None,
    is_active: bool = True,
    format: str = formats.STANDARD,
    static_headers: dict[str, str] | None = None,
    secret: str | None = None,
) -> WebhookEndpoint:
    """A new endpoint with a new signing secret (`endpoint.secret`, shown to the caller once),
    or with the `secret` its receiver already verifies with (`signing.parse_secret`)."""
    validate_endpoint_url(url)
    event_types = list(event_types or [])
    formats.check_event_types(format, event_types)
    endpoint = WebhookEndpoint(
        project=project,
        url=url,
        description=description,
        event_types=event_types,
        is_active=is_active,
        format=format,
    )
    endpoint.set_static_headers(formats.clean_static_headers(static_headers or {}))
    if secret is not None:
        endpoint.secret = parse_secret(secret)
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Change `url`, `description`, `event_types`, `is_active`, `format` or `static_headers`
    (replaced as a whole; `{}` removes them). Enabling an endpoint clears the reason it was
    disabled and its failure streak. A new format fails the pending deliveries it does not
    carry: its receiver would not understand them."""
    if "url" in changes and changes["url"] != endpoint.url:
        # Staff approved the old URL, not this one: the new one is checked like any other.
        endpoint.allow_private_addresses = False
        validate_endpoint_url(changes["url"])
    if "static_headers" in changes:
        endpoint.set_static_headers(formats.clean_static_headers(changes.pop("static_headers")))
    previous_format = endpoint.format
    for name, value in changes.items():
        setattr(endpoint, name, value)
    formats.check_event_types(endpoint.format, endpoint.event_types)
    if changes.get("is_active"):
        endpoint.disabled_reason = ""
        endpoint.disabled_at = None
        endpoint.failing_since = None
    elif changes.get("is_active") is False and not endpoint.disabled_at:
        endpoint.disabled_at = timezone.now()
    endpoint.save()
    if endpoint.format != previous_format:
        deliveries_fail_uncarried(endpoint=endpoint)
    return endpoint


def deliveries_fail_uncarried(*, endpoint: WebhookEndpoint) -> None:
    """After a change of format: the pending deliveries the new format does not carry fail
    (they would reach a receiver that does not understand them)."""
    carrier = formats.get(endpoint.format)
    if carrier.carries is None:
        return
    WebhookDelivery.objects.filter(
        endpoint=endpoint, status=WebhookDelivery.Status.PENDING
    ).exclude(event_type__in=carrier.carries).update(
        status=WebhookDelivery.Status.FAILED,
        next_attempt_at=None,
        error=f"The endpoint's format became {endpoint.format}, which does not carry this event.",
        updated_at=timezone.now(),
    )


@transaction.atomic
def endpoint_rotate_secret(
    *,
    endpoint: WebhookEndpoint,
    overlap: timedelta = DEFAULT_ROTATION_OVERLAP,
    secret: str | None = None,
) -> WebhookEndpoint:
    """A new signing secret (`endpoint.secret`, shown once), or the given `secret` (one the
    receiver already has). The old one keeps signing, beside the new one, for `overlap` (Standard
    Webhooks only: an Attendee signature is made with the newest secret); zero retires it at
    once."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if overlap > timedelta(0):
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + overlap
    else:
        endpoint.previous_secret = ""
        endpoint.previous_secret_expires_at = None
    endpoint.secret = generate_secret() if secret is None else parse_secret(secret)
    endpoint.save()
    return endpoint


class EndpointDisabled(DomainError):
    """Sending to a disabled endpoint (a test, a retry) is refused until it is enabled."""

    def __init__(self):
        super().__init__("endpoint_disabled", "The endpoint is disabled; enable it first.", 409)


def _require_active(endpoint: WebhookEndpoint) -> None:
    if not endpoint.is_active:
        raise EndpointDisabled


def endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a `webhook.test` event to this endpoint now, whatever its filter, and return the
    delivery with the first attempt's outcome. A failed test is retried like any event.
    A disabled endpoint is refused (EndpointDisabled)."""
    _require_active(endpoint)
    with transaction.atomic():
        (delivery,) = _write_deliveries(
            project=endpoint.project,
            batch=[(events.WEBHOOK_TEST, events.webhook_test(endpoint), [endpoint])],
            enqueue=False,  # attempted right here; the sweeper takes over if that fails
        )
    delivery_attempts.attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


# --- Deliveries --------------------------------------------------------------------------------


@transaction.atomic
def delivery_retry(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again, with the same event id, and retry it for another 24 h if needed.
    A pending delivery is simply made due now. A disabled endpoint is refused (EndpointDisabled)."""
    _require_active(delivery.endpoint)
    now = timezone.now()
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = now
    delivery.give_up_at = now + delivery_attempts.RETRY_WINDOW
    delivery.save(update_fields=["status", "next_attempt_at", "give_up_at", "updated_at"])
    _enqueue_on_commit([delivery.pk])
    return delivery


def deliveries_sweep() -> int:
    """Queue every due delivery: retries whose time has come, and new deliveries whose queueing
    was lost. Queueing one twice is harmless: only one worker can claim an attempt."""
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if due:
        queueing.enqueue_delivery(due)
    return len(due)


def deliveries_cleanup(*, older_than: timedelta | None = None) -> int:
    """Delete finished deliveries (and their attempt logs) older than the retention period."""
    if older_than is None:
        older_than = timedelta(days=settings.WEBHOOKS_RETENTION_DAYS)
    old = WebhookDelivery.objects.filter(created_at__lt=timezone.now() - older_than).exclude(
        status=WebhookDelivery.Status.PENDING
    )
    deleted = 0
    while batch := list(old.values_list("pk", flat=True)[:CLEANUP_BATCH]):
        deleted += (
            WebhookDelivery.objects.filter(pk__in=batch)
            .delete()[1]
            .get(WebhookDelivery._meta.label, 0)
        )
    return deleted

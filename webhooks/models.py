import json
import uuid
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from projects.fields import EncryptedTextField
from projects.models import BaseModel, Project

from . import formats
from .signing import generate_secret


class WebhookEndpoint(BaseModel):
    """A customer URL that receives signed event notifications, in its format (`formats.py`)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True, default="")
    secret = EncryptedTextField(default=generate_secret, help_text="Signing secret (whsec_…).")
    # After a rotation the previous secret signs too, until it expires.
    previous_secret = EncryptedTextField(editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    event_types = models.JSONField(
        default=list,
        blank=True,
        help_text='Event types to send ("bot.*" for a whole family); empty means every type '
        "the endpoint's format carries.",
    )
    format = models.CharField(
        max_length=20,
        choices=formats.CHOICES,
        default=formats.STANDARD,
        help_text="The wire format of the deliveries: ours (Standard Webhooks) or a peer's.",
    )
    # A JSON object of header names and values (`formats.clean_static_headers`); the values
    # are often secrets, hence encrypted.
    static_headers = EncryptedTextField(help_text="Headers added to every delivery (JSON).")
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    failing_since = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="First failed attempt since the last success; after 5 days it is disabled.",
    )
    # Staff's allowance to reach private addresses, bound to the exact URL they approved: once
    # the URL changes it no longer applies (see `allow_private_addresses`).
    private_addresses_url = models.URLField(
        max_length=2000,
        blank=True,
        default="",
        editable=False,
        help_text="The URL staff allowed to reach private, loopback or link-local addresses.",
    )

    class Meta:
        indexes = [models.Index(fields=["project", "is_active"], name="webhookendpoint_active")]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.url

    def clean(self) -> None:
        """The rules the API applies, for the admin's form too: a list of known event types or
        families, which the endpoint's format carries."""
        from .events import EVENT_TYPE_FILTERS

        if not isinstance(self.event_types, list) or not all(
            isinstance(name, str) for name in self.event_types
        ):
            raise ValidationError({"event_types": 'A list of event types, e.g. ["bot.*"].'})
        unknown = sorted(set(self.event_types) - set(EVENT_TYPE_FILTERS))
        if unknown:
            raise ValidationError(
                {"event_types": f"Unknown event types: {', '.join(unknown)[:200]}."}
            )
        self.event_types = sorted(set(self.event_types))
        formats.check_event_types(self.format, self.event_types)

    @property
    def allow_private_addresses(self) -> bool:
        """Staff only: deliver even when the URL resolves to a private, loopback or link-local
        address (a receiver inside your own network). It covers the URL staff approved and
        nothing else: a changed URL, even to another private address, is refused until staff
        allow it again."""
        return bool(self.private_addresses_url) and self.private_addresses_url == self.url

    @allow_private_addresses.setter
    def allow_private_addresses(self, allowed: bool) -> None:
        self.private_addresses_url = self.url if allowed else ""

    def wants(self, event_type: str) -> bool:
        if not self.is_active or not formats.get(self.format).can_carry(event_type):
            return False
        if not self.event_types:
            return True
        family = event_type.split(".", 1)[0] + ".*"
        return event_type in self.event_types or family in self.event_types

    def get_static_headers(self) -> dict[str, str]:
        return json.loads(self.static_headers) if self.static_headers else {}

    def set_static_headers(self, headers: dict[str, str]) -> None:
        self.static_headers = json.dumps(headers) if headers else ""

    @property
    def static_header_names(self) -> list[str]:
        return sorted(self.get_static_headers())

    @property
    def receiver_secret(self) -> str:
        """The signing secret as the receivers of this endpoint's format paste it."""
        return formats.get(self.format).receiver_secret(self.secret)

    def signing_secrets(self, at: datetime) -> list[str]:
        secrets = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and self.previous_secret_expires_at > at
        ):
            secrets.append(self.previous_secret)
        return secrets


class WebhookDelivery(BaseModel):
    """One event for one endpoint (the outbox row), with the outcome of its latest attempt.

    A pending delivery is due at `next_attempt_at`. A worker claims an attempt by moving
    `next_attempt_at` a lease ahead and counting the attempt in one conditional UPDATE; the
    attempt number then fences the outcome it writes.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(
        default=uuid.uuid4, help_text="Idempotency key sent to the receiver (webhook-id)."
    )
    event_type = models.CharField(max_length=100)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    give_up_at = models.DateTimeField(
        null=True, blank=True, help_text="No retry is scheduled after this time."
    )
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="delivery_once_per_event")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["project", "-created_at"], name="delivery_project_created"),
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_created"),
            models.Index(fields=["created_at"], name="delivery_created"),
        ]
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: the delivery log."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded"
        RETRYING = "retrying", "failed, will retry"
        FAILED = "failed", "failed, final"

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    url = models.URLField(max_length=2000)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="", help_text="The start of the body.")
    error = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_number_once")
        ]
        # The admin's overview (attempts of the last 24 h) and the newest-first attempt list.
        indexes = [models.Index(fields=["started_at"], name="attempt_started")]
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.get_outcome_display()}"

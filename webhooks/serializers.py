from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import StrictSerializer

from . import events, formats
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

MAX_ROTATION_OVERLAP_SECONDS = 7 * 24 * 3600


FORMAT_HELP = (
    "The wire format: `standard` (Standard Webhooks: our envelope, `webhook-*`/`svix-*` "
    "signature headers, every event type), `meetingbaas_v1` (Meeting BaaS v1's "
    "`{event, data}`, `calendar.sync_events` only, unsigned: add the header v1 echoes to "
    "`static_headers`) or `attendee` (Attendee's envelope and `X-Webhook-Signature`, the "
    "`calendar.events_update` and `calendar.state_change` triggers). `webhook.test` reaches "
    "every format."
)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    allow_private_addresses = serializers.BooleanField(
        read_only=True,
        help_text="Staff allowed this exact URL to reach a private address (set in the admin). "
        "Changing the URL ends the allowance.",
    )
    format = serializers.ChoiceField(choices=formats.CHOICES, read_only=True, help_text=FORMAT_HELP)
    static_header_names = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The names of the static headers; their values are never shown.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "format",
            "static_header_names",
            "is_active",
            "disabled_reason",
            "disabled_at",
            "failing_since",
            "allow_private_addresses",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        source="receiver_secret",
        read_only=True,
        help_text="The signing secret, as the endpoint's receivers use it: `whsec_...` for "
        "Standard Webhooks, the plain base64 key (no `whsec_`) for Attendee, whose receivers "
        "base64-decode it. Shown once: store it now.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class StringField(serializers.CharField):
    """A JSON string only: a number is refused rather than turned into one."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


SECRET_HELP = (
    "Optional: the secret the receiver already verifies with (`whsec_<base64>`, or the plain "
    "base64 secret Attendee's dashboard shows), 24 to 64 bytes once decoded, so the receiver "
    "keeps working unchanged."
)


class WebhookEndpointInputSerializer(StrictSerializer):
    # The endpoint's read-only keys, so an endpoint read with GET can be sent back with PUT.
    ignored_fields = tuple(WebhookEndpointSerializer.Meta.read_only_fields)

    url = serializers.URLField(max_length=2000)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=events.EVENT_TYPE_FILTERS),
        required=False,
        max_length=len(events.EVENT_TYPE_FILTERS),
        help_text='Event types to receive, or families such as "bot.*"; empty: every type the '
        "format carries.",
    )
    is_active = serializers.BooleanField(required=False)
    format = serializers.ChoiceField(choices=formats.CHOICES, required=False, help_text=FORMAT_HELP)
    static_headers = serializers.DictField(
        child=StringField(trim_whitespace=False, allow_blank=True),
        required=False,
        write_only=True,
        help_text='Headers sent with every delivery, e.g. `{"x-meeting-baas-api-key": '
        '"..."}` for a Meeting BaaS v1 receiver. Write-only: responses show only '
        "`static_header_names`. Replaces the endpoint's static headers; `{}` removes them. At "
        f"most {formats.MAX_STATIC_HEADERS}; printable ASCII values; the headers the service "
        "sets (Content-Type, Host, User-Agent, signatures) cannot be replaced.",
    )

    def validate_event_types(self, value: list[str]) -> list[str]:
        return sorted(set(value))


class WebhookEndpointCreateSerializer(WebhookEndpointInputSerializer):
    secret = serializers.CharField(
        max_length=200, required=False, write_only=True, help_text=SECRET_HELP
    )


class RotateSecretInputSerializer(StrictSerializer):
    overlap_seconds = serializers.IntegerField(
        min_value=0,
        max_value=MAX_ROTATION_OVERLAP_SECONDS,
        default=24 * 3600,
        help_text="How long the old secret keeps signing beside the new one (default 24 h; "
        "Standard Webhooks only).",
    )
    secret = serializers.CharField(
        max_length=200, required=False, write_only=True, help_text=SECRET_HELP
    )


class WebhookEventSerializer(serializers.Serializer):
    """The body of every delivery (see `GET /api/v1/webhooks/event_types/` for each `data`)."""

    id = serializers.UUIDField(help_text="The event id; also the webhook-id header.")
    event = serializers.ChoiceField(choices=list(events.CATALOGUE))
    timestamp = serializers.DateTimeField()
    data = serializers.DictField()


RESPONSE_EXCERPT_CHARS = 200
RESPONSE_EXCERPT_HELP = (
    f"The start of the receiver's answer (at most {RESPONSE_EXCERPT_CHARS} characters), for "
    "debugging; never the whole body."
)


class ResponseExcerptMixin(serializers.Serializer):
    """What the API shows of a receiver's answer: a short excerpt, labelled as one, so the
    webhook API cannot be used to read whole pages from the hosts it reaches."""

    response_excerpt = serializers.SerializerMethodField(help_text=RESPONSE_EXCERPT_HELP)
    response_truncated = serializers.SerializerMethodField(
        help_text="True when the answer was longer than the excerpt."
    )

    def get_response_excerpt(self, obj) -> str:
        return obj.response_body[:RESPONSE_EXCERPT_CHARS]

    def get_response_truncated(self, obj) -> bool:
        return len(obj.response_body) > RESPONSE_EXCERPT_CHARS


class WebhookAttemptSerializer(ResponseExcerptMixin, serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "started_at",
            "duration_ms",
            "url",
            "outcome",
            "response_status",
            "response_excerpt",
            "response_truncated",
            "error",
        ]
        read_only_fields = fields


class WebhookDeliverySerializer(ResponseExcerptMixin, serializers.ModelSerializer):
    payload = serializers.SerializerMethodField()
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempt_count",
            "next_attempt_at",
            "give_up_at",
            "last_attempt_at",
            "response_status",
            "response_excerpt",
            "response_truncated",
            "error",
            "delivered_at",
            "created_at",
            "payload",
            "attempts",
        ]
        read_only_fields = fields

    @extend_schema_field(WebhookEventSerializer)
    def get_payload(self, delivery: WebhookDelivery) -> dict:
        return delivery.payload


class EventTypeSerializer(serializers.Serializer):
    type = serializers.CharField(source="name")
    description = serializers.CharField()
    example = serializers.SerializerMethodField()

    @extend_schema_field(WebhookEventSerializer)
    def get_example(self, event_type: events.EventType) -> dict:
        return events.envelope(
            event_id="d5b1c1f0-8f7e-4c2b-9a37-6f1f2b3c4d5e",
            event_type=event_type.name,
            data=event_type.example,
            at=events.EXAMPLE_TIME,
        )

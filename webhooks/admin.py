from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from projects.admin_utils import BigTableAdmin, masked_secret, with_zone

from . import formats, services
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class EndpointHealthFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [
            ("auto_disabled", "Disabled after failures"),
            ("failing", "Failing"),
            ("healthy", "Healthy"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "auto_disabled":
            return queryset.filter(is_active=False).exclude(disabled_reason="")
        if self.value() == "failing":
            return queryset.filter(is_active=True, failing_since__isnull=False)
        if self.value() == "healthy":
            return queryset.filter(is_active=True, failing_since__isnull=True)
        return queryset


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")
    # Left out of a post, the endpoint keeps its format (a new one gets the default).
    format = forms.ChoiceField(
        choices=formats.CHOICES,
        required=False,
        help_text="The wire format of the deliveries. Static headers are set through the API.",
    )
    allow_private_addresses = forms.BooleanField(
        required=False,
        help_text="Deliver even when this URL resolves to a private, loopback or link-local "
        "address (a receiver inside your own network). Covers this exact URL only: when the "
        "URL changes, the allowance ends.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["project", "url", "description", "event_types", "format", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("allow_private_addresses", self.instance.allow_private_addresses)

    def save(self, commit=True):
        # Bound to the URL as saved now: ticked, staff approve exactly this URL.
        self.instance.allow_private_addresses = self.cleaned_data["allow_private_addresses"]
        return super().save(commit)

    def clean_format(self) -> str:
        return self.cleaned_data["format"] or self.instance.format

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("url") and {"url", "allow_private_addresses"} & set(self.changed_data):
            try:
                services.validate_endpoint_url(
                    cleaned["url"], allow_private=cleaned.get("allow_private_addresses", False)
                )
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = [
        "url",
        "project",
        "format",
        "health",
        "failing",
        "disabled_reason",
        "created",
    ]
    ordering = ["-created_at"]
    list_filter = [
        EndpointHealthFilter,
        "format",
        "is_active",
        ("private_addresses_url", admin.EmptyFieldListFilter),
        "project",
    ]
    list_select_related = ["project"]
    search_fields = ["url", "=id", "description", "project__name"]
    raw_id_fields = ["project"]
    secret_masked = masked_secret("secret")
    fields = [
        "project",
        "url",
        "description",
        "event_types",
        "format",
        "static_headers_masked",
        "is_active",
        "allow_private_addresses",
        "disabled_reason",
        "disabled_at",
        "failing_since",
        "secret_masked",
        "previous_secret_expires_at",
        "id",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "static_headers_masked",
        "disabled_reason",
        "disabled_at",
        "failing_since",
        "secret_masked",
        "previous_secret_expires_at",
        "id",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="health")
    def health(self, endpoint: WebhookEndpoint) -> str:
        if not endpoint.is_active:
            return "disabled"
        return "failing" if endpoint.failing_since else "healthy"

    @admin.display(description="failing since", ordering="failing_since")
    def failing(self, endpoint: WebhookEndpoint) -> str:
        return with_zone(endpoint.failing_since) if endpoint.failing_since else ""

    @admin.display(description="created", ordering="created_at")
    def created(self, endpoint: WebhookEndpoint) -> str:
        return with_zone(endpoint.created_at)

    @admin.display(description="static headers")
    def static_headers_masked(self, endpoint: WebhookEndpoint) -> str:
        """The names only: the values are secrets (set through the API)."""
        names = endpoint.static_header_names
        return ", ".join(f"{name}: ••••••••" for name in names) if names else "— (none)"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        endpoint = self.get_object(request, object_id)
        if endpoint is not None and request.method == "GET":
            if not endpoint.is_active and endpoint.disabled_reason:
                messages.warning(request, endpoint.disabled_reason)
            elif endpoint.failing_since:
                messages.warning(
                    request,
                    f"Every delivery has failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC;"
                    " the endpoint is disabled after 5 days.",
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change and "is_active" in form.changed_data and obj.is_active:
            obj.disabled_reason = ""
            obj.disabled_at = None
            obj.failing_since = None
        super().save_model(request, obj, form, change)
        if change and form.initial.get("format") != obj.format:
            services.deliveries_fail_uncarried(endpoint=obj)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["number", "started_at", "duration_ms", "outcome", "response_status", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(BigTableAdmin):
    list_display = [
        "event_type",
        "status",
        "attempt_count",
        "response_status",
        "next_attempt",
        "endpoint",
        "created",
        "id",
    ]
    ordering = ["-created_at"]
    list_filter = ["status", "event_type", "endpoint__format", "project"]
    list_select_related = ["endpoint", "project"]
    search_fields = ["=id", "=event_id", "=endpoint__id", "endpoint__url"]
    raw_id_fields = ["project", "endpoint"]
    readonly_fields = [
        "id",
        "project",
        "endpoint",
        "event_id",
        "event_type",
        "payload",
        "status",
        "attempt_count",
        "next_attempt_at",
        "give_up_at",
        "last_attempt_at",
        "response_status",
        "response_body",
        "error",
        "delivered_at",
        "created_at",
        "updated_at",
    ]
    inlines = [WebhookAttemptInline]
    actions = ["retry"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="next attempt", ordering="next_attempt_at")
    def next_attempt(self, delivery: WebhookDelivery) -> str:
        return with_zone(delivery.next_attempt_at) if delivery.next_attempt_at else ""

    @admin.display(description="created", ordering="created_at")
    def created(self, delivery: WebhookDelivery) -> str:
        return with_zone(delivery.created_at)

    @admin.action(description="Deliver selected again (same event id)")
    def retry(self, request, queryset):
        """Through the API's retry (webhooks/services.py: delivery_retry); each is audited."""
        count = skipped = 0
        for delivery in queryset.select_related("endpoint"):
            if not delivery.endpoint.is_active:
                skipped += 1
                continue
            services.delivery_retry(delivery=delivery)
            self.log_change(
                request, delivery, "Delivery retried in the admin (same event id, due now)."
            )
            count += 1
        text = f"{count} delivery(ies) queued again."
        if skipped:
            text += f" {skipped} of disabled endpoints skipped: enable the endpoint first."
        messages.success(request, text)


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(BigTableAdmin):
    list_display = ["delivery", "number", "outcome", "response_status", "duration_ms", "started"]
    list_filter = ["outcome"]
    ordering = ["-started_at"]
    list_select_related = ["delivery"]
    search_fields = ["=delivery__id", "=delivery__event_id"]
    readonly_fields = [
        "delivery",
        "number",
        "started_at",
        "duration_ms",
        "url",
        "outcome",
        "response_status",
        "response_body",
        "error",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="started", ordering="started_at")
    def started(self, attempt: WebhookAttempt) -> str:
        return with_zone(attempt.started_at)

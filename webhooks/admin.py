from django import forms
from django.contrib import admin
from django.db import models

from projects.admin_utils import BigTableAdmin, masked_secret

from .models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "project", "is_active", "created_at"]
    list_filter = ["is_active", "project"]
    list_select_related = ["project"]
    search_fields = ["url", "=id", "description"]
    raw_id_fields = ["project"]
    readonly_fields = ["id", "created_at", "updated_at", masked_secret("secret")]
    formfield_overrides = {
        models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"}
    }


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(BigTableAdmin):
    list_display = [
        "event_type",
        "status",
        "attempt_count",
        "response_status",
        "endpoint",
        "created_at",
    ]
    list_filter = ["status", "event_type", "project"]
    list_select_related = ["endpoint", "project"]
    search_fields = ["=id", "=event_id", "endpoint__url"]
    raw_id_fields = ["project", "endpoint"]
    readonly_fields = ["id", "created_at", "updated_at"]

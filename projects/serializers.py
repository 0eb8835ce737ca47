from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from bots.backends import BACKENDS, validate_bot_config
from calendars.models import OAuthApp
from calendars.platforms import Platform
from config.api.schema import JsonObjectField
from config.api.serializers import StrictModelSerializer, StrictSerializer

from .models import ApiKey, Project
from .validators import normalize_origins


class OriginListField(serializers.ListField):
    child = serializers.CharField(max_length=300)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        try:
            return normalize_origins(values)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class ProjectSerializer(StrictModelSerializer):
    allowed_redirect_origins = OriginListField(required=False, max_length=50)
    cors_allowed_origins = OriginListField(required=False, max_length=50)
    bot_dispatch_backend = serializers.ChoiceField(choices=sorted(BACKENDS), required=False)
    bot_config = JsonObjectField(
        required=False,
        help_text="A JSON object sent with every bot (merged under an event's own); it must fit "
        "the dispatch backend (see the README).",
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "allowed_redirect_origins",
            "cors_allowed_origins",
            "bot_name",
            "bot_join_lead_seconds",
            "bot_deduplication",
            "bot_dispatch_backend",
            "bot_config",
            "sync_days_past",
            "sync_days_future",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {
            "bot_join_lead_seconds": {"max_value": 3600},
            "sync_days_past": {"max_value": 60},
            "sync_days_future": {"min_value": 1, "max_value": 365},
        }

    def validate(self, attrs):
        if "bot_config" in attrs or "bot_dispatch_backend" in attrs:
            project = self.instance
            try:
                validate_bot_config(
                    attrs.get("bot_config", project.bot_config if project else {}),
                    backend=attrs.get(
                        "bot_dispatch_backend", project.bot_dispatch_backend if project else "local"
                    ),
                )
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"bot_config": exc.messages}) from None
        return attrs


class ApiKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class OAuthAppSerializer(StrictModelSerializer):
    client_secret = serializers.CharField(
        write_only=True, required=False, max_length=2000, help_text="Write-only."
    )
    client_secret_set = serializers.SerializerMethodField()

    class Meta:
        model = OAuthApp
        fields = [
            "platform",
            "client_id",
            "client_secret",
            "client_secret_set",
            "tenant",
            "updated_at",
        ]
        read_only_fields = ["platform", "updated_at"]

    def get_client_secret_set(self, app: OAuthApp) -> bool:
        return bool(app.client_secret)


PLATFORM_VALUES = [choice.value for choice in Platform]

from datetime import datetime

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import StrictSerializer
from webhooks.events import iso

from .models import Bot


class CalendarUserRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    external_id = serializers.CharField()


class CalendarMeetingRefSerializer(serializers.Serializer):
    """Recall's `calendar_meetings` item: one calendar meeting this bot serves."""

    id = serializers.UUIDField()
    start_time = serializers.DateTimeField()
    end_time = serializers.DateTimeField()
    calendar_user = CalendarUserRefSerializer(
        source="calendar.calendar_user",
        allow_null=True,
        help_text="Null for a calendar connected through the server API without a user.",
    )


class StatusChangeSerializer(serializers.Serializer):
    code = serializers.CharField()
    sub_code = serializers.CharField(allow_null=True)
    message = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, change: dict) -> dict:
        return {
            "code": change.get("code"),
            "sub_code": change.get("sub_code"),
            "message": change.get("message") or None,
            "created_at": iso(datetime.fromisoformat(change["created_at"])),
        }


class BackendStateSerializer(serializers.Serializer):
    name = serializers.CharField(source="backend", help_text="The dispatch backend.")
    bot_id = serializers.SerializerMethodField(
        help_text="The backend's id for this bot; null until handed over."
    )
    synced_at = serializers.DateTimeField(
        source="backend_synced_at", allow_null=True, help_text="Last successful hand-over."
    )
    error = serializers.CharField(
        source="backend_error", help_text="Why the last hand-over failed; empty when it did not."
    )
    retry_at = serializers.DateTimeField(source="backend_retry_at", allow_null=True)

    # Null rather than "": an empty id would read as a path segment to clients that follow it.
    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_bot_id(self, bot) -> str | None:
        return bot.backend_bot_id or None


class BotSerializer(serializers.ModelSerializer):
    bot_name = serializers.CharField(source="name")
    calendar_meetings = CalendarMeetingRefSerializer(source="meetings", many=True)
    status_changes = StatusChangeSerializer(many=True)
    backend = BackendStateSerializer(source="*")

    class Meta:
        model = Bot
        fields = [
            "id",
            "bot_name",
            "meeting_url",
            "meeting_platform",
            "join_at",
            "status",
            "status_changes",
            "calendar_meetings",
            "metadata",
            "deduplication_key",
            "dispatched_at",
            "backend",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class BotFilterSerializer(serializers.Serializer):
    status = serializers.CharField(
        required=False, help_text="A status, or several separated by commas."
    )
    join_at_after = serializers.DateTimeField(
        required=False, help_text="Bots joining at or after this time."
    )
    join_at_before = serializers.DateTimeField(
        required=False, help_text="Bots joining before this time."
    )
    calendar_user_external_id = serializers.CharField(
        required=False,
        max_length=255,
        trim_whitespace=False,
        help_text="Bots serving a meeting of this calendar user (exact match).",
    )
    meeting_id = serializers.UUIDField(
        required=False, help_text="Bots serving this calendar meeting."
    )
    deduplication_key = serializers.CharField(required=False, max_length=2000)

    def validate_status(self, value: str) -> list[str]:
        statuses = [part.strip() for part in value.split(",") if part.strip()]
        unknown = sorted(set(statuses) - set(Bot.Status.values))
        if unknown or not statuses:
            raise serializers.ValidationError(
                f"Unknown status {', '.join(unknown) or value!r}; use: "
                f"{', '.join(Bot.Status.values)}."
            )
        return statuses


class BotStatusReportSerializer(StrictSerializer):
    code = serializers.CharField(
        max_length=64,
        help_text=f"The bot's new status, one of: {', '.join(Bot.REPORTABLE_STATUSES)}.",
    )
    sub_code = serializers.CharField(
        max_length=100, required=False, allow_null=True, allow_blank=True, default=None
    )
    message = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    def validate_sub_code(self, value: str | None) -> str | None:
        return value or None

"""Server API wire format (Attendee / Meeting BaaS / Aitronos style). Shapes only, no rules."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bots import backends as bot_backends
from bots.backends import attendee as attendee_backend
from bots.serializers import BotSerializer, CalendarUserRefSerializer
from calendars.models import Calendar, CalendarUser
from calendars.platforms import Platform
from calendars.recall_v1.serializers import AttendeeSerializer, ExternalIdField
from config.api.serializers import StrictSerializer
from meetings.models import BotSchedule, Meeting
from projects.validators import JsonObjectValidator

METADATA_MAX_BYTES = 8192
BOT_CONFIG_MAX_BYTES = bot_backends.BOT_CONFIG_MAX_BYTES


def _json_object(max_bytes: int, help_text: str):
    return serializers.JSONField(
        required=False, validators=[JsonObjectValidator(max_bytes)], help_text=help_text
    )


# --- calendars ---------------------------------------------------------------------------------


class CalendarCreateSerializer(StrictSerializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    client_id = serializers.CharField(max_length=255, help_text="Your OAuth client id.")
    client_secret = serializers.CharField(
        max_length=2000, write_only=True, help_text="Your OAuth client secret. Never returned."
    )
    refresh_token = serializers.CharField(
        max_length=4000, write_only=True, help_text="The user's refresh token. Never returned."
    )
    platform_uuid = serializers.CharField(
        max_length=1024,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Provider calendar id (see POST /calendars/raw/); the primary when absent.",
    )
    metadata = _json_object(METADATA_MAX_BYTES, "Your data, echoed back (at most 8 KB).")
    deduplication_key = serializers.CharField(
        max_length=2000,
        required=False,
        allow_null=True,
        help_text="Unique within the project: a second create with it is a 400 "
        "`deduplication_key_conflict` (`errors.deduplication_key`, `errors.existing_id`).",
    )
    external_id = ExternalIdField(
        required=False,
        help_text="Attach the calendar to this calendar user (created on first use; matched "
        "exactly).",
    )


class CalendarUpdateSerializer(StrictSerializer):
    client_secret = serializers.CharField(max_length=2000, required=False, write_only=True)
    refresh_token = serializers.CharField(max_length=4000, required=False, write_only=True)
    metadata = _json_object(METADATA_MAX_BYTES, "Replaces the calendar's metadata.")


class CalendarSerializer(serializers.ModelSerializer):
    client_id = serializers.CharField(source="oauth_client_id")
    platform_uuid = serializers.SerializerMethodField()
    calendar_user = CalendarUserRefSerializer(allow_null=True)
    # Not `format: email`: "" until the provider has told us the account's address.
    email = serializers.CharField(
        help_text="The connected account's email; empty until the first sync learns it."
    )

    class Meta:
        model = Calendar
        fields = [
            "id",
            "platform",
            "client_id",
            "platform_uuid",
            "state",
            "metadata",
            "deduplication_key",
            "connection_failure_data",
            "created_at",
            "updated_at",
            "last_successful_sync_at",
            "last_attempted_sync_at",
            "email",
            "calendar_user",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "state": {
                "help_text": "`connected` or `disconnected` (Attendee's values), and "
                "`connecting`: created or given new credentials, until the first sync with "
                "them makes it `connected` or `disconnected`. Not reported as `connected`: "
                "nothing has been checked yet. A client that tests for `disconnected` (the "
                "state Attendee signals) is unaffected."
            }
        }

    def get_platform_uuid(self, calendar: Calendar) -> str | None:
        return calendar.platform_calendar_id or None


class CalendarFilterSerializer(StrictSerializer):
    state = serializers.ChoiceField(choices=Calendar.State.choices, required=False)
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)
    deduplication_key = serializers.CharField(max_length=2000, required=False)
    external_id = serializers.CharField(
        max_length=255,
        required=False,
        trim_whitespace=False,
        help_text="Calendars of this calendar user (exact match).",
    )
    created_at_gte = serializers.DateTimeField(required=False)
    created_at_lte = serializers.DateTimeField(required=False)
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)


class RawCalendarsRequestSerializer(StrictSerializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    client_id = serializers.CharField(max_length=255)
    client_secret = serializers.CharField(max_length=2000, write_only=True)
    refresh_token = serializers.CharField(max_length=4000, write_only=True)


class RawCalendarSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Pass as `platform_uuid` to connect this calendar.")
    name = serializers.CharField()
    email = serializers.CharField()
    is_primary = serializers.BooleanField()
    access_role = serializers.CharField(help_text="owner, writer, reader or freeBusyReader.")


class RawCalendarsSerializer(serializers.Serializer):
    calendars = RawCalendarSerializer(many=True)


class ResyncAllQuerySerializer(StrictSerializer):
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=365,
        help_text="Accepted for Meeting BaaS clients; the window synced is the project's "
        "sync horizon (sync_days_past / sync_days_future).",
    )


class ResyncAllSerializer(serializers.Serializer):
    synced_calendars = serializers.ListField(child=serializers.UUIDField())
    errors = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        help_text="[calendar id, message] per calendar that failed.",
    )

    def to_representation(self, summary) -> dict:
        return {
            "synced_calendars": [str(pk) for pk in summary.synced_calendars],
            "errors": [[str(pk), message] for pk, message in summary.errors],
        }


class SyncSummarySerializer(serializers.Serializer):
    synced_calendars = serializers.IntegerField()
    new_events = serializers.IntegerField()
    updated_events = serializers.IntegerField(help_text="Changed or deleted events.")
    errors = serializers.ListField(child=serializers.CharField())

    def to_representation(self, summary) -> dict:
        return {
            "synced_calendars": len(summary.synced_calendars),
            "new_events": summary.new_events,
            "updated_events": summary.updated_events,
            "errors": [f"{calendar_id}: {message}" for calendar_id, message in summary.errors],
        }


# --- calendar events ---------------------------------------------------------------------------

ORDERINGS = ["start_time", "end_time", "updated_at", "created_at"]


class EventFilterSerializer(StrictSerializer):
    event_id = serializers.UUIDField(
        required=False,
        help_text="This event only (Attendee's single-event lookup): an empty list when no "
        "event of the project has this id. `status` defaults to `all` with it.",
    )
    calendar_id = serializers.UUIDField(required=False)
    calendar_deduplication_key = serializers.CharField(max_length=2000, required=False)
    updated_at_gte = serializers.DateTimeField(
        required=False,
        help_text="The change feed: events changed at or after this time, oldest change first "
        "(see the README: rows of the last few seconds appear on the next poll).",
    )
    updated_after = serializers.DateTimeField(required=False, help_text="Alias of updated_at_gte.")
    start_time_gte = serializers.DateTimeField(required=False)
    start_date_gte = serializers.DateTimeField(required=False, help_text="Alias.")
    start_time_lte = serializers.DateTimeField(required=False)
    start_date_lte = serializers.DateTimeField(required=False, help_text="Alias.")
    end_time_lte = serializers.DateTimeField(required=False)
    organizer_email = serializers.CharField(max_length=320, required=False)
    attendee_email = serializers.CharField(max_length=320, required=False)
    status = serializers.ChoiceField(
        choices=["upcoming", "past", "all"],
        required=False,
        help_text="upcoming (not ended; the default), past, or all. With updated_at_gte or "
        "event_id the default is all: a feed must see every change, a lookup its event.",
    )
    is_deleted = serializers.BooleanField(required=False, allow_null=True, default=None)
    ical_uid = serializers.CharField(max_length=1024, required=False)
    meeting_platform = serializers.CharField(max_length=40, required=False)
    ordering = serializers.ChoiceField(
        choices=[*ORDERINGS, *(f"-{o}" for o in ORDERINGS)],
        required=False,
        help_text="Default start_time; updated_at with updated_at_gte.",
    )
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)

    ALIASES = {
        "updated_after": "updated_at_gte",
        "start_date_gte": "start_time_gte",
        "start_date_lte": "start_time_lte",
    }

    def validate(self, data):
        for alias, name in self.ALIASES.items():
            if alias in data:
                value = data.pop(alias)
                if name in data and data[name] != value:
                    raise serializers.ValidationError(
                        {alias: [f"Conflicts with {name}; send one of them."]}
                    )
                data[name] = value
        data.pop("cursor", None)
        data.pop("page_size", None)
        return data


class BotScheduleSerializer(serializers.ModelSerializer):
    all_occurrences = serializers.SerializerMethodField()

    class Meta:
        model = BotSchedule
        fields = ["bot_name", "bot_config", "deduplication_key", "all_occurrences"]

    def get_all_occurrences(self, schedule: BotSchedule) -> bool:
        return schedule.meeting_id is None


class EventSerializer(serializers.ModelSerializer):
    platform_uuid = serializers.CharField(
        source="platform_event_id", help_text="The provider's event (instance) id."
    )
    name = serializers.CharField(source="title")
    attendees = AttendeeSerializer(many=True)
    is_organizer = serializers.BooleanField(source="is_hosted_by_me")
    recurring_event_id = serializers.SerializerMethodField()
    bot_schedule = serializers.SerializerMethodField()
    bots = BotSerializer(many=True, source="all_bots")

    class Meta:
        model = Meeting
        fields = [
            "id",
            "calendar_id",
            "platform_uuid",
            "name",
            "start_time",
            "end_time",
            "is_all_day",
            "status",
            "meeting_url",
            "meeting_platform",
            "meeting_invite",
            "organizer_email",
            "attendees",
            "is_organizer",
            "is_external",
            "is_recurring",
            "recurring_event_id",
            "ical_uid",
            "is_deleted",
            "will_record",
            "will_record_reason",
            "bot_schedule",
            "bots",
            "raw",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_recurring_event_id(self, meeting: Meeting) -> str | None:
        return meeting.series_id or None

    @extend_schema_field(BotScheduleSerializer(allow_null=True))
    def get_bot_schedule(self, meeting: Meeting) -> dict | None:
        schedule = getattr(meeting, "effective_schedule", None)
        if schedule is None or not schedule.enabled:
            return None
        return BotScheduleSerializer(schedule).data


class BotQuerySerializer(StrictSerializer):
    all_occurrences = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Recurring events: apply to every current and future instance of the series.",
    )


class _BotConfigSerializer(StrictSerializer):
    """`bot_config` must fit the project's dispatch backend (context `project`), as the
    project's own preset must."""

    def validate_bot_config(self, value: dict) -> dict:
        project = self.context.get("project")
        if project is not None:
            bot_backends.validate_bot_config(value, backend=project.bot_dispatch_backend)
        return value


class BotCreateSerializer(_BotConfigSerializer):
    bot_name = serializers.CharField(max_length=100)
    bot_config = _json_object(
        BOT_CONFIG_MAX_BYTES, "Sent to the bot backend with the bot (merged over the project's)."
    )
    deduplication_key = serializers.CharField(max_length=1900, required=False, allow_null=True)


# Attendee's bot settings, which its clients send at the top level of a bot create. They travel
# in `bot_config` (the attendee backend sends the keys of bot_config at the top level again).
ATTENDEE_BOT_SETTINGS = attendee_backend.BOT_SETTINGS

# Fields of Attendee's bot create that a bot for a calendar event does not take, and why.
NOT_WITH_EVENT = {
    "meeting_url": "Not accepted with calendar_event_id: the bot joins the calendar event's "
    "meeting URL.",
    "join_at": "Not accepted with calendar_event_id: the bot joins at the calendar event's "
    "start (minus the project's lead time) and follows its moves.",
    "metadata": "Not supported: bots of calendar events carry no metadata here (the bot's "
    "`calendar_meetings` name its events).",
}


class EventBotCreateSerializer(BotCreateSerializer):
    """Attendee's bot create (`POST /api/v1/bots`), for a calendar event."""

    calendar_event_id = serializers.UUIDField(
        help_text="The event (`GET /api/v1/calendar_events`) the bot is for: its meeting URL "
        "and start time are the bot's."
    )

    def get_fields(self):
        fields = super().get_fields()
        for name in ATTENDEE_BOT_SETTINGS:
            fields[name] = serializers.JSONField(
                required=False,
                allow_null=True,
                help_text=f"Attendee's `{name}`; stored in `bot_config`.",
            )
        return fields

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            # Attendee clients may send the fields they do not use as null: only a value is
            # refused.
            refused = {
                name: [message]
                for name, message in NOT_WITH_EVENT.items()
                if data.get(name) is not None
            }
            if refused:
                raise serializers.ValidationError(refused)
            data = {name: value for name, value in data.items() if name not in NOT_WITH_EVENT}
        return super().to_internal_value(data)

    def validate(self, data: dict) -> dict:
        settings = {
            name: value
            for name in ATTENDEE_BOT_SETTINGS
            if (value := data.pop(name, None)) is not None
        }
        config = data.get("bot_config") or {}
        twice = sorted(set(settings) & set(config))
        if twice:
            raise serializers.ValidationError(
                {name: ["Given twice, here and in bot_config: send one."] for name in twice}
            )
        if settings:
            try:
                data["bot_config"] = self.validate_bot_config({**config, **settings})
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"bot_config": exc.messages}) from None
        return data


class BotUpdateSerializer(_BotConfigSerializer):
    bot_name = serializers.CharField(max_length=100, required=False)
    bot_config = _json_object(BOT_CONFIG_MAX_BYTES, "Replaces the bot's config.")
    deduplication_key = serializers.CharField(max_length=1900, required=False, allow_null=True)


# --- calendar users ----------------------------------------------------------------------------


class CalendarRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Calendar
        fields = ["id", "platform", "email", "state"]


class ServerCalendarUserSerializer(serializers.ModelSerializer):
    calendars = CalendarRefSerializer(many=True)

    class Meta:
        model = CalendarUser
        fields = ["id", "external_id", "calendars", "created_at", "updated_at"]
        read_only_fields = fields

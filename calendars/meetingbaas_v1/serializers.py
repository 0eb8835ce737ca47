"""Meeting BaaS v1 wire format (its OpenAPI "Meeting BaaS API" 1.1, vendored in
tests/compat/meetingbaas/data/). Shapes and names only: every rule is the core's.

Component names carry a `MeetingBaas` prefix so none meets a server API component.
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bots import backends as bot_backends
from bots.params import (
    AUDIO_FREQUENCIES,
    PORTABLE_KEYS,
    PORTABLE_SCHEMA,
    RECORDING_MODES,
    SPEECH_TO_TEXT_PROVIDERS,
    portable_part,
)
from calendars.models import Calendar
from calendars.platforms import Platform
from calendars.server_api.serializers import ResyncAllQuerySerializer, ResyncAllSerializer
from config.api.serializers import StrictSerializer
from meetings.models import BotSchedule, Meeting

# Meeting BaaS' `Provider` names and ours.
PROVIDERS = {"Google": Platform.GOOGLE, "Microsoft": Platform.MICROSOFT}

# A calendar connected without a provider calendar id follows the account's primary calendar;
# without the account's address either (before its first sync) this stands for it.
PRIMARY_CALENDAR = "primary"


class EnumField(serializers.ChoiceField):
    """A choice of Meeting BaaS' enums, documented as one component of its own (its name in
    Meeting BaaS' OpenAPI, prefixed): the enum post-processing would otherwise pair it with the
    server API's enums of the same field name (`platform` is google|microsoft there)."""

    def __init__(self, choices, *, component: str, **kwargs):
        self.component = component
        super().__init__(choices=list(choices), **kwargs)


class EnumFieldSchema(OpenApiSerializerFieldExtension):
    target_class = EnumField

    def get_name(self) -> str:
        return self.target.component

    def map_serializer_field(self, auto_schema, direction) -> dict:
        return {"type": "string", "enum": list(self.target.choices)}


def _about(key: str) -> str:
    """The portable setting's own description (bots/params.py), so both surfaces say the same."""
    return PORTABLE_SCHEMA["properties"][key].get("description", "")


# --- calendars ---------------------------------------------------------------------------------


class _OAuthParams(StrictSerializer):
    oauth_client_id = serializers.CharField(max_length=255, help_text="Your OAuth client id.")
    oauth_client_secret = serializers.CharField(
        max_length=2000, help_text="Your OAuth client secret. Never returned."
    )
    oauth_refresh_token = serializers.CharField(
        max_length=4000, help_text="The user's refresh token. Never returned."
    )
    platform = EnumField(PROVIDERS, component="MeetingBaasProvider")

    def validate(self, data: dict) -> dict:
        """The services' names for the credentials."""
        return {
            "platform": PROVIDERS[data["platform"]],
            "client_id": data["oauth_client_id"],
            "client_secret": data["oauth_client_secret"],
            "refresh_token": data["oauth_refresh_token"],
        }


class MeetingBaasListRawCalendarsParamsSerializer(_OAuthParams):
    pass


class MeetingBaasCreateCalendarParamsSerializer(_OAuthParams):
    raw_calendar_id = serializers.CharField(
        max_length=1024,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="An `id` from POST /calendars/raw; the account's primary calendar when absent.",
    )

    def validate(self, data: dict) -> dict:
        return {
            **super().validate(data),
            "platform_calendar_id": data.get("raw_calendar_id") or "",
        }


class MeetingBaasUpdateCalendarParamsSerializer(_OAuthParams):
    pass


class MeetingBaasCalendarListEntrySerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Pass as `raw_calendar_id` to connect this calendar.")
    email = serializers.CharField()
    is_primary = serializers.BooleanField()


class MeetingBaasListRawCalendarsResponseSerializer(serializers.Serializer):
    calendars = MeetingBaasCalendarListEntrySerializer(many=True)


class MeetingBaasCalendarSerializer(serializers.ModelSerializer):
    uuid = serializers.UUIDField(source="id")
    name = serializers.SerializerMethodField(
        help_text="The account's address (the provider's calendar names are not stored)."
    )
    email = serializers.CharField(
        help_text="The connected account's email; empty until the first sync learns it."
    )
    google_id = serializers.SerializerMethodField(
        help_text="The provider's calendar id, whatever the provider. The primary calendar, "
        "connected without one: the account's address (Google's id of it), or `primary` "
        "until the first sync learns the address."
    )
    resource_id = serializers.SerializerMethodField(
        help_text="The provider push channel (Google watch channel id, Microsoft Graph "
        "subscription id); null while there is none."
    )

    class Meta:
        model = Calendar
        fields = ["uuid", "name", "email", "google_id", "resource_id"]
        read_only_fields = fields

    def get_google_id(self, calendar: Calendar) -> str:
        return calendar.platform_calendar_id or calendar.email or PRIMARY_CALENDAR

    def get_name(self, calendar: Calendar) -> str:
        return calendar.email or self.get_google_id(calendar)

    def get_resource_id(self, calendar: Calendar) -> str | None:
        return calendar.push_channel_id or None


class MeetingBaasCreateCalendarResponseSerializer(serializers.Serializer):
    calendar = MeetingBaasCalendarSerializer()


class MeetingBaasResyncAllQuerySerializer(ResyncAllQuerySerializer):
    """The server API's: Meeting BaaS' `days`, accepted; the window is the sync horizon."""


class MeetingBaasResyncAllCalendarsResponseSerializer(ResyncAllSerializer):
    """The server API's answer, which is Meeting BaaS' shape (named for its components)."""


# --- events and their bots ---------------------------------------------------------------------


class MeetingBaasAttendeeSerializer(serializers.Serializer):
    email = serializers.CharField()
    name = serializers.CharField(allow_null=True)


class MeetingBaasBotParamSerializer(serializers.Serializer):
    """The bot scheduled for an event, in Meeting BaaS' stored form (`BotParam`): the settings
    as sent, with `speech_to_text` as `speech_to_text_provider` / `speech_to_text_api_key`."""

    bot_name = serializers.CharField()
    deduplication_key = serializers.CharField(allow_null=True)
    bot_image = serializers.CharField(
        allow_null=True, help_text="Null also when the image is a bot backend's own object."
    )
    enter_message = serializers.CharField(allow_null=True)
    extra = serializers.JSONField(allow_null=True)
    noone_joined_timeout = serializers.IntegerField(allow_null=True)
    waiting_room_timeout = serializers.IntegerField(allow_null=True)
    silence_timeout = serializers.IntegerField(allow_null=True)
    recording_mode = EnumField(
        RECORDING_MODES, component="MeetingBaasRecordingMode", allow_null=True
    )
    speech_to_text_provider = EnumField(
        SPEECH_TO_TEXT_PROVIDERS, component="MeetingBaasSpeechToTextProvider", allow_null=True
    )
    speech_to_text_api_key = serializers.CharField(allow_null=True)
    streaming_audio_frequency = EnumField(
        AUDIO_FREQUENCIES, component="MeetingBaasAudioFrequency", allow_null=True
    )
    streaming_input = serializers.CharField(allow_null=True)
    streaming_output = serializers.CharField(allow_null=True)
    transcription_custom_parameters = serializers.JSONField(allow_null=True)
    webhook_url = serializers.CharField(help_text="Empty when none was given.")
    zoom_sdk_id = serializers.CharField(allow_null=True)
    zoom_sdk_pwd = serializers.CharField(allow_null=True)
    zoom_obf_token = serializers.CharField(allow_null=True)
    zoom_obf_token_url = serializers.CharField(allow_null=True)
    zoom_obf_token_user_id = serializers.CharField(allow_null=True)
    zoom_access_token_url = serializers.CharField(allow_null=True)

    def to_representation(self, schedule: BotSchedule) -> dict:
        settings = portable_part(schedule.bot_config)
        speech = settings.pop("speech_to_text", None)
        if isinstance(speech, dict):
            provider, api_key = speech.get("provider"), speech.get("api_key")
        else:
            provider, api_key = speech, None
        stored = {
            name: value if _fits(field, value := settings.get(name)) else None
            for name, field in self.fields.items()
        }
        stored.update(
            bot_name=schedule.bot_name,
            deduplication_key=schedule.deduplication_key,
            speech_to_text_provider=provider,
            speech_to_text_api_key=api_key,
            # Meeting BaaS' stored form always has a string here.
            webhook_url=settings.get("webhook_url") or "",
        )
        return super().to_representation(stored)


def _fits(field: serializers.Field, value) -> bool:
    """Whether a stored setting has the type Meeting BaaS' form gives it. One that does not (a
    backend's own image object; a row from before the portable settings were checked) reads
    as null rather than break the event."""
    if value is None or isinstance(field, serializers.JSONField):
        return True
    if isinstance(field, EnumField):
        return value in field.choices
    if isinstance(field, serializers.IntegerField):
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


class MeetingBaasEventSerializer(serializers.ModelSerializer):
    """One event instance. `bot_param` is the bot requested through the API for it (its own,
    or its series'), null when none is."""

    uuid = serializers.UUIDField(source="id")
    calendar_uuid = serializers.UUIDField(source="calendar_id")
    google_id = serializers.CharField(
        source="platform_event_id",
        help_text="The provider's id of this event instance (Google or Microsoft).",
    )
    name = serializers.CharField(source="title")
    meeting_url = serializers.SerializerMethodField(help_text="Empty when the event has none.")
    is_organizer = serializers.BooleanField(source="is_hosted_by_me")
    recurring_event_id = serializers.SerializerMethodField(
        help_text="The provider's id of the recurring series; null for a one-off event."
    )
    attendees = serializers.SerializerMethodField(
        help_text="Attendees with an email address (the provider's order)."
    )
    deleted = serializers.BooleanField(source="is_deleted")
    last_updated_at = serializers.DateTimeField(source="updated_at")
    raw = serializers.JSONField(help_text="The provider's event, as last synced.")
    bot_param = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = [
            "uuid",
            "calendar_uuid",
            "google_id",
            "name",
            "meeting_url",
            "start_time",
            "end_time",
            "is_organizer",
            "is_recurring",
            "recurring_event_id",
            "attendees",
            "deleted",
            "last_updated_at",
            "raw",
            "bot_param",
        ]
        read_only_fields = fields

    def get_meeting_url(self, meeting: Meeting) -> str:
        return meeting.meeting_url or ""

    def get_recurring_event_id(self, meeting: Meeting) -> str | None:
        return meeting.series_id or None

    @extend_schema_field(MeetingBaasAttendeeSerializer(many=True))
    def get_attendees(self, meeting: Meeting) -> list:
        return [
            {"email": attendee["email"], "name": attendee.get("name") or None}
            for attendee in meeting.attendees or []
            if isinstance(attendee, dict) and attendee.get("email")
        ]

    @extend_schema_field(MeetingBaasBotParamSerializer(allow_null=True))
    def get_bot_param(self, meeting: Meeting) -> dict | None:
        schedule = getattr(meeting, "effective_schedule", None)
        if schedule is None or not schedule.enabled:
            return None
        return MeetingBaasBotParamSerializer(schedule).data


class MeetingBaasListEventsQuerySerializer(StrictSerializer):
    calendar_id = serializers.UUIDField(help_text="The calendar's `uuid`.")
    attendee_email = serializers.CharField(max_length=320, required=False)
    organizer_email = serializers.CharField(max_length=320, required=False)
    start_date_gte = serializers.DateTimeField(required=False, help_text="ISO-8601.")
    start_date_lte = serializers.DateTimeField(required=False, help_text="ISO-8601.")
    updated_at_gte = serializers.DateTimeField(
        required=False,
        help_text="ISO-8601: events changed at or after this time, oldest change first (then "
        "the default status is all, so no change is missed).",
    )
    status = serializers.ChoiceField(
        choices=["upcoming", "past", "all"],
        required=False,
        help_text="upcoming (not ended; the default), past or all.",
    )
    cursor = serializers.CharField(required=False, help_text="The `next` of the previous page.")

    def validate(self, data: dict) -> dict:
        """`meetings.selectors.event_filter`'s names; the cursor is the paginator's."""
        data.pop("cursor", None)
        for ours, theirs in (
            ("start_time_gte", "start_date_gte"),
            ("start_time_lte", "start_date_lte"),
        ):
            if theirs in data:
                data[ours] = data.pop(theirs)
        return data


class MeetingBaasBotQuerySerializer(StrictSerializer):
    all_occurrences = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Recurring events: every current and future instance of the series.",
    )


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "enum": list(SPEECH_TO_TEXT_PROVIDERS)},
            {
                "type": "object",
                "properties": {
                    "provider": {"type": "string", "enum": list(SPEECH_TO_TEXT_PROVIDERS)},
                    "api_key": {"type": "string", "nullable": True},
                },
                "required": ["provider"],
                "additionalProperties": False,
            },
        ],
        "nullable": True,
    }
)
class SpeechToTextField(serializers.JSONField):
    """A provider name or {provider, api_key}; checked with the other portable settings."""


def _text(key: str):
    return serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        trim_whitespace=False,
        help_text=_about(key),
    )


def _seconds(key: str):
    return serializers.IntegerField(required=False, allow_null=True, help_text=_about(key))


def _object(key: str):
    return serializers.JSONField(required=False, allow_null=True, help_text=_about(key))


def _enum(key: str, choices, component: str):
    return EnumField(
        choices, component=component, required=False, allow_null=True, help_text=_about(key)
    )


class MeetingBaasBotParam2Serializer(StrictSerializer):
    """A bot for an event (`BotParam2`). `bot_name` and `deduplication_key` are the bot's own;
    every other key goes into its `bot_config` under its own name (the portable bot settings of
    bots/params.py), checked as the server API checks `bot_config`, and reaches the bot backend.
    `extra` may be left out here (Meeting BaaS requires it)."""

    bot_name = serializers.CharField(max_length=100)
    deduplication_key = serializers.CharField(
        max_length=1900,
        required=False,
        allow_null=True,
        help_text="Unique among the project's scheduled bots (`deduplication_key_conflict` "
        "otherwise).",
    )
    bot_image = _text("bot_image")
    enter_message = _text("enter_message")
    extra = _object("extra")
    noone_joined_timeout = _seconds("noone_joined_timeout")
    waiting_room_timeout = _seconds("waiting_room_timeout")
    silence_timeout = _seconds("silence_timeout")
    recording_mode = _enum("recording_mode", RECORDING_MODES, "MeetingBaasRecordingMode")
    speech_to_text = SpeechToTextField(
        required=False, allow_null=True, help_text=_about("speech_to_text")
    )
    streaming_audio_frequency = _enum(
        "streaming_audio_frequency", AUDIO_FREQUENCIES, "MeetingBaasAudioFrequency"
    )
    streaming_input = _text("streaming_input")
    streaming_output = _text("streaming_output")
    transcription_custom_parameters = _object("transcription_custom_parameters")
    webhook_url = _text("webhook_url")
    zoom_sdk_id = _text("zoom_sdk_id")
    zoom_sdk_pwd = _text("zoom_sdk_pwd")
    zoom_obf_token = _text("zoom_obf_token")
    zoom_obf_token_url = _text("zoom_obf_token_url")
    zoom_obf_token_user_id = _text("zoom_obf_token_user_id")
    zoom_access_token_url = _text("zoom_access_token_url")

    def validate(self, data: dict) -> dict:
        """The service's arguments: bot_name, deduplication_key and the whole bot_config."""
        config = {key: value for key, value in data.items() if key in PORTABLE_KEYS}
        return {
            "bot_name": data["bot_name"],
            "deduplication_key": data.get("deduplication_key"),
            "bot_config": self.checked(config),
        }

    def checked(self, config: dict) -> dict:
        """The bot_config must fit the project's dispatch backend (context `project`)."""
        project = self.context["project"]
        bot_backends.validate_bot_config(config, backend=project.bot_dispatch_backend)
        return config


class MeetingBaasBotParam3Serializer(MeetingBaasBotParam2Serializer):
    """Changes to the scheduled bot (`BotParam3`): the keys sent with a value replace the
    bot's; a key left out or null keeps its value (Meeting BaaS' "not given")."""

    bot_name = serializers.CharField(max_length=100, required=False, allow_null=True)

    def validate(self, data: dict) -> dict:
        """The service's arguments for what changes; the bot_config is the bot's current one
        (context `current_config`) with the changes over it."""
        changes = {
            key: value for key, value in data.items() if key in PORTABLE_KEYS and value is not None
        }
        fields = {
            name: data[name]
            for name in ("bot_name", "deduplication_key")
            if data.get(name) is not None
        }
        if changes:
            fields["bot_config"] = self.checked(
                {**(self.context.get("current_config") or {}), **changes}
            )
        return fields

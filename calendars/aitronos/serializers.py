"""Aitronos meeting-buddy wire format (spec/peer-apis.md §4). Shapes and names only: every rule
is the core's (a rule's fields are checked by meetings.models.AutoJoinRule.clean).

Component names carry an `Aitronos` prefix so none meets another surface's component. Ids are
our UUIDs (Aitronos's own carry `mcevt_`/`majr_` prefixes; a client treats them as opaque).
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calendars.models import Calendar
from config.api.schema import JsonObjectField
from config.api.serializers import StrictSerializer
from meetings.models import AutoJoinRule, Meeting
from meetings.rules import AUDIENCES, JOIN, MATCH_MODES, SKIP

from . import wire
from .fields import AitronosEnum

MAX_SKIP = 2**31 - 1
MAX_LIMIT = 100

PROVIDER = AitronosEnum(wire.ALL_PROVIDERS, component="AitronosCalendarProvider")
EVENT_STATUSES = [choice for choice, _ in Meeting.Status.choices]


# --- connections -------------------------------------------------------------------------------


class AitronosCalendarConnectionSerializer(serializers.ModelSerializer):
    credential_id = serializers.UUIDField(source="pk", help_text="The connection's id (ours).")
    provider = serializers.SerializerMethodField()
    account_email = serializers.SerializerMethodField(
        help_text="The connected account's address; null until the provider has told us."
    )
    is_active = serializers.SerializerMethodField(
        help_text="False once the connection is disconnected (its grant was revoked or "
        "expired: connect again)."
    )
    last_sync_at = serializers.DateTimeField(
        source="last_successful_sync_at",
        allow_null=True,
        help_text="The last successful sync; null before the first.",
    )
    event_count = serializers.IntegerField(
        help_text="Events synced from this connection (cancelled ones included, as the event "
        "list shows them)."
    )

    class Meta:
        model = Calendar
        fields = [
            "credential_id",
            "provider",
            "account_email",
            "is_active",
            "last_sync_at",
            "event_count",
        ]

    @extend_schema_field(PROVIDER)
    def get_provider(self, calendar: Calendar) -> str:
        return wire.provider_name(calendar.platform)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_account_email(self, calendar: Calendar) -> str | None:
        return calendar.email or None

    def get_is_active(self, calendar: Calendar) -> bool:
        return calendar.state != Calendar.State.DISCONNECTED


class AitronosConnectSerializer(StrictSerializer):
    provider = AitronosEnum(
        wire.ALL_PROVIDERS,
        component="AitronosCalendarProvider",
        help_text="`google_calendar` or `outlook_calendar`; `zoom` and `apple_calendar` are "
        "refused (`PROVIDER_NOT_SUPPORTED`).",
    )
    credentials = JsonObjectField(
        required=False,
        allow_null=True,
        help_text="Aitronos's Apple Calendar credentials: not supported. The OAuth providers "
        "take none (the user signs in at `authorization_url`).",
    )
    success_url = serializers.URLField(
        required=False,
        max_length=2000,
        help_text="calsync extension: where the browser goes once connected (an origin of the "
        "project's `allowed_redirect_origins`); our page otherwise.",
    )
    error_url = serializers.URLField(
        required=False,
        max_length=2000,
        help_text="calsync extension: where the browser goes when the connection fails, with "
        "`error` and `error_description` in its query.",
    )

    def validate(self, data: dict) -> dict:
        if data["provider"] in wire.PROVIDERS and data.get("credentials"):
            raise serializers.ValidationError(
                {
                    "credentials": [
                        "OAuth providers take no credentials: send the user to `authorization_url`."
                    ]
                }
            )
        return data


class AitronosAuthorizationSerializer(serializers.Serializer):
    provider = AitronosEnum(wire.PROVIDERS, component="AitronosOAuthProvider")
    authorization_url = serializers.URLField(
        help_text="Send the user's browser here; after consent the provider returns it to our "
        "hosted callback, which connects the calendar."
    )
    state = serializers.CharField(
        help_text="The state token of the flow (also inside `authorization_url`); the callback "
        "checks it."
    )
    redirect_uri = serializers.URLField(
        help_text="Our hosted callback (register it with the project's OAuth app)."
    )


# --- events ------------------------------------------------------------------------------------


class AitronosEventQuerySerializer(serializers.Serializer):
    skip = serializers.IntegerField(
        min_value=0, max_value=MAX_SKIP, default=0, help_text="Events to skip."
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, default=50, help_text="Events to return (1-100)."
    )
    start_after = serializers.DateTimeField(
        required=False, help_text="Events starting at or after this time (ISO 8601)."
    )
    start_before = serializers.DateTimeField(
        required=False, help_text="Events starting before this time (ISO 8601)."
    )
    provider = AitronosEnum(
        wire.ALL_PROVIDERS,
        component="AitronosCalendarProvider",
        required=False,
        help_text="Events of this provider's connections (`zoom`, `apple_calendar`: none).",
    )
    auto_join_status = AitronosEnum(
        wire.AUTO_JOIN_STATUSES,
        component="AitronosAutoJoinStatus",
        required=False,
        help_text=wire.AUTO_JOIN_STATUS_HELP,
    )


class AitronosEventSerializer(serializers.ModelSerializer):
    """A calendar event: one instance of a recurring series."""

    # Reads a meeting annotated by wire.with_auto_join_status.

    calendar_provider = serializers.SerializerMethodField()
    timezone = serializers.SerializerMethodField(
        help_text="The zone of `start_time` and `end_time`: always UTC (the provider's own "
        "zone is not kept)."
    )
    meeting_link = serializers.SerializerMethodField(help_text="The join link we detected.")
    meeting_platform = serializers.SerializerMethodField(
        help_text="`zoom`, `google_meet`, `teams`, `webex`, or another platform calsync "
        "detects (`goto_meeting`, `chime`, `jitsi`, `whereby`, ...); null without a link."
    )
    organizer_email = serializers.SerializerMethodField()
    attendee_count = serializers.SerializerMethodField(
        help_text="The attendees as synced (what a rule's `min_attendees` compares)."
    )
    status = serializers.SerializerMethodField(
        help_text="`cancelled` too for an event deleted from the calendar."
    )
    auto_join_status = serializers.SerializerMethodField(help_text=wire.AUTO_JOIN_STATUS_HELP)
    session_id = serializers.UUIDField(
        allow_null=True, read_only=True, help_text="The id of the meeting's bot (see above)."
    )
    synced_at = serializers.DateTimeField(
        source="updated_at",
        help_text="When the event's record last changed (a sync rewrites it only when the "
        "event changed at the provider).",
    )
    auto_join_reason = serializers.CharField(
        source="will_record_reason",
        help_text="calsync extension: why the meeting is or is not joined (names the deciding "
        'rule: `rule:<id> "<name>"`).',
    )

    class Meta:
        model = Meeting
        fields = [
            "id",
            "calendar_provider",
            "title",
            "start_time",
            "end_time",
            "timezone",
            "meeting_link",
            "meeting_platform",
            "organizer_email",
            "attendee_count",
            "is_recurring",
            "status",
            "auto_join_status",
            "session_id",
            "synced_at",
            "created_at",
            "auto_join_reason",
        ]

    @extend_schema_field(PROVIDER)
    def get_calendar_provider(self, meeting: Meeting) -> str:
        return wire.provider_name(meeting.calendar.platform)

    def get_timezone(self, meeting: Meeting) -> str:
        return "UTC"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_meeting_link(self, meeting: Meeting) -> str | None:
        return meeting.meeting_url or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_meeting_platform(self, meeting: Meeting) -> str | None:
        return wire.meeting_platform_name(meeting.meeting_platform)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_organizer_email(self, meeting: Meeting) -> str | None:
        return meeting.organizer_email or None

    def get_attendee_count(self, meeting: Meeting) -> int:
        return len(meeting.attendees or ())

    @extend_schema_field(AitronosEnum(EVENT_STATUSES, component="AitronosEventStatus"))
    def get_status(self, meeting: Meeting) -> str:
        return Meeting.Status.CANCELLED if meeting.is_deleted else meeting.status

    @extend_schema_field(AitronosEnum(wire.AUTO_JOIN_STATUSES, component="AitronosAutoJoinStatus"))
    def get_auto_join_status(self, meeting: Meeting) -> str:
        return meeting.auto_join_status


class AitronosEventListSerializer(serializers.Serializer):
    items = AitronosEventSerializer(many=True)
    total = serializers.IntegerField(help_text="Events matching the filters.")
    skip = serializers.IntegerField()
    limit = serializers.IntegerField()
    has_more = serializers.BooleanField(help_text="More events follow this page.")


# --- sync --------------------------------------------------------------------------------------


class AitronosSyncResultSerializer(serializers.Serializer):
    synced_calendars = serializers.IntegerField(help_text="Connections synced successfully.")
    new_events = serializers.IntegerField(help_text="Events seen for the first time.")
    updated_events = serializers.IntegerField(help_text="Events changed or deleted.")
    errors = serializers.ListField(
        child=serializers.CharField(),
        help_text='One per connection that failed: `"<provider>: <message>"`.',
    )


# --- auto-join rules ---------------------------------------------------------------------------

RULE_PROVIDER_HELP = "Only meetings of this provider's connections; null: every connection's."
EXTENSION = "calsync extension: "


@extend_schema_field(
    {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$", "example": "09:00"}
)
class _TimeOfDay(serializers.TimeField):
    """`HH:MM` (OpenAPI's `format: time` would ask for seconds and an offset)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M"], allow_null=True, **kwargs)


class AitronosRuleSerializer(serializers.ModelSerializer):
    calendar_provider = serializers.SerializerMethodField(help_text=RULE_PROVIDER_HELP)
    time_window_start = _TimeOfDay(help_text="`HH:MM` in `timezone`, or null.")
    time_window_end = _TimeOfDay(help_text="`HH:MM` in `timezone` (excluded), or null.")
    keywords = serializers.ListField(child=serializers.CharField())
    organizer_emails = serializers.ListField(child=serializers.CharField())
    exclude_patterns = serializers.ListField(child=serializers.CharField())
    days_of_week = serializers.ListField(
        child=serializers.IntegerField(), help_text="0 = Monday ... 6 = Sunday; empty: any day."
    )
    match_mode = AitronosEnum(MATCH_MODES, component="AitronosMatchMode")
    action = AitronosEnum((JOIN, SKIP), component="AitronosRuleAction")
    attendee_emails = serializers.ListField(child=serializers.CharField())
    audience = AitronosEnum(AUDIENCES, component="AitronosRuleAudience")
    meeting_platforms = serializers.SerializerMethodField()
    bot_config = JsonObjectField()

    class Meta:
        model = AutoJoinRule
        fields = [
            "id",
            "name",
            "is_enabled",
            "calendar_provider",
            "match_mode",
            "keywords",
            "organizer_emails",
            "exclude_patterns",
            "min_attendees",
            "max_attendees",
            "time_window_start",
            "time_window_end",
            "days_of_week",
            "timezone",
            "bot_name",
            "priority",
            "created_at",
            "updated_at",
            # Ours (calsync extensions):
            "action",
            "whole_word",
            "attendee_emails",
            "audience",
            "recurring",
            "meeting_platforms",
            "bot_config",
        ]

    @extend_schema_field(
        AitronosEnum(wire.PROVIDERS, component="AitronosRuleProvider", allow_null=True)
    )
    def get_calendar_provider(self, rule: AutoJoinRule) -> str | None:
        return wire.provider_name(rule.calendar_provider) if rule.calendar_provider else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_meeting_platforms(self, rule: AutoJoinRule) -> list[str]:
        return [wire.meeting_platform_name(platform) for platform in rule.meeting_platforms]


class AitronosRuleWriteSerializer(StrictSerializer):
    """A rule's fields; a PATCH sends those it changes. The checks are the core's (codes such as
    `INVALID_TIMEZONE`, `WINDOW_END_BEFORE_START`, `UNKNOWN_WEEKDAY`, `REGEX_TOO_EXPENSIVE`,
    with `details` by field)."""

    ignored_fields = ("id", "created_at", "updated_at")

    name = serializers.CharField(max_length=255, help_text="Up to 255 characters.")
    is_enabled = serializers.BooleanField(required=False, help_text="Default true.")
    calendar_provider = AitronosEnum(
        wire.PROVIDERS,
        component="AitronosRuleProvider",
        required=False,
        allow_null=True,
        help_text=RULE_PROVIDER_HELP,
    )
    match_mode = AitronosEnum(
        MATCH_MODES,
        component="AitronosMatchMode",
        required=False,
        help_text="Default `all`: `keyword` needs `keywords`, `organizer` needs "
        "`organizer_emails`, `custom` uses both when set.",
    )
    keywords = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text="Any of them in the title or description (case-insensitive).",
    )
    organizer_emails = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text="Addresses, or `@domain` for a whole domain.",
    )
    exclude_patterns = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text="Case-insensitive regular expressions; a meeting matching one is excluded.",
    )
    min_attendees = serializers.IntegerField(required=False, help_text="Default 0.")
    max_attendees = serializers.IntegerField(required=False, allow_null=True)
    time_window_start = _TimeOfDay(required=False, help_text="`HH:MM`, with the end.")
    time_window_end = _TimeOfDay(required=False, help_text="`HH:MM` after the start.")
    days_of_week = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="0 = Monday ... 6 = Sunday."
    )
    timezone = serializers.CharField(
        max_length=64, required=False, help_text="IANA time zone of the window (default UTC)."
    )
    bot_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="The bot's name."
    )
    priority = serializers.IntegerField(required=False, help_text="Higher is tried first.")
    action = AitronosEnum(
        (JOIN, SKIP),
        component="AitronosRuleAction",
        required=False,
        help_text=f"{EXTENSION}`join` (default) or `skip` the meetings it matches.",
    )
    whole_word = serializers.BooleanField(
        required=False, help_text=f"{EXTENSION}keywords match whole words only."
    )
    attendee_emails = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text=f"{EXTENSION}any attendee matches one (address or `@domain`).",
    )
    audience = AitronosEnum(
        AUDIENCES,
        component="AitronosRuleAudience",
        required=False,
        help_text=f"{EXTENSION}`any`, `internal` or `external` meetings.",
    )
    recurring = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text=f"{EXTENSION}true/false: recurring meetings only / never; null: any.",
    )
    meeting_platforms = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=f"{EXTENSION}the meeting platforms it matches (`zoom`, `google_meet`, "
        "`teams`, ...); empty: any.",
    )
    bot_config = JsonObjectField(
        required=False,
        help_text=f"{EXTENSION}bot settings merged over the project's when it joins.",
    )

    def validate(self, data: dict) -> dict:
        """The core's names and values (rule_services.EDITABLE_FIELDS)."""
        if "calendar_provider" in data:
            data["calendar_provider"] = wire.PROVIDERS.get(data["calendar_provider"])
        if "meeting_platforms" in data:
            data["meeting_platforms"] = [
                wire.meeting_platform_id(name) for name in data["meeting_platforms"]
            ]
        return data


class AitronosRuleListSerializer(serializers.Serializer):
    items = AitronosRuleSerializer(many=True)
    total = serializers.IntegerField()

"""Recall Calendar V1 wire format (spec/recall-calendar.md §2.4, §2.5). Shapes only, no rules."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calendars.models import Calendar, CalendarUser
from calendars.platforms import Platform
from calendars.validators import EXTERNAL_ID_MAX_LENGTH, check_external_id
from config.api.serializers import StrictModelSerializer, StrictSerializer
from meetings.models import Meeting

INVITE_KEYS = {
    "zoom": "zoom_invite",
    "microsoft_teams": "teams_invite",
    "google_meet": "meet_invite",
    "webex": "webex_invite",
    "goto_meeting": "goto_meeting_invite",
}


class ExternalIdField(serializers.CharField):
    """A calendar user's id in the customer's system, taken exactly as sent: never trimmed, so
    `"alice"` and `" alice "` cannot become one user (the second is refused)."""

    def __init__(self, **kwargs):
        super().__init__(
            max_length=EXTERNAL_ID_MAX_LENGTH,
            trim_whitespace=False,
            validators=[check_external_id],
            **kwargs,
        )


class AuthenticateSerializer(StrictSerializer):
    user_id = ExternalIdField(
        help_text="The unique id of the user in your system, matched exactly (no surrounding "
        "whitespace or control characters)."
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class ConnectionSerializer(serializers.ModelSerializer):
    connected = serializers.SerializerMethodField()
    id = serializers.CharField(source="pk")
    # Not `format: email`: "" until the provider has told us the account's address.
    email = serializers.CharField(help_text="The account's email; empty until it is known.")

    class Meta:
        model = Calendar
        fields = ["connected", "platform", "email", "id"]

    def get_connected(self, calendar: Calendar) -> bool:
        return calendar.state != Calendar.State.DISCONNECTED


class PreferencesSerializer(StrictModelSerializer):
    id = serializers.UUIDField(source="preferences_id", read_only=True)
    bot_name = serializers.CharField(max_length=100, allow_blank=True, required=False)

    class Meta:
        model = CalendarUser
        fields = [
            "id",
            "record_non_host",
            "record_recurring",
            "record_external",
            "record_internal",
            "record_confirmed",
            "record_only_host",
            "bot_name",
        ]
        extra_kwargs = {name: {"required": False} for name in fields if name != "id"}

    def to_representation(self, calendar_user):
        data = super().to_representation(calendar_user)
        data["bot_name"] = calendar_user.bot_name or calendar_user.project.bot_name
        return data


class CalendarUserSerializer(serializers.ModelSerializer):
    connections = ConnectionSerializer(source="calendars", many=True, read_only=True)
    preferences = serializers.SerializerMethodField()

    class Meta:
        model = CalendarUser
        fields = ["id", "external_id", "connections", "preferences"]

    @extend_schema_field(PreferencesSerializer)
    def get_preferences(self, calendar_user: CalendarUser) -> dict:
        return PreferencesSerializer(calendar_user).data


class CalendarUserUpdateSerializer(StrictSerializer):
    """Read-only keys in the body (`id`, `connections`, `preferences.id`) are ignored; keys a
    calendar user does not have are refused."""

    ignored_fields = ("id", "connections")

    preferences = PreferencesSerializer(required=False)
    external_id = ExternalIdField(required=False)


class DisconnectSerializer(StrictSerializer):
    platform = serializers.ChoiceField(choices=Platform.choices)


class OAuthUrlQuerySerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    success_url = serializers.URLField(required=False, max_length=2000)
    error_url = serializers.URLField(required=False, max_length=2000)


class OAuthUrlSerializer(serializers.Serializer):
    platform = serializers.CharField()
    url = serializers.URLField(help_text="Send the user's browser here.")
    redirect_uri = serializers.URLField()
    state = serializers.CharField()


class MeetingQuerySerializer(serializers.Serializer):
    ical_uid = serializers.CharField(required=False, help_text="Case-sensitive prefix match.")
    start_time_after = serializers.DateTimeField(required=False)
    start_time_before = serializers.DateTimeField(required=False)


class AttendeeSerializer(serializers.Serializer):
    name = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    is_organizer = serializers.BooleanField()
    status = serializers.CharField(allow_null=True)


def _invite_field(key: str):
    @extend_schema_field(serializers.DictField(allow_null=True))
    def get(self, meeting: Meeting):
        if INVITE_KEYS.get(meeting.meeting_platform) == key:
            return meeting.meeting_invite
        return None

    return get


class MeetingSerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="meeting_platform", allow_null=True, read_only=True)
    platform_id = serializers.CharField(source="platform_event_id", read_only=True)
    calendar_platform = serializers.CharField(source="calendar.platform", read_only=True)
    zoom_invite = serializers.SerializerMethodField()
    teams_invite = serializers.SerializerMethodField()
    meet_invite = serializers.SerializerMethodField()
    webex_invite = serializers.SerializerMethodField()
    goto_meeting_invite = serializers.SerializerMethodField()
    bot_id = serializers.SerializerMethodField()
    organizer_email = serializers.CharField(allow_null=True, read_only=True)
    attendee_emails = serializers.SerializerMethodField()
    attendees = AttendeeSerializer(many=True, read_only=True)
    ical_uid = serializers.CharField(read_only=True)

    get_zoom_invite = _invite_field("zoom_invite")
    get_teams_invite = _invite_field("teams_invite")
    get_meet_invite = _invite_field("meet_invite")
    get_webex_invite = _invite_field("webex_invite")
    get_goto_meeting_invite = _invite_field("goto_meeting_invite")

    class Meta:
        model = Meeting
        fields = [
            "id",
            "override_should_record",
            "title",
            "will_record",
            "will_record_reason",
            "start_time",
            "end_time",
            "platform",
            "platform_id",
            "meeting_platform",
            "calendar_platform",
            "zoom_invite",
            "teams_invite",
            "meet_invite",
            "webex_invite",
            "goto_meeting_invite",
            "description",
            "bot_id",
            "is_external",
            "is_hosted_by_me",
            "is_recurring",
            "organizer_email",
            "attendee_emails",
            "attendees",
            "ical_uid",
            "visibility",
        ]
        read_only_fields = [f for f in fields if f != "override_should_record"]

    def get_bot_id(self, meeting: Meeting) -> str | None:
        # `live_bots` is prefetched by the view (one query for the whole list).
        bots = getattr(meeting, "live_bots", None)
        return str(bots[0].pk) if bots else None

    def get_attendee_emails(self, meeting: Meeting) -> list[str]:
        return [a["email"] for a in meeting.attendees if a.get("email")]


class MeetingUpdateSerializer(StrictSerializer):
    # A meeting read with GET can be sent back: its read-only keys are ignored.
    ignored_fields = tuple(MeetingSerializer.Meta.read_only_fields)

    override_should_record = serializers.BooleanField(allow_null=True)

"""Auto-join rules on the wire, for the server API and the calendar-token surface alike.

Shapes only: JSON types in, the rule object out. What a value may be (a known time zone, a
window that ends after it starts, a weekday, a pattern cheap enough to run...) is decided by
the model (meetings.models.AutoJoinRule.clean) through calendars/rule_services.py, so every
surface and the admin refuse the same inputs with the same codes. The enums below are listed
in the schema for clients, and checked by the model too (`invalid_choice`, `unknown_platform`).
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.schema import JsonObjectField
from config.api.serializers import StrictSerializer
from meetings import rules
from meetings.models import AutoJoinRule


def _enum(name: str, values, **kwargs) -> serializers.CharField:
    """A string the schema lists the values of; the model checks it."""
    field_class = type(name, (serializers.CharField,), {})
    extend_schema_field({"type": "string", "enum": list(values)})(field_class)
    return field_class(trim_whitespace=False, **kwargs)


def _strings(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text=help_text,
    )


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$", "example": "09:00"})
class WindowTimeField(serializers.TimeField):
    """`HH:MM` out; `HH:MM` (or `HH:MM:SS`, whole minutes) in. Not OpenAPI's `format: time`,
    which is RFC 3339's `HH:MM:SS` with an offset."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class AutoJoinRuleSerializer(StrictSerializer):
    """An auto-join rule. Every condition that is set must hold; an empty list or null is
    "any". Read-only keys (`id`, `calendar_user`, `created_at`, `updated_at`) are ignored on
    writes, so a rule read with GET can be sent back."""

    id = serializers.UUIDField(read_only=True)
    calendar_user = serializers.SerializerMethodField(
        help_text="The owner's `external_id`; null for a project default."
    )
    name = serializers.CharField(trim_whitespace=False, help_text="At most 255 characters.")
    is_enabled = serializers.BooleanField(required=False, help_text="Default true.")
    priority = serializers.IntegerField(
        required=False,
        help_text=f"Higher is tried first (default 0, at most ±{rules.MAX_PRIORITY:,}). Equal "
        "priorities: the older rule first.",
    )
    action = _enum(
        "RuleActionField",
        AutoJoinRule.Action.values,
        required=False,
        help_text="`join` records the meetings the rule matches, `skip` does not (default join).",
    )
    bot_name = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="A joining rule's bot name (at most 100 characters); empty: the project's.",
    )
    bot_config = JsonObjectField(
        required=False,
        help_text="A joining rule's bot settings, merged over the project's `bot_config` and "
        "checked like it.",
    )
    calendar_provider = _enum(
        "RuleCalendarProviderField",
        rules.CALENDAR_PROVIDERS,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Only meetings of this provider's calendars; null (or empty): any.",
    )
    match_mode = _enum(
        "RuleMatchModeField",
        AutoJoinRule.MatchMode.values,
        required=False,
        help_text="Which content conditions apply (Aitronos' names): `all` neither, `keyword` "
        "`keywords` (required), `organizer` `organizer_emails` (required), `custom` both, each "
        "when set. Default all.",
    )
    keywords = _strings(
        f"Any of them in the title or description, case-insensitive (at most {rules.MAX_ITEMS}, "
        f"{rules.MAX_KEYWORD_CHARS} characters each)."
    )
    whole_word = serializers.BooleanField(
        required=False, help_text="Keywords match whole words only (default false)."
    )
    exclude_patterns = _strings(
        "Case-insensitive regular expressions; a meeting whose title or description any of "
        "them is found in is not matched. Run by RE2 in linear time (at most "
        f"{rules.MAX_PATTERNS}, {rules.MAX_PATTERN_CHARS} characters each): backreferences and "
        "look-arounds are refused, and so is a pattern that matches every text."
    )
    organizer_emails = _strings(
        "The organiser is one of these: an address, or `@domain` for the domain and its subdomains."
    )
    attendee_emails = _strings("Any attendee is one of these (addresses or `@domain`).")
    min_attendees = serializers.IntegerField(required=False, help_text="Default 0.")
    max_attendees = serializers.IntegerField(
        required=False, allow_null=True, help_text="Null: no upper bound."
    )
    audience = _enum(
        "RuleAudienceField",
        AutoJoinRule.Audience.values,
        required=False,
        help_text="`internal` / `external` meetings only (default any).",
    )
    recurring = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="true: recurring meetings only; false: one-off only; null: either.",
    )
    meeting_platforms = serializers.ListField(
        child=_enum("RuleMeetingPlatformField", rules.MEETING_PLATFORMS),
        required=False,
        help_text="The join link's platform is one of these.",
    )
    days_of_week = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="The start's weekday in `timezone`: 0 = Monday ... 6 = Sunday.",
    )
    time_window_start = WindowTimeField(
        required=False,
        allow_null=True,
        help_text="HH:MM in `timezone`; the meeting starts at or after it. Set with "
        "`time_window_end`.",
    )
    time_window_end = WindowTimeField(
        required=False,
        allow_null=True,
        help_text="HH:MM in `timezone`, after the start (no window across midnight); the "
        "meeting starts before it.",
    )
    timezone = serializers.CharField(
        required=False,
        trim_whitespace=False,
        help_text="IANA time zone of the days and the window (default UTC); follows "
        "daylight-saving changes.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    class Meta:
        ref_name = "AutoJoinRule"

    @extend_schema_field({"type": "string", "nullable": True})
    def get_calendar_user(self, rule) -> str | None:
        return rule.calendar_user.external_id if rule.calendar_user_id else None


class ProposedRuleSerializer(AutoJoinRuleSerializer):
    """A rule for the dry run: with the `id` of one of the user's rules, the fields given
    change that rule; without, a new rule (`name` needed)."""

    id = serializers.UUIDField(
        required=False, help_text="A saved rule of this user, changed by the fields given."
    )
    name = serializers.CharField(required=False, trim_whitespace=False)

    class Meta:
        ref_name = "ProposedAutoJoinRule"


class DryRunRequestSerializer(StrictSerializer):
    """At most one change to the user's saved rules; none: the saved rules as they are."""

    upsert = ProposedRuleSerializer(
        required=False, help_text="A new rule, or the fields to change in a saved one."
    )
    remove = serializers.UUIDField(required=False, help_text="A saved rule of this user.")

    def validate(self, data):
        if "upsert" in data and "remove" in data:
            raise serializers.ValidationError("Send `upsert` or `remove`, not both.")
        return data


class DecisionChangeSerializer(serializers.Serializer):
    meeting_id = serializers.UUIDField()
    title = serializers.CharField()
    start_time = serializers.DateTimeField()
    will_record_before = serializers.BooleanField()
    will_record_after = serializers.BooleanField()
    reason_before = serializers.CharField(help_text="`will_record_reason` as stored now.")
    reason_after = serializers.CharField(help_text="`will_record_reason` with the rules given.")
    rule_id = serializers.UUIDField(
        allow_null=True, help_text="The rule that would decide; null: no rule matches."
    )


class ProposedRuleResultSerializer(AutoJoinRuleSerializer):
    """The proposed rule as it would be saved (normalised). A new one has a provisional `id`
    (the one `rule_id` and the reasons name) and no timestamps; saving it gives it another."""

    created_at = serializers.DateTimeField(allow_null=True, read_only=True)
    updated_at = serializers.DateTimeField(allow_null=True, read_only=True)

    class Meta:
        ref_name = "ProposedAutoJoinRuleResult"


class DryRunSerializer(serializers.Serializer):
    changes = DecisionChangeSerializer(
        many=True,
        help_text="The user's upcoming meetings whose decision would change, in start order.",
    )
    proposed_rule = ProposedRuleResultSerializer(allow_null=True, help_text="Null without upsert.")

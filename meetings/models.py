import copy
import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, Q
from django.db.models.functions import Upper

from projects.models import BaseModel, Project

from . import rules


class PayloadField(models.JSONField):
    """A JSON document sent as a plain parameter.

    On PostgreSQL Django bulk-inserts through UNNEST of one array per column, and psycopg
    escapes text arrays in Python: for provider payloads (kilobytes of JSON per row) that is
    slower than the multi-row VALUES form. A field with `get_placeholder` opts the insert out.
    """

    def get_placeholder(self, value, compiler, connection):
        return "%s"


class MeetingQuerySet(models.QuerySet):
    def upcoming(self, now) -> "MeetingQuerySet":
        """Meetings still to come or under way: in the calendar and not ended at `now`."""
        return self.filter(is_deleted=False, end_time__gt=now)


class Meeting(BaseModel):
    """One event instance of a connected calendar inside the sync horizon.

    Never hard-deleted by sync: an event that disappears at the provider gets `is_deleted`.
    """

    class Status(models.TextChoices):
        CONFIRMED = "confirmed"
        TENTATIVE = "tentative"
        CANCELLED = "cancelled"

    objects = MeetingQuerySet.as_manager()

    # No single-column indexes on the two keys: the composite indexes below start with them,
    # and every index costs each meeting write (a sync's inserts, a rule change's updates).
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="meetings", db_index=False
    )
    calendar = models.ForeignKey(
        "calendars.Calendar", on_delete=models.CASCADE, related_name="meetings", db_index=False
    )
    platform_event_id = models.CharField(max_length=1024, help_text="Provider event (instance) id.")
    ical_uid = models.CharField(max_length=1024, blank=True, default="")
    series_id = models.CharField(
        max_length=1024, blank=True, default="", help_text="Provider id of the recurring series."
    )
    title = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    location = models.TextField(blank=True, default="")
    start_time = models.DateTimeField()
    end_time = models.DateTimeField()
    is_all_day = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONFIRMED)
    is_deleted = models.BooleanField(default=False)

    organizer_email = models.CharField(max_length=320, blank=True, default="")
    attendees = models.JSONField(
        default=list, blank=True, help_text="[{name, email, is_organizer, status}]"
    )
    is_external = models.BooleanField(default=False)
    is_hosted_by_me = models.BooleanField(default=False)
    is_recurring = models.BooleanField(default=False)
    visibility = models.CharField(max_length=20, null=True, blank=True)

    meeting_url = models.TextField(null=True, blank=True)
    meeting_platform = models.CharField(max_length=40, null=True, blank=True)
    meeting_invite = models.JSONField(
        null=True, blank=True, help_text="Parsed join details, shaped per meeting platform."
    )
    raw = PayloadField(default=dict, blank=True, help_text="The provider's event payload.")
    provider_updated_at = models.DateTimeField(null=True, blank=True)
    # Digest of the synced fields: a sync rewrites a row only when this changes.
    fingerprint = models.CharField(max_length=64, blank=True, default="", editable=False)

    override_should_record = models.BooleanField(null=True, blank=True)
    will_record = models.BooleanField(default=False)
    will_record_reason = models.CharField(max_length=200, blank=True, default="")

    # Durable marker of derived work, set in the same statement as the change that causes it
    # and cleared only by the reconciliation that did the work, so a failure or crash anywhere
    # in between leaves it set for the next pass (bots/reconcile.py reconcile_pending).
    # Announcements use a per-calendar watermark instead (Calendar.announced_through).
    needs_reconcile = models.BooleanField(default=False, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "platform_event_id"], name="meeting_event_per_calendar"
            ),
            models.CheckConstraint(
                condition=Q(end_time__gte=models.F("start_time")), name="meeting_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["calendar", "start_time"], name="meeting_calendar_start"),
            models.Index(fields=["calendar", "ical_uid"], name="meeting_calendar_ical_uid"),
            # Deduplication: the same meeting seen through several calendars of one project.
            models.Index(
                fields=["project", "meeting_url", "start_time"], name="meeting_dedup_lookup"
            ),
            # Server API event list: cursor order within a project, and its filters.
            models.Index(fields=["project", "start_time", "id"], name="meeting_project_start_id"),
            models.Index(fields=["project", "updated_at", "id"], name="meeting_project_updated_id"),
            models.Index(fields=["project", "end_time"], name="meeting_project_end"),
            models.Index(fields=["project", "ical_uid"], name="meeting_project_ical_uid"),
            models.Index(
                fields=["project", "meeting_platform", "start_time"],
                name="meeting_project_platform",
            ),
            # The organizer filter, in start order (a page of one organizer's meetings without
            # reading the project's until enough match).
            models.Index(
                F("project"),
                Upper("organizer_email"),
                F("start_time"),
                name="meeting_organizer_start",
            ),
            # The drain of the marker above: few rows are marked at any time.
            models.Index(
                fields=["calendar"],
                condition=Q(needs_reconcile=True),
                name="meeting_needs_reconcile",
            ),
            # The scheduler's scan: upcoming meetings that should get a bot.
            models.Index(
                fields=["start_time"],
                condition=Q(will_record=True, is_deleted=False),
                name="meeting_to_record_start",
            ),
        ]
        ordering = ["start_time"]

    def __str__(self) -> str:
        return f"{self.title or '(untitled)'} @ {self.start_time:%Y-%m-%d %H:%M}"


class BotSchedule(BaseModel):
    """A bot requested through the server API for one meeting, or for every instance of a
    recurring series (`meeting` null, `series_id` set) including instances synced later.

    The decision (meetings/decisions.py) reads it: an enabled schedule records the meeting with
    this bot name, config and deduplication key; a disabled one on a single instance is the
    exception "not this occurrence" to a series schedule. Bots then follow moves and
    cancellations through the same reconciliation as automatic ones.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="bot_schedules")
    calendar = models.ForeignKey(
        "calendars.Calendar", on_delete=models.CASCADE, related_name="bot_schedules"
    )
    meeting = models.OneToOneField(
        Meeting, on_delete=models.CASCADE, null=True, blank=True, related_name="bot_schedule"
    )
    series_id = models.CharField(max_length=1024, blank=True, default="")
    enabled = models.BooleanField(default=True)
    bot_name = models.CharField(max_length=100, blank=True, default="")
    bot_config = models.JSONField(default=dict, blank=True)
    deduplication_key = models.CharField(max_length=2000, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "series_id"],
                condition=Q(meeting__isnull=True),
                name="botschedule_one_per_series",
            ),
            models.CheckConstraint(
                condition=Q(meeting__isnull=False) | ~Q(series_id=""),
                name="botschedule_meeting_or_series",
            ),
            models.UniqueConstraint(
                fields=["project", "deduplication_key"],
                condition=Q(deduplication_key__isnull=False),
                name="botschedule_dedup_key_per_project",
            ),
        ]

    def __str__(self) -> str:
        target = f"meeting {self.meeting_id}" if self.meeting_id else f"series {self.series_id}"
        return f"{'bot' if self.enabled else 'no bot'} for {target}"


class AutoJoinRuleQuerySet(models.QuerySet):
    def may_apply(self, *, calendar_user, project) -> Exists:
        """SQL: does an enabled rule of this calendar user, or a default of this project, exist?
        (OuterRefs, for annotating the rows that load calendar users.)"""
        enabled = self.filter(is_enabled=True)
        return Exists(enabled.filter(calendar_user=calendar_user)) | Exists(
            enabled.filter(calendar_user__isnull=True, project=project)
        )

    def rule_sets(self, calendar_users) -> dict:
        """{calendar user id: rules.RuleSet} for these calendar users (objects with `pk` and
        `project_id`): each one's enabled rules and their project's defaults, compiled, in one
        query for any number of users. A user without any has an empty (falsy) set."""
        users = [user for user in calendar_users if user is not None]
        if not users:
            return {}
        project_ids = {user.project_id for user in users}
        found = self.filter(
            Q(calendar_user__in=[user.pk for user in users])
            | Q(project_id__in=project_ids, calendar_user__isnull=True),
            is_enabled=True,
        )
        own, defaults = {}, {}
        for rule in found:
            if rule.calendar_user_id is None:
                defaults.setdefault(rule.project_id, []).append(rule)
            else:
                own.setdefault(rule.calendar_user_id, []).append(rule)
        compiled = {pid: rules.compile_rule_set(found) for pid, found in defaults.items()}
        return {
            user.pk: rules.compile_rule_set(own.get(user.pk, ()))
            + compiled.get(user.project_id, rules.EMPTY)
            for user in users
        }


class AutoJoinRule(BaseModel):
    """A rule that records (`join`) or skips the meetings it matches: a calendar user's own, or
    with `calendar_user` null one of the project's defaults for every calendar user. What it
    matches and which rule wins: meetings/rules.py. Where it sits in the decision:
    meetings/decisions.py. Changing one re-decides the affected meetings
    (calendars/rule_services.py)."""

    class Action(models.TextChoices):
        JOIN = rules.JOIN
        SKIP = rules.SKIP

    class MatchMode(models.TextChoices):
        ALL = "all"
        KEYWORD = "keyword"
        ORGANIZER = "organizer"
        CUSTOM = "custom"

    class Audience(models.TextChoices):
        ANY = "any"
        INTERNAL = "internal"
        EXTERNAL = "external"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="auto_join_rules")
    calendar_user = models.ForeignKey(
        "calendars.CalendarUser",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="auto_join_rules",
        help_text="Empty: a project default, tried for every calendar user after their own rules.",
    )
    name = models.CharField(max_length=255)
    is_enabled = models.BooleanField(default=True)
    priority = models.IntegerField(default=0, help_text="Higher is tried first.")
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.JOIN)
    bot_name = models.CharField(
        max_length=100, blank=True, default="", help_text="The bot's name when this rule joins."
    )
    bot_config = models.JSONField(
        default=dict, blank=True, help_text="Merged over the project's bot_config when it joins."
    )
    calendar_provider = models.CharField(
        max_length=20,
        null=True,
        blank=True,
        choices=[(name, name) for name in rules.CALENDAR_PROVIDERS],
    )
    match_mode = models.CharField(max_length=10, choices=MatchMode.choices, default="all")
    keywords = models.JSONField(default=list, blank=True)
    whole_word = models.BooleanField(default=False)
    exclude_patterns = models.JSONField(default=list, blank=True)
    organizer_emails = models.JSONField(default=list, blank=True)
    attendee_emails = models.JSONField(default=list, blank=True)
    min_attendees = models.PositiveIntegerField(default=0)
    max_attendees = models.PositiveIntegerField(null=True, blank=True)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.ANY)
    recurring = models.BooleanField(null=True, blank=True)
    meeting_platforms = models.JSONField(default=list, blank=True)
    days_of_week = models.JSONField(default=list, blank=True, help_text="0 = Monday ... 6 = Sunday")
    time_window_start = models.TimeField(null=True, blank=True)
    time_window_end = models.TimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")

    objects = AutoJoinRuleQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["project", "calendar_user"], name="autojoinrule_owner"),
            models.Index(fields=["calendar_user"], name="autojoinrule_calendar_user"),
        ]
        ordering = ["-priority", "created_at", "id"]

    def __str__(self) -> str:
        return self.name

    def upcoming_meetings(self, now):
        """The meetings whose decision this rule may change: the upcoming meetings of its
        calendar user, or for a project default those of every calendar user of the project."""
        meetings = Meeting.objects.upcoming(now)
        if self.calendar_user_id is not None:
            return meetings.filter(calendar__calendar_user_id=self.calendar_user_id)
        return meetings.filter(project_id=self.project_id, calendar__calendar_user__isnull=False)

    def mark_upcoming(self, now) -> int:
        """Mark `upcoming_meetings` `needs_reconcile` in one UPDATE (the periodic drain,
        bots/reconcile.py reconcile_pending, re-decides them even if nothing else does)."""
        return (
            self.upcoming_meetings(now).filter(needs_reconcile=False).update(needs_reconcile=True)
        )

    def clean(self) -> None:
        """Every rule of a rule, for the admin's form and the API alike: field errors with a
        code (`invalid_timezone`, `window_end_before_start`, `unknown_weekday`,
        `invalid_address`, `too_many_items`, `regex_too_expensive`, ...)."""
        errors: dict[str, list] = {}

        def refuse(name: str, message: str, code: str) -> None:
            errors.setdefault(name, []).append(ValidationError(message, code=code))

        if isinstance(self.name, str):
            if self.name and not self.name.strip():  # "" is the field's own error
                refuse("name", "A rule needs a name.", "blank")
            self.name = self.name.strip()
        if isinstance(self.priority, int) and abs(self.priority) > rules.MAX_PRIORITY:
            refuse("priority", f"Between -{rules.MAX_PRIORITY} and {rules.MAX_PRIORITY}.", "range")
        if (
            self.calendar_user_id is not None
            and self.project_id is not None
            and self.calendar_user.project_id != self.project_id
        ):
            refuse("calendar_user", "Belongs to another project.", "wrong_project")
        if self.calendar_provider == "":
            self.calendar_provider = None
        self._clean_lists(refuse)
        self._clean_when(refuse)
        self._clean_bot(refuse)
        low, high = self.min_attendees, self.max_attendees
        for name, value in (("min_attendees", low), ("max_attendees", high)):
            if isinstance(value, int) and value > rules.MAX_ATTENDEES:
                refuse(name, f"At most {rules.MAX_ATTENDEES}.", "range")
        if isinstance(low, int) and isinstance(high, int) and high < low:
            refuse("max_attendees", "Must not be below min_attendees.", "max_below_min")
        if self.match_mode == self.MatchMode.KEYWORD and not self.keywords:
            refuse("keywords", "match_mode keyword needs at least one keyword.", "required")
        if self.match_mode == self.MatchMode.ORGANIZER and not self.organizer_emails:
            refuse(
                "organizer_emails", "match_mode organizer needs at least one address.", "required"
            )
        if errors:
            raise ValidationError(errors)

    def _clean_lists(self, refuse) -> None:
        """The list fields: each a JSON list of valid, distinct items, normalised."""

        def each(name, limit, convert):
            value = getattr(self, name)
            if value is None:
                value = []
            if not isinstance(value, list):
                refuse(name, "Must be a list.", "not_a_list")
                return
            if len(value) > limit:
                refuse(name, f"At most {limit} items.", "too_many_items")
                return
            cleaned = []
            for item in value:
                try:
                    item = convert(item)
                except ValidationError as exc:
                    refuse(name, exc.messages[0], exc.code)
                    return
                if item not in cleaned:
                    cleaned.append(item)
            setattr(self, name, sorted(cleaned) if name == "days_of_week" else cleaned)

        def keyword(item):
            if not isinstance(item, str) or not item.strip():
                raise ValidationError("Keywords must be non-empty strings.", code="invalid_keyword")
            if len(item) > rules.MAX_KEYWORD_CHARS:
                raise ValidationError(
                    f"Keywords have at most {rules.MAX_KEYWORD_CHARS} characters.",
                    code="invalid_keyword",
                )
            return item.strip()

        def pattern(item):
            rules.check_pattern(item)
            return item

        def platform(item):
            if item not in rules.MEETING_PLATFORMS:
                raise ValidationError(
                    f"Unknown meeting platform {str(item)[:40]!r}; use one of: "
                    f"{', '.join(rules.MEETING_PLATFORMS)}.",
                    code="unknown_platform",
                )
            return item

        def weekday(item):
            if type(item) is not int or not 0 <= item <= 6:
                raise ValidationError(
                    f"Unknown weekday {str(item)[:20]!r}: use 0 (Monday) to 6 (Sunday).",
                    code="unknown_weekday",
                )
            return item

        each("keywords", rules.MAX_ITEMS, keyword)
        each("exclude_patterns", rules.MAX_PATTERNS, pattern)
        each("organizer_emails", rules.MAX_ITEMS, rules.normalize_address)
        each("attendee_emails", rules.MAX_ITEMS, rules.normalize_address)
        each("meeting_platforms", len(rules.MEETING_PLATFORMS), platform)
        each("days_of_week", 7, weekday)

    def _clean_when(self, refuse) -> None:
        try:
            rules.check_timezone(self.timezone)
        except ValidationError as exc:
            refuse("timezone", exc.messages[0], exc.code)
        start, end = self.time_window_start, self.time_window_end
        if not all(value is None or isinstance(value, datetime.time) for value in (start, end)):
            return  # not a time: the field's own error
        for name, value in (("time_window_start", start), ("time_window_end", end)):
            if value is not None and (value.second or value.microsecond):
                refuse(name, "Use whole minutes (HH:MM).", "whole_minutes")
        if (start is None) != (end is None):
            missing = "time_window_end" if end is None else "time_window_start"
            refuse(missing, "A time window needs both its start and its end.", "required")
        elif start is not None and end <= start:
            refuse(
                "time_window_end",
                "The window must end after it starts (windows cannot cross midnight).",
                "window_end_before_start",
            )

    def _clean_bot(self, refuse) -> None:
        """Bot settings belong to joining rules, and the bot_config must be one the project's
        backend accepts once merged over the project's preset - checked by the same registered
        checks as the project's own (Project.setting_checks), so meetings imports no bots."""
        if self.action == self.Action.SKIP:
            for name in ("bot_name", "bot_config"):
                if getattr(self, name):
                    refuse(name, "Only a joining rule sets the bot.", "only_for_join")
            return
        if self.bot_config is None:
            self.bot_config = {}
        if not isinstance(self.bot_config, dict):
            refuse("bot_config", "Must be a JSON object.", "not_an_object")
            return
        if not self.bot_config or self.project_id is None:
            return
        merged = copy.copy(self.project)
        merged.bot_config = {**(self.project.bot_config or {}), **self.bot_config}
        for check in Project.setting_checks:
            for message in check(merged).get("bot_config", []):
                refuse("bot_config", message, "invalid_bot_config")

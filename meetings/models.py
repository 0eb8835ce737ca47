from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from projects.models import BaseModel, Project


class PayloadField(models.JSONField):
    """A JSON document sent as a plain parameter.

    On PostgreSQL Django bulk-inserts through UNNEST of one array per column, and psycopg
    escapes text arrays in Python: for provider payloads (kilobytes of JSON per row) that is
    slower than the multi-row VALUES form. A field with `get_placeholder` opts the insert out.
    """

    def get_placeholder(self, value, compiler, connection):
        return "%s"


class Meeting(BaseModel):
    """One event instance of a connected calendar inside the sync horizon.

    Never hard-deleted by sync: an event that disappears at the provider gets `is_deleted`.
    """

    class Status(models.TextChoices):
        CONFIRMED = "confirmed"
        TENTATIVE = "tentative"
        CANCELLED = "cancelled"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="meetings")
    calendar = models.ForeignKey(
        "calendars.Calendar", on_delete=models.CASCADE, related_name="meetings"
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
            models.Index(F("project"), Upper("organizer_email"), name="meeting_project_organizer"),
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

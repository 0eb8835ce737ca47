from django.db import models
from django.db.models import Q
from django.utils import timezone

from meetings.models import Meeting
from projects.models import BaseModel, Project

TERMINAL_STATUSES = ("done", "fatal", "cancelled")


class Bot(BaseModel):
    """A bot scheduled to join one meeting URL at `join_at`, possibly serving several meetings
    (the same meeting seen through several calendar users' calendars)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        DISPATCHING = "dispatching"
        JOINING_CALL = "joining_call"
        IN_WAITING_ROOM = "in_waiting_room"
        IN_CALL_NOT_RECORDING = "in_call_not_recording"
        IN_CALL_RECORDING = "in_call_recording"
        CALL_ENDED = "call_ended"
        DONE = "done"
        FATAL = "fatal"
        CANCELLED = "cancelled"

    TERMINAL_STATUSES = TERMINAL_STATUSES

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="bots")
    meetings = models.ManyToManyField(Meeting, related_name="bots", blank=True)
    meeting_url = models.TextField()
    meeting_platform = models.CharField(max_length=40, null=True, blank=True)
    join_at = models.DateTimeField()
    name = models.CharField(max_length=100)
    config = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    deduplication_key = models.CharField(max_length=2000)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.SCHEDULED)
    status_changes = models.JSONField(default=list, blank=True, editable=False)
    backend = models.CharField(max_length=40, blank=True, default="")
    backend_bot_id = models.CharField(max_length=255, blank=True, default="")
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Never two live bots for one deduplication key: the double-booking guard.
            models.UniqueConstraint(
                fields=["project", "deduplication_key"],
                condition=~Q(status__in=TERMINAL_STATUSES),
                name="bot_one_live_per_dedup_key",
            )
        ]
        indexes = [
            models.Index(fields=["status", "join_at"], name="bot_status_join_at"),
            models.Index(fields=["project", "-created_at"], name="bot_project_created"),
            models.Index(fields=["backend", "backend_bot_id"], name="bot_backend_ref"),
        ]
        ordering = ["join_at"]

    def __str__(self) -> str:
        return f"{self.name} → {self.meeting_url} @ {self.join_at:%Y-%m-%d %H:%M}"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL_STATUSES

    def set_status(self, status: str, *, sub_code: str | None = None, message: str = "") -> None:
        """Move to `status`, appending to the history. Caller saves."""
        self.status = status
        self.status_changes = [
            *self.status_changes,
            {
                "code": status,
                "sub_code": sub_code,
                "message": message,
                "created_at": timezone.now().isoformat(),
            },
        ]

import json
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from meetings.models import Meeting
from projects.fields import EncryptedTextField
from projects.models import BaseModel, Project
from projects.validators import JsonObjectValidator

BOT_METADATA_MAX_BYTES = 32768


class BotStatus(models.TextChoices):
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    JOINING_CALL = "joining_call"
    IN_WAITING_ROOM = "in_waiting_room"
    IN_CALL_NOT_RECORDING = "in_call_not_recording"
    RECORDING_PERMISSION_ALLOWED = "recording_permission_allowed"
    RECORDING_PERMISSION_DENIED = "recording_permission_denied"
    IN_CALL_RECORDING = "in_call_recording"
    CALL_ENDED = "call_ended"
    DONE = "done"
    FATAL = "fatal"
    CANCELLED = "cancelled"


TERMINAL_STATUSES = (BotStatus.DONE, BotStatus.FATAL, BotStatus.CANCELLED)
LIVE_STATUSES = tuple(status for status in BotStatus if status not in TERMINAL_STATUSES)

# What a bot runner may report, in the order a bot lives through them. A report moves a bot
# forward only (a later phase), except inside the in-call phase, where the recording codes
# follow each other freely (recording paused and resumed, permission asked again...).
# `fatal` is accepted from every live status. Nothing is accepted once a bot is terminal.
REPORT_PHASES = {
    BotStatus.JOINING_CALL: 2,
    BotStatus.IN_WAITING_ROOM: 3,
    BotStatus.IN_CALL_NOT_RECORDING: 4,
    BotStatus.RECORDING_PERMISSION_ALLOWED: 4,
    BotStatus.RECORDING_PERMISSION_DENIED: 4,
    BotStatus.IN_CALL_RECORDING: 4,
    BotStatus.CALL_ENDED: 5,
    BotStatus.DONE: 6,
    BotStatus.FATAL: 7,
}
STATUS_PHASES = {BotStatus.SCHEDULED: 0, BotStatus.DISPATCHED: 1, **REPORT_PHASES}


class BotQuerySet(models.QuerySet):
    def live(self) -> "BotQuerySet":
        """Bots not done, failed or cancelled (at most one per deduplication key)."""
        return self.exclude(status__in=TERMINAL_STATUSES)

    def movable(self) -> "BotQuerySet":
        """Bots that have not joined yet: reconciliation may still move, re-link or cancel them."""
        return self.filter(status__in=Bot.MOVABLE_STATUSES)

    def due(self, now) -> "BotQuerySet":
        """Scheduled bots whose join time has come: dispatch them (bots/dispatch.py)."""
        return self.filter(status=BotStatus.SCHEDULED, join_at__lte=now)

    def record_status(self, entry: dict, *, at) -> int:
        """`Bot.set_status` for every bot of the queryset in one UPDATE: status `entry["code"]`
        and `entry` appended to each bot's own history (in SQL, so each keeps its earlier
        entries). The caller has the rows locked."""
        return self.update(
            status=entry["code"],
            status_changes=_AppendToList("status_changes", entry),
            updated_at=at,
        )


class _AppendToList(models.Func):
    """A JSON list column with one item added at its end (PostgreSQL and SQLite)."""

    output_field = models.JSONField()

    def __init__(self, column: str, item):
        super().__init__(models.F(column), models.Value(json.dumps(item, cls=DjangoJSONEncoder)))

    def _compiled(self, compiler):
        column, column_params = compiler.compile(self.source_expressions[0])
        item, item_params = compiler.compile(self.source_expressions[1])
        return column, item, (*column_params, *item_params)

    def as_postgresql(self, compiler, connection, **extra):
        column, item, params = self._compiled(compiler)
        return f"({column} || jsonb_build_array(({item})::jsonb))", params

    def as_sqlite(self, compiler, connection, **extra):
        # "$[#]" is the position past the last item; json() makes the text a JSON value.
        column, item, params = self._compiled(compiler)
        return f"json_insert({column}, '$[#]', json({item}))", params

    def as_sql(self, compiler, connection, **extra):
        raise NotImplementedError(f"Appending to a JSON list on {connection.vendor}")


class Bot(BaseModel):
    """A bot scheduled to join one meeting URL at `join_at`, possibly serving several meetings
    (the same meeting seen through several calendar users' calendars).

    The `backend_*` fields record what the project's dispatch backend last acknowledged, so a
    push only sends what changed and a repeated push does nothing.
    """

    Status = BotStatus

    TERMINAL_STATUSES = TERMINAL_STATUSES
    # Not joined yet: reconciliation may still move, re-link or cancel these.
    MOVABLE_STATUSES = (Status.SCHEDULED, Status.DISPATCHED)
    LIVE_STATUSES = LIVE_STATUSES
    REPORTABLE_STATUSES = tuple(REPORT_PHASES)

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
    dispatched_at = models.DateTimeField(null=True, blank=True)

    backend = models.CharField(max_length=40, blank=True, default="")
    backend_bot_id = models.CharField(max_length=255, blank=True, default="")
    backend_join_at = models.DateTimeField(null=True, blank=True)
    backend_meeting_url = models.TextField(blank=True, default="")
    backend_name = models.CharField(max_length=100, blank=True, default="")
    backend_synced_at = models.DateTimeField(null=True, blank=True)
    backend_error = models.TextField(blank=True, default="")
    backend_attempts = models.PositiveIntegerField(
        default=0, help_text="Failed pushes in a row; reset by a successful one."
    )
    backend_retry_at = models.DateTimeField(null=True, blank=True)
    backend_lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    objects = BotQuerySet.as_manager()

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
            models.Index(fields=["project", "join_at"], name="bot_project_join_at"),
            models.Index(fields=["backend", "backend_bot_id"], name="bot_backend_ref"),
            models.Index(
                fields=["backend_retry_at"],
                condition=Q(backend_retry_at__isnull=False),
                name="bot_backend_retry_due",
            ),
        ]
        ordering = ["join_at"]

    def __str__(self) -> str:
        return f"{self.name} → {self.meeting_url} @ {self.join_at:%Y-%m-%d %H:%M}"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL_STATUSES

    @property
    def is_movable(self) -> bool:
        return self.status in self.MOVABLE_STATUSES

    @staticmethod
    def status_entry(
        status: str, *, sub_code: str | None = None, message: str = "", at=None
    ) -> dict:
        """One entry of `status_changes` (at `at`, default now)."""
        return {
            "code": status,
            "sub_code": sub_code,
            "message": message,
            "created_at": (at or timezone.now()).isoformat(),
        }

    def set_status(self, status: str, *, sub_code: str | None = None, message: str = "") -> None:
        """Move to `status`, appending to the history. Caller saves."""
        self.status = status
        self.status_changes = [
            *self.status_changes,
            self.status_entry(status, sub_code=sub_code, message=message),
        ]

    def report_refusal(self, code: str, *, now) -> tuple[str, str] | None:
        """Why a runner's report of `code` is refused - (error code, message) - or None.

        The transition table: see REPORT_PHASES. A report of the current status is not a
        transition (the caller treats it as a repeat).
        """
        if code not in REPORT_PHASES:
            if code in STATUS_PHASES or code == self.Status.CANCELLED:
                return "status_not_reportable", (
                    f"`{code}` is set by calsync, not reported. Runners report one of: "
                    f"{', '.join(REPORT_PHASES)}."
                )
            return "unknown_status_code", (
                f"Unknown status code `{code}`. Use one of: {', '.join(REPORT_PHASES)}."
            )
        if self.is_terminal:
            return "bot_terminal", f"The bot is `{self.status}`; it takes no more reports."
        if code == self.Status.FATAL:
            return None
        if self.status == self.Status.SCHEDULED and self.join_at > now:
            return "bot_not_dispatched", (
                f"The bot is scheduled to join at {self.join_at.isoformat()} and has not been "
                "dispatched (it may have been rescheduled after a dispatch: drop that one)."
            )
        current = STATUS_PHASES.get(self.status, 0)
        if REPORT_PHASES[code] < current:
            return "invalid_transition", (f"A bot cannot go from `{self.status}` back to `{code}`.")
        return None

    def clean(self) -> None:
        """What staff may save in the admin: config and metadata are JSON objects, and the
        config fits the bot's backend (as a project's bot_config must)."""
        from .backends import validate_bot_config

        errors = {}
        try:
            validate_bot_config(
                self.config, backend=self.backend or self.project.bot_dispatch_backend
            )
        except ValidationError as exc:
            errors["config"] = exc.messages
        try:
            JsonObjectValidator(BOT_METADATA_MAX_BYTES)(self.metadata)
        except ValidationError as exc:
            errors["metadata"] = exc.messages
        if errors:
            raise ValidationError(errors)


class BotBackendConfig(BaseModel):
    """Where a project's bots are sent, for backends that call an external bot API."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="bot_backend_config"
    )
    base_url = models.URLField(
        max_length=500, help_text="The bot API's root, e.g. https://app.attendee.dev"
    )
    api_key = EncryptedTextField(help_text="Sent as `Authorization: Token <key>`.")
    # Staff's allowance to reach private addresses, bound to the base URL they approved.
    private_addresses_url = models.URLField(
        max_length=500,
        blank=True,
        default="",
        editable=False,
        help_text="The base URL staff allowed to be a private, loopback or link-local address.",
    )

    class Meta:
        verbose_name = "bot backend configuration"

    def __str__(self) -> str:
        return f"{self.project} → {self.base_url}"

    @property
    def allow_private_addresses(self) -> bool:
        """Allow a base URL on a private, loopback or link-local address (a runner on your own
        network). It covers the base URL staff approved, and ends when the URL changes."""
        return bool(self.private_addresses_url) and self.private_addresses_url == self.base_url

    @allow_private_addresses.setter
    def allow_private_addresses(self, allowed: bool) -> None:
        self.private_addresses_url = self.base_url if allowed else ""

    def clean(self) -> None:
        problem = base_url_problem(self.base_url)
        if problem:
            raise ValidationError({"base_url": problem})


def base_url_problem(url: str) -> str | None:
    """Why a bot API base URL may not be used (the API key travels to it), or None: https
    (http only with DEBUG), a host, no credentials, no query or fragment."""
    parts = urlsplit(url or "")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return "The port is not valid."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Enter an absolute https URL."
    if parts.scheme != "https" and not settings.DEBUG:
        return "The bot API must be reached over https: the API key is sent with every request."
    if parts.username is not None or parts.password is not None:
        return "Put no credentials in the URL: the API key is set separately."
    if parts.query or parts.fragment:
        return "The base URL takes no query or fragment."
    return None

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from config import leases
from projects.fields import EncryptedTextField
from projects.models import BaseModel, Project
from projects.validators import JsonObjectValidator

from .platforms import Platform
from .validators import check_external_id

METADATA_MAX_BYTES = 8192
# How long a calendar's sync history (CalendarSyncEvent) is kept: enough to see a pattern.
SYNC_HISTORY_DAYS = 14


class OAuthApp(BaseModel):
    """A project's own OAuth client for one provider, used by the hosted connect flow."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="oauth_apps")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    client_id = models.CharField(max_length=255)
    client_secret = EncryptedTextField()
    tenant = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="Microsoft only: directory tenant; empty means 'common' (any account).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "platform"], name="oauthapp_one_per_platform"
            )
        ]
        verbose_name = "OAuth app"

    def __str__(self) -> str:
        return f"{self.get_platform_display()} app {self.client_id}"

    def clean(self) -> None:
        from .providers import get_provider

        if self.platform in Platform.values:
            try:
                get_provider(self.platform).check_tenant(self.tenant)
            except ValueError as exc:
                raise ValidationError({"tenant": str(exc)}) from None


class CalendarUser(BaseModel):
    """An end user of the customer's app, known by the customer's own id (`external_id`)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="calendar_users")
    external_id = models.CharField(max_length=255)
    # Recording preferences (Recall Calendar V1 semantics). All off: nothing is recorded.
    preferences_id = models.UUIDField(default=uuid.uuid4, editable=False)
    record_non_host = models.BooleanField(default=False)
    record_recurring = models.BooleanField(default=False)
    record_external = models.BooleanField(default=False)
    record_internal = models.BooleanField(default=False)
    record_confirmed = models.BooleanField(default=False)
    record_only_host = models.BooleanField(default=False)
    bot_name = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"], name="calendaruser_external_id_per_project"
            )
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.external_id

    def clean(self) -> None:
        try:
            check_external_id(self.external_id)
        except ValidationError as exc:
            raise ValidationError({"external_id": exc.messages}) from None


class CalendarState(models.TextChoices):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


SYNC_LEASE_FIELD = "sync_lease_expires_at"


def sync_failure(error: Exception, **extra) -> dict:
    """What `connection_failure_data` says of a failed sync attempt."""
    return {
        "error": getattr(error, "code", error.__class__.__name__),
        "message": str(error)[:500],
        **extra,
        "timestamp": timezone.now().isoformat(),
    }


class CalendarQuerySet(models.QuerySet):
    """Everything that selects or marks many calendars at once has a name here; what happens
    to one calendar is a method of Calendar (the caller saves)."""

    def live(self) -> "CalendarQuerySet":
        """Not disconnected: these sync (at most one per calendar user and platform)."""
        return self.exclude(state=CalendarState.DISCONNECTED)

    def lease_free(self, now: datetime) -> "CalendarQuerySet":
        """No worker is syncing these at `now` (calendars/sync/lease.py)."""
        return self.filter(leases.free(SYNC_LEASE_FIELD, now))

    def due(self, now: datetime) -> "CalendarQuerySet":
        """Live calendars nobody is syncing that should be: push-marked, never synced, past their
        poll interval, past their back-off, or whose last attempt died without an outcome (its
        worker was killed: the lease expired and `sync_finished_at` is older than the attempt)."""
        stale = now - timedelta(seconds=settings.SYNC_POLL_INTERVAL_SECONDS)
        died = Q(last_attempted_sync_at__isnull=False) & (
            Q(sync_finished_at__isnull=True) | Q(sync_finished_at__lt=F("last_attempted_sync_at"))
        )
        return (
            self.live()
            .lease_free(now)
            .filter(
                Q(sync_due_at__lte=now)
                | Q(sync_due_at__isnull=True, last_attempted_sync_at__isnull=True)
                | Q(sync_due_at__isnull=True, last_attempted_sync_at__lte=stale)
                | (Q(sync_due_at__isnull=True) & died)
            )
        )

    def unannounced(self) -> "CalendarQuerySet":
        """Calendars whose announcement watermark is behind their last sync attempt's start."""
        return self.filter(
            Q(last_attempted_sync_at__isnull=False)
            & (
                Q(announced_through__isnull=True)
                | Q(announced_through__lt=F("last_attempted_sync_at"))
            )
        )

    def mark_due(self, now: datetime | None = None) -> int:
        """Mark the live calendars that are not due yet due `now`; a calendar already due (or in
        back-off) keeps its time. Returns how many were marked."""
        return (
            self.filter(sync_due_at__isnull=True).live().update(sync_due_at=now or timezone.now())
        )

    def schedule_sync(self, at: datetime) -> int:
        """Due at `at`, whatever was asked before (the sync job is queued by the caller)."""
        return self.update(sync_due_at=at)

    def record_sync_failure(self, error: Exception, *, failures: int, retry_at: datetime) -> int:
        """A failed attempt, the `failures`-th in a row, retried at `retry_at` (its back-off)."""
        return self.update(
            consecutive_sync_failures=failures,
            sync_due_at=retry_at,
            connection_failure_data=sync_failure(error, retrying=True),
        )

    def store_tokens(self, credentials) -> int:
        """The provider's current tokens (`Credentials`), in their own statement: a rotated
        refresh token must never be lost."""
        return self.update(
            refresh_token=credentials.refresh_token,
            access_token=credentials.access_token,
            access_token_expires_at=credentials.access_token_expires_at,
        )

    def mark_announced(self, through: datetime) -> int:
        """Every meeting change committed up to `through` is announced."""
        return self.update(announced_through=through)

    def bots_settled(self) -> int:
        """No meeting decided to record waits for its bot any more (clears `bots_pending`)."""
        return self.update(bots_pending=False)

    def drop_push_channel(self) -> int:
        """The provider removed the channel or wants it replaced: the next sync opens a new one."""
        return self.update(push_expires_at=None)

    def locking(self, calendar_ids) -> "CalendarQuerySet":
        """These calendars, their rows locked until the transaction ends when evaluated, always
        in primary-key order (every writer of a calendar's meetings or bots takes these locks
        first, so two transactions never wait on each other in a cycle). No-op on SQLite, whose
        writers are serialized anyway."""
        return (
            self.select_for_update(of=("self",))
            .filter(pk__in=list(set(calendar_ids)))
            .order_by("pk")
        )

    def lock(self, calendar_ids) -> list:
        """Lock these calendars' rows (see `locking`); their ids."""
        return list(self.locking(calendar_ids).values_list("pk", flat=True))


class Calendar(BaseModel):
    """One connected provider calendar (the account's primary one unless `platform_calendar_id`)."""

    State = CalendarState

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="calendars")
    # Set when connected through the hosted (Recall V1) flow; server-API calendars stand alone.
    calendar_user = models.ForeignKey(
        CalendarUser, on_delete=models.CASCADE, related_name="calendars", null=True, blank=True
    )
    platform = models.CharField(max_length=20, choices=Platform.choices)
    # Customer-owned OAuth client (server API); empty means the project's OAuthApp.
    oauth_client_id = models.CharField(max_length=255, blank=True, default="")
    oauth_client_secret = EncryptedTextField()
    refresh_token = EncryptedTextField()
    email = models.EmailField(blank=True, default="", help_text="The connected account's email.")
    platform_calendar_id = models.CharField(
        max_length=1024, blank=True, default="", help_text="Provider calendar id; empty = primary."
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.CONNECTING)
    connection_failure_data = models.JSONField(null=True, blank=True)
    state_history = models.JSONField(default=list, blank=True, editable=False)
    metadata = models.JSONField(default=dict, blank=True)
    deduplication_key = models.CharField(max_length=2000, null=True, blank=True)

    # The last access token, so most syncs need no token request.
    access_token = EncryptedTextField(editable=False)
    access_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Sync bookkeeping (see calendars/sync/). The cursor covers [sync_window_start, _end).
    sync_cursor = models.TextField(blank=True, default="", editable=False)
    sync_window_start = models.DateTimeField(null=True, blank=True, editable=False)
    sync_window_end = models.DateTimeField(null=True, blank=True, editable=False)
    sync_due_at = models.DateTimeField(null=True, blank=True)
    sync_lease_owner = models.CharField(max_length=100, blank=True, default="", editable=False)
    sync_lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_attempted_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_successful_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the last attempt ended, whatever its outcome. An attempt started after it with the
    # lease expired died with its worker: the sweeper re-queues the calendar.
    sync_finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Every meeting change committed up to here is announced (calendar.sync_events); moved
    # forward in the transaction that writes the announcement (calendars/services.py).
    announced_through = models.DateTimeField(null=True, blank=True, editable=False)
    # A sync page inserted meetings decided to record (they wait for their bots): set in the
    # page's transaction, cleared by the reconciliation that found none left without a bot.
    bots_pending = models.BooleanField(default=False, editable=False)
    consecutive_sync_failures = models.PositiveIntegerField(default=0, editable=False)

    # Provider push channel (Google watch channel / Graph subscription).
    push_channel_id = models.CharField(max_length=255, blank=True, default="", editable=False)
    push_resource_id = models.CharField(max_length=1024, blank=True, default="", editable=False)
    push_token = EncryptedTextField(editable=False)
    push_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CalendarQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["calendar_user", "platform"],
                condition=~Q(state=CalendarState.DISCONNECTED),
                name="calendar_one_live_per_user_platform",
            ),
            models.UniqueConstraint(
                fields=["project", "deduplication_key"],
                condition=Q(deduplication_key__isnull=False),
                name="calendar_dedup_key_per_project",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="calendar_project_created"),
            models.Index(fields=["state", "sync_due_at"], name="calendar_sync_due"),
            models.Index(fields=["push_channel_id"], name="calendar_push_channel"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.email or self.pk}"

    def clean(self) -> None:
        try:
            JsonObjectValidator(METADATA_MAX_BYTES)(self.metadata)
        except ValidationError as exc:
            raise ValidationError({"metadata": exc.messages}) from None

    def set_state(self, state: str, *, failure: dict | None = None) -> dict:
        """Move to `state`, recording why in the history; `updated_at` moves with it (clients
        poll it to see a state change). Caller saves; returns the fields written, for a caller
        that stores them with an UPDATE, which skips `auto_now` (the sync engine)."""
        now = timezone.now()
        self.state = state
        self.connection_failure_data = failure
        self.state_history = [
            *self.state_history,
            {"state": state, "at": now.isoformat(), "failure": failure},
        ]
        self.updated_at = now
        return {
            "state": state,
            "connection_failure_data": failure,
            "state_history": self.state_history,
            "updated_at": now,
        }

    def mark_disconnected(self, error: Exception) -> None:
        """The provider refused us for good: stop syncing until the credentials change. The push
        channel dies with the grant (nothing can stop it any more). Caller saves."""
        self.set_state(
            self.State.DISCONNECTED,
            failure=sync_failure(error, detail=getattr(error, "detail", {})),
        )
        self.forget_push_channel()
        self.sync_due_at = None

    def reset_credentials(
        self, *, client_secret: str | None = None, refresh_token: str | None = None
    ) -> None:
        """New credentials (those given): everything the old ones gave is forgotten (access
        token, cursor and window, failures, push channel) and the calendar is `connecting` until
        its next sync. Caller saves."""
        if client_secret is not None:
            self.oauth_client_secret = client_secret
        if refresh_token is not None:
            self.refresh_token = refresh_token
        self.access_token = self.sync_cursor = self.sync_lease_owner = ""
        self.access_token_expires_at = None
        self.forget_push_channel()
        # A sync still running with the old credentials loses its lease and stops writing.
        self.sync_lease_expires_at = None
        self.sync_window_start = self.sync_window_end = None
        self.consecutive_sync_failures = 0
        self.set_state(self.State.CONNECTING)

    def use_push_channel(self, channel, token: str) -> list[str]:
        """Notifications now arrive through `channel`, signed with `token`. Caller saves the
        fields returned."""
        self.push_channel_id = channel.id
        self.push_resource_id = channel.resource_id
        self.push_token = token
        self.push_expires_at = channel.expires_at
        return ["push_channel_id", "push_resource_id", "push_token", "push_expires_at"]

    def forget_push_channel(self) -> None:
        """No channel any more (gone with the grant, or replaced credentials). Caller saves."""
        self.push_channel_id = self.push_resource_id = self.push_token = ""
        self.push_expires_at = None


class CalendarSyncEventQuerySet(models.QuerySet):
    def prune(self, before: datetime) -> int:
        """Retention: the events older than `before` go (the daily cleanup job)."""
        deleted, _ = self.filter(at__lt=before).delete()
        return deleted


class CalendarSyncEvent(models.Model):
    """One line of a calendar's sync history, for support staff: a sync attempt and its outcome,
    a push notification that asked for a sync, a push channel opened. One INSERT per attempt
    (calendars/sync/outcomes.py: calendar_record_attempt), never one per page; kept
    SYNC_HISTORY_DAYS (calendars/jobs.py: purge_old_meetings, daily)."""

    class Kind(models.TextChoices):
        SYNCED = "synced", "sync"
        FAILED = "failed", "sync failed, retrying"
        DISCONNECTED = "disconnected", "sync refused: disconnected"
        CRASHED = "crashed", "sync crashed"
        PUSH = "push", "push notification"
        CHANNEL = "channel", "push channel opened"
        CHANNEL_FAILED = "channel_failed", "push channel failed"

    FAILURES = (Kind.FAILED, Kind.DISCONNECTED, Kind.CRASHED, Kind.CHANNEL_FAILED)

    id = models.BigAutoField(primary_key=True)
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="sync_events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    full = models.BooleanField(default=False, help_text="A full round (no cursor).")
    changed = models.PositiveIntegerField(default=0, help_text="Meetings written or deleted.")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True, default="")

    objects = CalendarSyncEventQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["calendar", "-at"], name="syncevent_calendar_at"),
            # The overview's last 24 h and the retention's delete.
            models.Index(fields=["at"], name="syncevent_at"),
        ]
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.at:%Y-%m-%d %H:%M}"

    @property
    def is_failure(self) -> bool:
        return self.kind in self.FAILURES

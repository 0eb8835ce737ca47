import hashlib
import secrets
import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from .validators import normalize_origins

API_KEY_PREFIX = "csk_"
API_KEY_VISIBLE_CHARS = 12
LAST_USED_PRECISION = timedelta(minutes=5)


class BaseModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Project(BaseModel):
    """One tenant: a customer application. Every other object belongs to exactly one project."""

    name = models.CharField(max_length=200)
    allowed_redirect_origins = models.JSONField(
        default=list,
        blank=True,
        help_text="Origins (scheme://host[:port]) that OAuth success/error URLs may point to.",
    )
    cors_allowed_origins = models.JSONField(
        default=list,
        blank=True,
        help_text="Browser origins allowed to call the calendar-token API; empty allows any.",
    )
    bot_name = models.CharField(max_length=100, default="Meeting Notetaker")
    bot_join_lead_seconds = models.PositiveIntegerField(
        default=120, help_text="How long before a meeting starts its bot is sent."
    )
    bot_deduplication = models.BooleanField(
        default=True, help_text="One bot per meeting across all calendar users of the project."
    )
    bot_dispatch_backend = models.CharField(max_length=40, default="local")
    bot_config = models.JSONField(
        default=dict, blank=True, help_text="Configuration preset sent with every calendar bot."
    )
    sync_days_past = models.PositiveSmallIntegerField(default=1)
    sync_days_future = models.PositiveSmallIntegerField(default=60)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # Checks of this project's settings that apps above projects own (the bots app checks the
    # dispatch backend and bot_config): `check(project) -> {field: [messages]}`, registered in
    # their AppConfig.ready(), so projects imports none of them.
    setting_checks: list = []

    def clean(self) -> None:
        """The rules the API applies, for the admin's form too: origins normalised, and the
        registered checks (a known dispatch backend, a bot_config the backend accepts)."""
        errors = {}
        for name in ("allowed_redirect_origins", "cors_allowed_origins"):
            try:
                setattr(self, name, normalize_origins(getattr(self, name)))
            except ValidationError as exc:
                errors[name] = exc.messages
        for check in self.setting_checks:
            errors.update(check(self))
        if errors:
            raise ValidationError(errors)


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(BaseModel):
    """A server credential. Only a SHA-256 digest is stored; the key is shown once at creation.

    Keys carry 256 random bits, so a fast digest is enough: there is nothing to brute-force.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=API_KEY_VISIBLE_CHARS, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'})"

    @staticmethod
    def digest(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, project: Project, name: str = "") -> tuple["ApiKey", str]:
        raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        api_key = cls.objects.create(
            project=project,
            name=name,
            prefix=raw_key[:API_KEY_VISIBLE_CHARS],
            key_hash=cls.digest(raw_key),
        )
        return api_key, raw_key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at", "updated_at"])

    def touch(self) -> None:
        """Record use, at most one write per key every few minutes."""
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at > LAST_USED_PRECISION:
            ApiKey.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now


class JobFailure(models.Model):
    """A row that a background job could not process, so the job skipped it and went on (one
    project's bad data never stops the others). Cleared when the job next succeeds with it;
    staff see the open ones in the admin and their count in /healthz (projects/failures.py)."""

    job = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True, blank=True)
    error = models.TextField()
    occurrences = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField(default=timezone.now)
    last_failed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["job", "object_type", "object_id"], name="jobfailure_one_per_object"
            )
        ]
        ordering = ["-last_failed_at"]

    def __str__(self) -> str:
        return f"{self.job} {self.object_type} {self.object_id}".strip()

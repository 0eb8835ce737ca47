"""Writes with side effects on calendar users and calendars. Each owns its transaction and queues
follow-up work on commit."""

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from bots.reconcile import reconcile_meetings, redecide
from config.errors import DomainError
from meetings.models import Meeting
from projects.models import Project
from webhooks import events
from webhooks.services import emit_event

from .models import Calendar, CalendarUser
from .providers import get_provider
from .providers.base import (
    AuthRevoked,
    ClientRejected,
    CodeRejected,
    Credentials,
    Grant,
    OAuthClient,
    PermanentError,
    ProviderError,
)
from .push import stop_push_channel
from .sync import sync_calendar_by_id
from .sync.due import calendar_mark_due as calendar_mark_due
from .sync.due import calendar_request_sync
from .sync.outcomes import calendar_mark_disconnected as calendar_mark_disconnected
from .sync.outcomes import emit_state_change, upcoming_meeting_ids

logger = logging.getLogger(__name__)

PREFERENCE_FIELDS = (
    "record_non_host",
    "record_recurring",
    "record_external",
    "record_internal",
    "record_confirmed",
    "record_only_host",
    "bot_name",
)


def calendar_user_get_or_create(*, project: Project, external_id: str) -> CalendarUser:
    try:
        with transaction.atomic():
            calendar_user, _ = CalendarUser.objects.get_or_create(
                project=project, external_id=external_id
            )
    except IntegrityError:  # created concurrently by another request
        calendar_user = CalendarUser.objects.get(project=project, external_id=external_id)
    return calendar_user


@transaction.atomic
def calendar_user_update(
    *, calendar_user: CalendarUser, preferences: dict | None = None, external_id: str | None = None
) -> CalendarUser:
    """Change preferences (the keys given; the others keep their value) and/or the external id.
    An external id another calendar user of the project has is refused (CalendarError 409)."""
    if (
        external_id
        and external_id != calendar_user.external_id
        and CalendarUser.objects.filter(
            project_id=calendar_user.project_id, external_id=external_id
        ).exists()
    ):
        raise CalendarError(
            "conflict",
            "Another calendar user of this project has that external_id.",
            409,
        )
    changed = []
    for name, value in (preferences or {}).items():
        if name in PREFERENCE_FIELDS and getattr(calendar_user, name) != value:
            setattr(calendar_user, name, value)
            changed.append(name)
    if external_id is not None and external_id != calendar_user.external_id:
        calendar_user.external_id = external_id
        changed.append("external_id")
    if changed:
        calendar_user.save(update_fields=[*changed, "updated_at"])
        emit_event(
            project=calendar_user.project,
            event_type=events.CALENDAR_USER_UPDATED,
            data=lambda: events.calendar_user_event(calendar_user),
        )
        # Preferences decide every upcoming meeting of the user.
        redecide(calendar_ids=calendar_user.calendars.values_list("pk", flat=True))
    return calendar_user


def _calendar_remove(calendar: Calendar, *, reason: str) -> None:
    """The calendar and its meetings go; bots that served only them are cancelled."""
    meeting_ids = list(calendar.meetings.values_list("pk", flat=True))
    Meeting.objects.filter(pk__in=meeting_ids).update(is_deleted=True)
    reconcile_meetings(meeting_ids=meeting_ids)
    logger.info("calendar %s removed (%s)", calendar.pk, reason)
    calendar.delete()


def calendar_user_disconnect(*, calendar_user: CalendarUser, platform: str) -> CalendarUser:
    stop_push_channels(calendars=calendar_user.calendars.filter(platform=platform))
    with transaction.atomic():
        for calendar in calendar_user.calendars.select_for_update().filter(platform=platform):
            _calendar_remove(calendar, reason="disconnected")
    return calendar_user


def calendar_user_delete(*, calendar_user: CalendarUser) -> None:
    stop_push_channels(calendars=calendar_user.calendars.all())
    with transaction.atomic():
        # The user's row first, then its calendars: the order an update (which writes the row,
        # then reconciles) and a connect take them, so a concurrent PATCH cannot deadlock this.
        CalendarUser.objects.select_for_update().filter(pk=calendar_user.pk).first()
        for calendar in calendar_user.calendars.select_for_update():
            _calendar_remove(calendar, reason="calendar_user_deleted")
        emit_event(
            project=calendar_user.project,
            event_type=events.CALENDAR_USER_DELETED,
            data=events.calendar_user_event(calendar_user),
        )
        calendar_user.delete()


def stop_push_channels(*, calendars) -> None:
    """Before calendars go: close their provider channels (network, so outside any
    transaction). Best effort: a channel left open expires by itself and its notifications
    find no calendar."""
    for calendar in calendars.exclude(push_channel_id="").select_related("project"):
        stop_push_channel(calendar)


def calendar_connect(*, calendar_user: CalendarUser, platform: str, grant: Grant) -> Calendar:
    """Connect a calendar from a completed OAuth grant. A connection on a platform replaces the
    user's previous one there (its meetings and bots go)."""
    stop_push_channels(calendars=calendar_user.calendars.filter(platform=platform))
    return _calendar_connect(calendar_user=calendar_user, platform=platform, grant=grant)


@transaction.atomic
def _calendar_connect(*, calendar_user: CalendarUser, platform: str, grant: Grant) -> Calendar:
    # Serializes concurrent connects of one user, so the replacement is never lost.
    CalendarUser.objects.select_for_update().filter(pk=calendar_user.pk).first()
    for previous in calendar_user.calendars.filter(platform=platform):
        _calendar_remove(previous, reason="replaced")
    calendar = Calendar(
        project_id=calendar_user.project_id,
        calendar_user=calendar_user,
        platform=platform,
        refresh_token=grant.refresh_token,
        email=grant.email or "",
    )
    calendar.set_state(Calendar.State.CONNECTED)
    calendar.save()
    calendar.project = calendar_user.project
    emit_state_change(calendar, previous_state=None)
    calendar_request_sync(calendar=calendar)
    return calendar


def calendar_drop_push_channel(*, calendar_id) -> None:
    """Forget a channel the provider removed or wants replaced; the next sync opens a new one."""
    Calendar.objects.filter(pk=calendar_id).drop_push_channel()


# --- Server API: calendars with customer-owned OAuth credentials ---------------------------------


class CalendarError(DomainError):
    """A calendar request refused; a conflict names the other calendar (`errors.existing_id`)
    and may name the input field it is about (`errors.<field>`)."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        existing_id=None,
        field_errors: dict | None = None,
    ):
        errors = dict(field_errors or {})
        if existing_id:
            errors["existing_id"] = str(existing_id)
        super().__init__(code, message, status, errors=errors or None)
        self.existing_id = existing_id


# Attendee's words for the field error.
DEDUPLICATION_KEY_TAKEN = "A calendar with this deduplication key already exists in this project."


def _dedup_conflict(project_id, deduplication_key: str | None) -> CalendarError | None:
    """A 400 naming the field, as Attendee answers (`{"deduplication_key": [...]}`), so its
    clients' checks hold; the other calendar's id comes along."""
    if deduplication_key is None:
        return None
    existing = (
        Calendar.objects.filter(project_id=project_id, deduplication_key=deduplication_key)
        .values_list("pk", flat=True)
        .first()
    )
    if existing is None:
        return None
    return CalendarError(
        "deduplication_key_conflict",
        f"A calendar with this deduplication key already exists in this project: {existing}.",
        400,
        existing_id=existing,
        field_errors={"deduplication_key": [DEDUPLICATION_KEY_TAKEN]},
    )


@transaction.atomic
def calendar_create(
    *,
    project: Project,
    platform: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    platform_calendar_id: str = "",
    metadata: dict | None = None,
    deduplication_key: str | None = None,
    external_id: str | None = None,
) -> Calendar:
    """Store a calendar reached with the customer's own OAuth client. It starts `connecting`;
    the first sync (queued on commit) makes it `connected` or `disconnected`."""
    if conflict := _dedup_conflict(project.pk, deduplication_key):
        raise conflict
    calendar_user = (
        calendar_user_get_or_create(project=project, external_id=external_id)
        if external_id
        else None
    )
    calendar = Calendar(
        project=project,
        calendar_user=calendar_user,
        platform=platform,
        oauth_client_id=client_id,
        oauth_client_secret=client_secret,
        refresh_token=refresh_token,
        platform_calendar_id=platform_calendar_id or "",
        metadata=metadata or {},
        deduplication_key=deduplication_key,
    )
    calendar.set_state(Calendar.State.CONNECTING)
    try:
        with transaction.atomic():
            calendar.save()
    except IntegrityError:
        # A concurrent create with the same key, or the user's live calendar on this platform.
        if conflict := _dedup_conflict(project.pk, deduplication_key):
            raise conflict from None
        raise CalendarError(
            "calendar_user_platform_taken",
            f"Calendar user {external_id!r} already has a live {platform} calendar.",
            409,
        ) from None
    calendar_request_sync(calendar=calendar)
    return calendar


def calendar_update(
    *,
    calendar: Calendar,
    client_id: str | None = None,
    client_secret: str | None = None,
    refresh_token: str | None = None,
    metadata: dict | None = None,
) -> Calendar:
    """Change metadata and/or credentials. New credentials (a new OAuth client counts), in one
    transaction: the calendar's upcoming bots are cancelled, the credentials swapped, the sync
    state cleared and a full resync queued (which schedules the bots again). A disconnected
    calendar reconnects so."""
    new_credentials = (
        (client_id is not None and client_id != calendar.oauth_client_id)
        or (client_secret is not None and client_secret != calendar.oauth_client_secret)
        or (refresh_token is not None and refresh_token != calendar.refresh_token)
    )
    if new_credentials:
        stop_push_channels(calendars=Calendar.objects.filter(pk=calendar.pk))
    with transaction.atomic():
        calendar = (
            Calendar.objects.select_for_update().select_related("project").get(pk=calendar.pk)
        )
        if metadata is not None:
            calendar.metadata = metadata
        if not new_credentials:
            calendar.save(update_fields=["metadata", "updated_at"])
            return calendar
        previous_state = calendar.state
        if client_id is not None:
            calendar.oauth_client_id = client_id
        calendar.reset_credentials(client_secret=client_secret, refresh_token=refresh_token)
        calendar.save()
        # The full resync rewrites (and so reconciles) every meeting it still finds.
        Meeting.objects.filter(calendar=calendar).update(fingerprint="")
        reconcile_meetings(meeting_ids=list(upcoming_meeting_ids(calendar=calendar)))
        if previous_state != calendar.state:
            emit_state_change(calendar, previous_state=previous_state)
        calendar_request_sync(calendar=calendar)
    return calendar


def calendar_delete(*, calendar: Calendar) -> None:
    """Close its push channel, cancel the bots of its meetings, delete it and its meetings."""
    stop_push_channels(calendars=Calendar.objects.filter(pk=calendar.pk))
    with transaction.atomic():
        locked = Calendar.objects.select_for_update().filter(pk=calendar.pk).first()
        if locked is not None:
            _calendar_remove(locked, reason="deleted")


def calendar_list_provider_calendars(
    *, platform: str, client_id: str, client_secret: str, refresh_token: str
) -> list:
    """The account's calendars at the provider (nothing stored). Credentials the provider
    refused are the caller's to fix (CalendarError, 400); any other failure is upstream (502)."""
    try:
        session = get_provider(platform).session(
            Credentials(client=OAuthClient(client_id, client_secret), refresh_token=refresh_token)
        )
        return session.list_calendars()
    except ProviderError as exc:
        refused = isinstance(exc, AuthRevoked | ClientRejected | CodeRejected | PermanentError)
        raise CalendarError(exc.code, str(exc), 400 if refused else 502) from None


@dataclass
class SyncSummary:
    synced_calendars: list = field(default_factory=list)
    new_events: int = 0
    updated_events: int = 0
    errors: list = field(default_factory=list)  # [(calendar id, message)]


SYNC_ERRORS = {
    "busy": "A sync of this calendar is already running; it will sync again right after.",
    "skipped": "The calendar no longer exists.",
}


def calendars_sync_now(*, calendars) -> SyncSummary:
    """Sync these calendars now, one after the other, in this request. A calendar that fails
    is reported in `errors` and does not stop the others."""
    summary = SyncSummary()
    for calendar in calendars:
        if calendar.state == Calendar.State.DISCONNECTED:
            summary.errors.append(
                (calendar.pk, "The calendar is disconnected: update its credentials.")
            )
            continue
        try:
            result = sync_calendar_by_id(calendar.pk)
        except Exception:  # logged by the sync; the other calendars still sync
            summary.errors.append((calendar.pk, "internal_error: the sync failed; it is retried."))
            continue
        if result.status != "synced":
            failure = (
                Calendar.objects.filter(pk=calendar.pk)
                .values_list("connection_failure_data", flat=True)
                .first()
            ) or {}
            message = SYNC_ERRORS.get(result.status) or failure.get("message") or result.error
            summary.errors.append((calendar.pk, f"{result.error or result.status}: {message}"))
            continue
        created = Meeting.objects.filter(
            calendar_id=calendar.pk, created_at__gte=result.started_at
        ).count()
        summary.synced_calendars.append(calendar.pk)
        summary.new_events += created
        summary.updated_events += max(result.upserted - created, 0) + result.deleted
    return summary

"""Provider push channels (Google watch channels, Graph subscriptions).

A notification only marks its calendar due; the sync does the work, so a burst of notifications
coalesces into one sync. Channels are renewed before they expire; polling covers lost ones.
"""

import logging
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .credentials import credentials_for
from .models import Calendar, CalendarSyncEvent
from .providers import get_provider
from .providers.base import Channel, ProviderError

logger = logging.getLogger(__name__)

RENEW_BEFORE = timedelta(days=1)


def channel_needs_renewal(calendar: Calendar) -> bool:
    if not settings.PUSH_NOTIFICATIONS or calendar.state == Calendar.State.DISCONNECTED:
        return False
    expires = calendar.push_expires_at
    return (
        not calendar.push_channel_id or expires is None or expires - RENEW_BEFORE < timezone.now()
    )


def push_address(platform: str, endpoint: str = "changes") -> str:
    """Where the provider sends `endpoint`'s notifications ("" when it has no such endpoint)."""
    if endpoint not in get_provider(platform).push_endpoints:
        return ""
    if endpoint == "changes":
        path = reverse("push", kwargs={"platform": platform})
    else:
        path = reverse("push-endpoint", kwargs={"platform": platform, "endpoint": endpoint})
    return settings.PUBLIC_BASE_URL + path.rstrip("/") + "/"


def ensure_push_channel(calendar_id) -> str:
    """Open a new channel when the calendar has none or it expires soon; stop the old one."""
    calendar = Calendar.objects.select_related("project").filter(pk=calendar_id).first()
    if calendar is None or not channel_needs_renewal(calendar):
        return "not needed"
    provider = get_provider(calendar.platform)
    old = (
        Channel(calendar.push_channel_id, calendar.push_resource_id, calendar.push_expires_at)
        if calendar.push_channel_id
        else None
    )
    token = secrets.token_urlsafe(32)
    try:
        session = provider.session(
            credentials_for(calendar), calendar_id=calendar.platform_calendar_id
        )
        channel = session.watch(
            address=push_address(calendar.platform),
            token=token,
            channel_id=str(uuid.uuid4()),
            lifecycle_address=push_address(calendar.platform, "lifecycle"),
        )
    except ProviderError as exc:
        # Push is an optimisation: the calendar keeps syncing by polling.
        logger.warning("calendar %s: push channel setup failed: %s", calendar.pk, exc)
        _record(calendar.pk, CalendarSyncEvent.Kind.CHANNEL_FAILED, getattr(exc, "code", ""))
        return "failed"
    with transaction.atomic():
        fields = calendar.use_push_channel(channel, token)
        # Only if nobody renewed it meanwhile; otherwise our new channel is the extra one.
        won = Calendar.objects.filter(
            pk=calendar.pk, push_channel_id=old.id if old else ""
        ).exists()
        if won:
            calendar.save(update_fields=fields)
            _record(calendar.pk, CalendarSyncEvent.Kind.CHANNEL, f"expires {channel.expires_at}")
    stale = old if won else channel
    if stale is not None:
        try:
            session.stop(stale)
        except ProviderError as exc:
            logger.info("calendar %s: stopping channel %s failed: %s", calendar.pk, stale.id, exc)
    return "renewed" if won else "raced"


def stop_push_channel(calendar: Calendar) -> None:
    channel = Channel(calendar.push_channel_id, calendar.push_resource_id, calendar.push_expires_at)
    try:
        provider = get_provider(calendar.platform)
        session = provider.session(
            credentials_for(calendar), calendar_id=calendar.platform_calendar_id
        )
        session.stop(channel)
    except ProviderError as exc:
        logger.info("calendar %s: stopping channel %s failed: %s", calendar.pk, channel.id, exc)


def record_notification(*, calendar_id, queued: bool, resubscribe: bool = False) -> None:
    """A notification for the calendar, in its sync history. Only the one that queued a sync
    (the first of a burst) or asks for a new channel is kept: a burst is one line, not one
    INSERT per change the provider reports."""
    if queued or resubscribe:
        detail = "queued a sync" if queued else ""
        if resubscribe:
            detail = ", ".join(filter(None, [detail, "the provider asked for a new channel"]))
        _record(calendar_id, CalendarSyncEvent.Kind.PUSH, detail)


def _record(calendar_id, kind: str, detail: str = "") -> None:
    CalendarSyncEvent.objects.create(calendar_id=calendar_id, kind=kind, detail=detail[:300])

"""The sync engine. Until it lands, a sync only records that it was attempted."""

import logging

from django.utils import timezone

from .models import Calendar

logger = logging.getLogger(__name__)


def sync_calendar_by_id(calendar_id) -> None:
    updated = Calendar.objects.filter(pk=calendar_id).update(
        last_attempted_sync_at=timezone.now(), sync_due_at=None
    )
    if not updated:
        logger.info("calendar %s is gone; nothing to sync", calendar_id)

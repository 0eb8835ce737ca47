"""Background jobs: thin wrappers that load by id and call a service. Safe to run twice."""

import logging

logger = logging.getLogger(__name__)


def sync_calendar(calendar_id: str) -> None:
    from .sync import sync_calendar_by_id

    sync_calendar_by_id(calendar_id)

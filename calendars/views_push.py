"""Push receivers. They answer fast (Graph wants a 2xx within 3 s): the provider reads the
request, we verify each notification's channel secret, mark the calendar due, and return."""

import hmac
import logging

from django.http import Http404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import push, services
from .models import Calendar
from .providers import PROVIDERS, get_provider

logger = logging.getLogger(__name__)


def _channel_calendar(channel_id: str, token: str) -> Calendar | None:
    """The calendar a notification is for, if its secret matches (constant-time)."""
    if not channel_id:
        return None
    calendar = (
        Calendar.objects.filter(push_channel_id=channel_id)
        .only("pk", "push_token", "state", "sync_due_at")
        .first()
    )
    if calendar is None or not calendar.push_token:
        return None
    if not hmac.compare_digest(calendar.push_token.encode(), (token or "").encode()):
        return None
    return calendar


@csrf_exempt
@require_POST
def receive(request, platform: str, endpoint: str = "changes"):
    """/push/<platform>/ and /push/<platform>/<endpoint>/ of every registered provider."""
    if platform not in PROVIDERS:
        raise Http404
    provider = get_provider(platform)
    if endpoint not in provider.push_endpoints:
        raise Http404
    reading = provider.read_push(request, endpoint=endpoint)
    for notification in reading.notifications:
        calendar = _channel_calendar(notification.channel_id, notification.token)
        if calendar is None:
            # Unknown or stale channel: acknowledged all the same, so it is not retried forever.
            logger.info("%s push for unknown channel %s", platform, notification.channel_id)
            continue
        if notification.resubscribe:
            # Replace the channel (a new one is made after the sync), and catch up.
            services.calendar_drop_push_channel(calendar_id=calendar.pk)
        queued = services.calendar_mark_due(calendar_id=calendar.pk)
        push.record_notification(
            calendar_id=calendar.pk, queued=queued, resubscribe=notification.resubscribe
        )
    return reading.response

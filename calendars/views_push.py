"""Push receivers. They answer fast (Graph wants a 2xx within 3 s): verify, mark due, return."""

import hmac
import json
import logging

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.api.errors import error_response

from . import services
from .models import Calendar

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
def google_push(request):
    calendar = _channel_calendar(
        request.headers.get("X-Goog-Channel-ID", ""),
        request.headers.get("X-Goog-Channel-Token", ""),
    )
    if calendar is None:
        # Unknown or stale channel: acknowledge, so Google does not retry it forever.
        logger.info("google push for unknown channel %s", request.headers.get("X-Goog-Channel-ID"))
        return HttpResponse(status=200)
    if request.headers.get("X-Goog-Resource-State") != "sync":  # "sync" only says "channel live"
        services.calendar_mark_due(calendar_id=calendar.pk)
    return HttpResponse(status=200)


def _validation_handshake(request) -> HttpResponse | None:
    token = request.GET.get("validationToken")
    if token is None:
        return None
    return HttpResponse(token, content_type="text/plain; charset=utf-8", status=200)


def _notifications(request) -> list[dict] | None:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    value = body.get("value") if isinstance(body, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else None


def _graph_endpoint(request, handle) -> HttpResponse:
    """Graph's validation handshake, then `handle(calendar, notification)` for every
    notification whose clientState matches."""
    handshake = _validation_handshake(request)
    if handshake:
        return handshake
    notifications = _notifications(request)
    if notifications is None:
        return error_response(
            400, code="invalid_notification", message="Expected {'value': [...]}."
        )
    for item in notifications:
        calendar = _channel_calendar(item.get("subscriptionId", ""), item.get("clientState", ""))
        if calendar is not None:
            handle(calendar, item)
    return HttpResponse(status=202)


def _changed(calendar: Calendar, item: dict) -> None:
    services.calendar_mark_due(calendar_id=calendar.pk)


def _lifecycle(calendar: Calendar, item: dict) -> None:
    if item.get("lifecycleEvent") in ("reauthorizationRequired", "subscriptionRemoved"):
        # Replace the subscription (a new one is made after the sync), and catch up.
        services.calendar_drop_push_channel(calendar_id=calendar.pk)
    services.calendar_mark_due(calendar_id=calendar.pk)  # "missed" and the others: resync


@csrf_exempt
@require_POST
def microsoft_push(request):
    return _graph_endpoint(request, _changed)


@csrf_exempt
@require_POST
def microsoft_lifecycle(request):
    return _graph_endpoint(request, _lifecycle)

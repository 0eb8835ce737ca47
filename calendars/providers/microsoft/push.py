"""Graph push: subscriptions POST `{"value": [...]}` (each item names its subscription and
carries our clientState); a new subscription is first validated by echoing `validationToken`.
Graph wants a 2xx within 3 seconds."""

import json

from django.http import HttpRequest, HttpResponse

from config.api.errors import error_response

from ..base import Notification, PushReading

# Lifecycle events after which the subscription must be replaced; the others ("missed") only
# ask for a resync.
RESUBSCRIBE_EVENTS = ("reauthorizationRequired", "subscriptionRemoved")


def read_push(request: HttpRequest, *, lifecycle: bool) -> PushReading:
    token = request.GET.get("validationToken")
    if token is not None:
        return PushReading(
            response=HttpResponse(token, content_type="text/plain; charset=utf-8", status=200)
        )
    items = _items(request)
    if items is None:
        return PushReading(
            response=error_response(
                400, code="invalid_notification", message="Expected {'value': [...]}."
            )
        )
    return PushReading(
        response=HttpResponse(status=202),
        notifications=[
            Notification(
                channel_id=item.get("subscriptionId", ""),
                token=item.get("clientState", ""),
                resubscribe=lifecycle and item.get("lifecycleEvent") in RESUBSCRIBE_EVENTS,
            )
            for item in items
        ],
    )


def _items(request: HttpRequest) -> list[dict] | None:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    value = body.get("value") if isinstance(body, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else None

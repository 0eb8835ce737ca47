"""Google push: a watch channel's notification is a bodyless POST whose headers name the channel
and carry its token. Unknown or stale channels are acknowledged too, so Google stops retrying."""

from django.http import HttpRequest, HttpResponse

from ..base import Notification, PushReading


def read_push(request: HttpRequest) -> PushReading:
    reading = PushReading(response=HttpResponse(status=200))
    if request.headers.get("X-Goog-Resource-State") == "sync":  # only says "channel live"
        return reading
    reading.notifications.append(
        Notification(
            channel_id=request.headers.get("X-Goog-Channel-ID", ""),
            token=request.headers.get("X-Goog-Channel-Token", ""),
        )
    )
    return reading

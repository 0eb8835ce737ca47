"""Support console tests: a logged-in staff client and a small world of two projects, each
with something failing (tests/admin/test_overview.py)."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from calendars.models import Calendar, CalendarSyncEvent
from meetings.models import Meeting
from tests.factories import (
    BotFactory,
    CalendarFactory,
    MeetingFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)
from webhooks.models import WebhookAttempt


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-123456")
    client.force_login(user)
    client.user = user
    return client


@dataclass
class World:
    failing_calendar: Calendar
    healthy_calendar: Calendar
    stuck_bot: object
    failing_endpoint: object
    healthy_endpoint: object


def attempts(delivery, *, ok: int, failed: int) -> None:
    now = timezone.now()
    for number in range(1, ok + failed + 1):
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=now - timedelta(minutes=number),
            url=delivery.endpoint.url,
            outcome=WebhookAttempt.Outcome.SUCCEEDED
            if number <= ok
            else WebhookAttempt.Outcome.RETRYING,
            response_status=200 if number <= ok else 503,
        )


def add_meetings(calendar: Calendar, count: int) -> list[Meeting]:
    start = timezone.now() + timedelta(hours=2)
    return [
        MeetingFactory(
            calendar=calendar,
            title=f"Meeting {n}",
            start_time=start + timedelta(minutes=37 * n),
            end_time=start + timedelta(minutes=37 * n + 30),
            will_record=n % 3 == 0,
            will_record_reason="Recorded: test" if n % 3 == 0 else "Not recorded: test",
        )
        for n in range(count)
    ]


@pytest.fixture
def world(acme, globex) -> World:
    now = timezone.now()
    failing = CalendarFactory(project=acme.project, email="broken@acme.example")
    failing.set_state(
        Calendar.State.DISCONNECTED,
        failure={
            "error": "auth_revoked",
            "message": "Token has been revoked.",
            "timestamp": now.isoformat(),
        },
    )
    failing.save()
    healthy = CalendarFactory(
        project=globex.project, email="fine@globex.example", last_successful_sync_at=now
    )
    for kind in (CalendarSyncEvent.Kind.SYNCED, CalendarSyncEvent.Kind.FAILED):
        CalendarSyncEvent.objects.create(calendar=healthy, kind=kind, at=now - timedelta(hours=1))
    stuck = BotFactory(
        project=globex.project,
        name="Stuck Notetaker",
        backend="attendee",
        backend_error="Connection refused by the dispatch backend",
        backend_attempts=3,
        join_at=now + timedelta(hours=1),
    )
    BotFactory(project=acme.project, join_at=now + timedelta(hours=3))
    failing_endpoint = WebhookEndpointFactory(
        project=acme.project, url="https://hooks.acme.example/broken", failing_since=now
    )
    healthy_endpoint = WebhookEndpointFactory(
        project=globex.project, url="https://hooks.globex.example/fine"
    )
    attempts(WebhookDeliveryFactory(endpoint=failing_endpoint), ok=1, failed=3)
    attempts(WebhookDeliveryFactory(endpoint=healthy_endpoint), ok=2, failed=0)
    return World(failing, healthy, stuck, failing_endpoint, healthy_endpoint)

"""Loopback fakes of Google (OAuth + Calendar v3) and Microsoft (identity platform + Graph).

Start with `FakeGoogle` / `FakeMicrosoft` (context managers), or the pytest fixtures in
`tests.fakes.fixtures`. Everything binds to 127.0.0.1 on an ephemeral port.
"""

from .base import Delivery, FakeClock, RecordedRequest
from .calendar_model import Attendee, Conference, EventSpec, Person, Recurrence
from .google import FakeGoogle
from .microsoft import FakeMicrosoft
from .receiver import WebhookReceiver

__all__ = [
    "Attendee",
    "Conference",
    "Delivery",
    "EventSpec",
    "FakeClock",
    "FakeGoogle",
    "FakeMicrosoft",
    "Person",
    "RecordedRequest",
    "Recurrence",
    "WebhookReceiver",
]

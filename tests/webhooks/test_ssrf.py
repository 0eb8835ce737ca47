"""Customer URLs never reach private, loopback or link-local addresses, checked at send time."""

import pytest

from webhooks import events, jobs, queueing
from webhooks.models import WebhookEndpoint
from webhooks.services import emit_event

PRIVATE_TARGETS = [
    ("127.0.0.1", None),
    ("10.0.0.5", None),
    ("169.254.169.254", None),
    ("[::1]", None),
    ("[::ffff:127.0.0.1]", None),
    ("loopback.test", ["127.0.0.1"]),
    ("intranet.test", ["10.1.2.3"]),
    ("metadata.test", ["169.254.169.254"]),
    ("v6-loopback.test", ["::1"]),
    ("mixed.test", ["93.184.216.34", "127.0.0.1"]),
]


def deliver(project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = emit_event(project=project, event_type=events.CALENDAR_UPDATE, data={})
    delivery.refresh_from_db()
    return delivery


@pytest.mark.parametrize(("host", "answers"), PRIVATE_TARGETS)
def test_private_destinations_are_refused_when_sending(
    acme, receiver, dns, host, answers, django_capture_on_commit_callbacks
):
    if answers:
        dns[host] = answers
    WebhookEndpoint.objects.create(project=acme.project, url=f"http://{host}:{receiver.port}/hook")
    delivery = deliver(acme.project, django_capture_on_commit_callbacks)
    assert delivery.status == "failed"  # final: no retry of a refused destination
    assert delivery.error.startswith("Refused destination")
    assert delivery.attempts.get().outcome == "failed"
    assert receiver.received == []


def test_a_name_that_turns_private_after_it_was_saved_is_refused(
    acme, receiver, dns, settings, django_capture_on_commit_callbacks
):
    settings.DEBUG = True  # http URLs accepted
    dns["hooks.acme.test"] = ["93.184.216.34"]
    response = acme.client.post(
        "/api/v1/webhooks/", {"url": f"http://hooks.acme.test:{receiver.port}/"}, format="json"
    )
    assert response.status_code == 201
    dns["hooks.acme.test"] = ["127.0.0.1"]  # DNS rebinding
    delivery = deliver(acme.project, django_capture_on_commit_callbacks)
    assert delivery.status == "failed"
    assert receiver.received == []


def test_staff_can_allow_private_addresses_per_endpoint(
    acme, receiver, dns, django_capture_on_commit_callbacks
):
    dns["receiver.internal"] = ["127.0.0.1"]
    WebhookEndpoint.objects.create(
        project=acme.project,
        url=f"http://receiver.internal:{receiver.port}/hook",
        allow_private_addresses=True,
    )
    delivery = deliver(acme.project, django_capture_on_commit_callbacks)
    assert delivery.status == "succeeded"
    assert receiver.received[0].headers["Host"] == f"receiver.internal:{receiver.port}"


def test_the_setting_allows_private_addresses_everywhere(
    acme, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    WebhookEndpoint.objects.create(project=acme.project, url=receiver.url())
    delivery = deliver(acme.project, django_capture_on_commit_callbacks)
    assert delivery.status == "succeeded"


def test_the_sweeper_does_not_bypass_the_guard(acme, receiver, monkeypatch):
    WebhookEndpoint.objects.create(project=acme.project, url=receiver.url())
    monkeypatch.setattr(queueing, "enqueue_delivery", lambda delivery_id: None)
    (delivery,) = emit_event(project=acme.project, event_type=events.CALENDAR_UPDATE, data={})
    monkeypatch.undo()
    monkeypatch.setattr("django_q.conf.Conf.SYNC", True)
    jobs.sweep()
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert receiver.received == []

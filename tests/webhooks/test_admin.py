from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from webhooks.models import WebhookDelivery, WebhookEndpoint


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-123456")
    client.force_login(user)
    return client


def change_url(endpoint) -> str:
    return reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])


def test_auto_disabled_endpoints_are_flagged(staff, acme):
    broken = WebhookEndpoint.objects.create(
        project=acme.project,
        url="https://broken.example/",
        is_active=False,
        disabled_reason="Disabled automatically: every delivery failed for 5 days.",
        failing_since=timezone.now() - timedelta(days=5),
    )
    failing = WebhookEndpoint.objects.create(
        project=acme.project, url="https://flaky.example/", failing_since=timezone.now()
    )
    healthy = WebhookEndpoint.objects.create(project=acme.project, url="https://fine.example/")
    changelist = reverse("admin:webhooks_webhookendpoint_changelist")
    for health, expected in [("auto_disabled", broken), ("failing", failing), ("healthy", healthy)]:
        html = staff.get(changelist, {"health": health}).content.decode()
        assert expected.url in html
        assert sum(e.url in html for e in (broken, failing, healthy)) == 1, health

    html = staff.get(change_url(broken)).content.decode()
    assert "every delivery failed for 5 days" in html
    assert broken.secret not in html
    assert "•••••••• (set)" in html
    assert (
        "the endpoint is disabled after 5 days" in staff.get(change_url(failing)).content.decode()
    )


def test_staff_create_endpoints_with_a_secret_that_is_never_shown(staff, acme):
    response = staff.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {
            "project": acme.project.pk,
            "url": "https://10.0.0.9/hook",
            "description": "",
            "event_types": "[]",
            "is_active": "on",
        },
    )
    assert response.status_code == 200  # refused: private address
    assert "private" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()

    response = staff.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {
            "project": acme.project.pk,
            "url": "https://10.0.0.9/hook",
            "description": "",
            "event_types": "[]",
            "is_active": "on",
            "allow_private_addresses": "on",
        },
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.allow_private_addresses
    assert endpoint.secret not in staff.get(change_url(endpoint)).content.decode()


def test_enabling_in_the_admin_clears_the_failure(staff, acme):
    endpoint = WebhookEndpoint.objects.create(
        project=acme.project,
        url="https://broken.example/",
        is_active=False,
        disabled_reason="Disabled automatically.",
        failing_since=timezone.now(),
    )
    secret = endpoint.secret
    response = staff.post(
        change_url(endpoint),
        {
            "project": acme.project.pk,
            "url": endpoint.url,
            "description": "",
            "event_types": "[]",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason, endpoint.failing_since) == (
        True,
        "",
        None,
    )
    assert endpoint.secret == secret


def test_retry_action(staff, acme, monkeypatch):
    monkeypatch.setattr("webhooks.queueing.enqueue_delivery", lambda delivery_id: None)
    endpoint = WebhookEndpoint.objects.create(project=acme.project, url="https://a.example/")
    delivery = WebhookDelivery.objects.create(
        project=acme.project,
        endpoint=endpoint,
        event_type="calendar.update",
        payload={},
        status="failed",
    )
    response = staff.post(
        reverse("admin:webhooks_webhookdelivery_changelist"),
        {"action": "retry", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    attempt_list = reverse("admin:webhooks_webhookattempt_changelist")
    assert staff.get(attempt_list).status_code == 200

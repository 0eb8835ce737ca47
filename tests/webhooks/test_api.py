import json
import uuid

import pytest

from tests.config.test_errors import assert_envelope
from tests.webhooks.receiver import Answer
from webhooks import events
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import emit_event

BASE = "/api/v1/webhooks/"


@pytest.fixture
def dev(settings):
    """Development mode: http URLs are accepted."""
    settings.DEBUG = True


@pytest.fixture
def created(acme, dns) -> dict:
    dns["hooks.acme.test"] = ["93.184.216.34"]
    response = acme.client.post(
        BASE,
        {"url": "https://hooks.acme.test/calsync", "event_types": ["calendar.update", "bot.*"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_create_shows_the_secret_once(acme, created):
    secret = created["secret"]
    assert secret.startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert endpoint.secret == secret
    assert created["event_types"] == ["bot.*", "calendar.update"]
    assert created["is_active"] is True
    assert created["allow_private_addresses"] is False

    responses = [
        acme.client.get(BASE),
        acme.client.get(f"{BASE}{created['id']}/"),
        acme.client.patch(f"{BASE}{created['id']}/", {"description": "x"}, format="json"),
        acme.client.get(f"{BASE}{created['id']}/deliveries/"),
        acme.client.get(f"{BASE}event_types/"),
    ]
    for response in responses:
        assert response.status_code == 200
        assert '"secret"' not in response.content.decode()
        assert secret not in response.content.decode()
        assert secret.removeprefix("whsec_") not in response.content.decode()


def test_list_and_retrieve(acme, globex, created):
    WebhookEndpoint.objects.create(project=globex.project, url="https://globex.example/")
    listed = acme.client.get(BASE).json()
    assert [e["id"] for e in listed] == [created["id"]]
    assert acme.client.get(f"{BASE}{created['id']}").json()["url"] == created["url"]  # no slash


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        ("https://127.0.0.1/", None),
        ("https://10.0.0.8/hook", None),
        ("https://169.254.169.254/latest/meta-data/", None),
        ("https://[::1]/", None),
        ("https://[fd00::1]/", None),
        ("https://internal.acme.test/", ["10.0.0.8"]),
        ("https://metadata.acme.test/", ["169.254.169.254"]),
        ("https://v6.acme.test/", ["::1"]),
    ],
)
def test_private_urls_are_refused(acme, dns, url, answers):
    if answers:
        dns[url.split("/")[2]] = answers
    response = acme.client.post(BASE, {"url": url}, format="json")
    body = assert_envelope(response, 400, "invalid_request_data")
    assert "private" in body["errors"]["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_private_urls_are_accepted_with_the_setting(acme, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    response = acme.client.post(BASE, {"url": "https://10.0.0.8/hook"}, format="json")
    assert response.status_code == 201


def test_http_only_in_development(acme, settings):
    settings.DEBUG = False
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    response = acme.client.post(BASE, {"url": "http://hooks.example.test/"}, format="json")
    body = assert_envelope(response, 400, "invalid_request_data")
    assert body["errors"]["url"] == ["Webhook URLs must use https."]
    settings.DEBUG = True
    response = acme.client.post(BASE, {"url": "http://hooks.example.test/"}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"url": "not a url"},
        {"url": "ftp://files.example.test/"},
        {"url": "https://user:pw@hooks.example.test/"},
        {"url": "https://hooks.example.test:99999/"},
        {"url": "https://hooks.example.test/", "event_types": ["calendar.exploded"]},
        {"url": "https://hooks.example.test/", "event_types": "calendar.update"},
        {"url": "https://hooks.example.test/", "allow_private_addresses": "yes", "is_active": 3},
    ],
)
def test_invalid_input(acme, payload):
    response = acme.client.post(BASE, payload, format="json")
    assert_envelope(response, 400, "invalid_request_data")
    assert not WebhookEndpoint.objects.exists()


def test_allow_private_addresses_is_read_only_in_the_api(acme, created, dns):
    response = acme.client.patch(
        f"{BASE}{created['id']}/", {"allow_private_addresses": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["allow_private_addresses"] is False
    dns["evil.acme.test"] = ["127.0.0.1"]
    response = acme.client.patch(
        f"{BASE}{created['id']}/", {"url": "https://evil.acme.test/"}, format="json"
    )
    assert_envelope(response, 400, "invalid_request_data")


def test_update_and_reenable(acme, created):
    url = f"{BASE}{created['id']}/"
    WebhookEndpoint.objects.filter(pk=created["id"]).update(
        is_active=False,
        disabled_reason="Disabled automatically: ...",
        failing_since="2025-01-01T00:00:00Z",
    )
    body = acme.client.patch(url, {"is_active": True, "event_types": []}, format="json").json()
    assert (body["is_active"], body["disabled_reason"], body["failing_since"]) == (True, "", None)
    assert body["event_types"] == []

    body = acme.client.patch(url, {"is_active": False}, format="json").json()
    assert body["is_active"] is False
    assert body["disabled_at"] is not None

    response = acme.client.put(url, {"description": "no url"}, format="json")
    assert_envelope(response, 400, "invalid_request_data")
    response = acme.client.put(url, {"url": "https://hooks.acme.test/v2"}, format="json")
    assert response.json()["url"] == "https://hooks.acme.test/v2"


def test_delete(acme, created):
    assert acme.client.delete(f"{BASE}{created['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_rotate_secret(acme, created):
    url = f"{BASE}{created['id']}/rotate_secret/"
    body = acme.client.post(url, {}, format="json").json()
    assert body["secret"].startswith("whsec_") and body["secret"] != created["secret"]
    assert body["previous_secret_expires_at"] is not None
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert endpoint.previous_secret == created["secret"]
    assert endpoint.secret == body["secret"]

    body = acme.client.post(url, {"overlap_seconds": 0}, format="json").json()
    assert body["previous_secret_expires_at"] is None
    assert not WebhookEndpoint.objects.get(pk=created["id"]).previous_secret

    for bad in (-1, 8 * 24 * 3600, "soon"):
        response = acme.client.post(url, {"overlap_seconds": bad}, format="json")
        assert_envelope(response, 400, "invalid_request_data")


def test_send_a_test_event(acme, dev, receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    created = acme.client.post(
        BASE, {"url": receiver.url(), "event_types": ["bot.done"]}, format="json"
    ).json()
    response = acme.client.post(f"{BASE}{created['id']}/test/")
    assert response.status_code == 200
    body = response.json()
    assert (body["event_type"], body["status"], body["response_status"]) == (
        "webhook.test",
        "succeeded",
        200,
    )
    assert body["attempts"][0]["outcome"] == "succeeded"
    (request,) = receiver.received
    assert json.loads(request.body)["event"] == "webhook.test"


def test_test_event_to_a_failing_receiver_reports_the_failure(acme, endpoint, receiver):
    receiver.answer = Answer(500, b"receiver broke")
    body = acme.client.post(f"{BASE}{endpoint.pk}/test").json()  # no trailing slash
    assert (body["status"], body["response_status"], body["response_excerpt"]) == (
        "pending",
        500,
        "receiver broke",
    )
    assert body["response_truncated"] is False
    assert body["next_attempt_at"] is not None


def test_test_event_to_a_disabled_endpoint_is_a_conflict(acme, endpoint, receiver):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    response = acme.client.post(f"{BASE}{endpoint.pk}/test/")
    assert_envelope(response, 409, "endpoint_disabled")
    assert receiver.received == []


def make_deliveries(acme, count: int, monkeypatch) -> list[WebhookDelivery]:
    monkeypatch.setattr("webhooks.queueing.enqueue_delivery", lambda delivery_id: None)
    return [
        emit_event(project=acme.project, event_type=events.CALENDAR_UPDATE, data={"n": n})[0]
        for n in range(count)
    ]


def test_deliveries_are_paginated_newest_first(acme, endpoint, monkeypatch):
    deliveries = make_deliveries(acme, 5, monkeypatch)
    for n, delivery in enumerate(deliveries):  # distinct creation times
        WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=f"2025-03-04T10:00:0{n}Z")
    first = acme.client.get(f"{BASE}{endpoint.pk}/deliveries/?page_size=2").json()
    assert [d["payload"]["data"]["n"] for d in first["results"]] == [4, 3]
    assert first["previous"] is None
    second = acme.client.get(first["next"]).json()
    assert [d["payload"]["data"]["n"] for d in second["results"]] == [2, 1]
    third = acme.client.get(second["next"]).json()
    assert [d["payload"]["data"]["n"] for d in third["results"]] == [0]
    assert third["next"] is None
    assert first["results"][0]["attempts"] == []
    assert first["results"][0]["status"] == "pending"


def test_retry_a_failed_delivery(acme, endpoint, receiver, django_capture_on_commit_callbacks):
    receiver.script = [Answer(400, b"bad")]
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = emit_event(project=acme.project, event_type=events.CALENDAR_UPDATE, data={})
    delivery.refresh_from_db()
    assert delivery.status == "failed"

    with django_capture_on_commit_callbacks(execute=True):
        response = acme.client.post(f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}/retry/")
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 2)
    assert {r.headers["webhook-id"] for r in receiver.received} == {str(delivery.event_id)}

    missing = acme.client.post(f"{BASE}{endpoint.pk}/deliveries/{uuid.uuid4()}/retry")
    assert_envelope(missing, 404, "not_found")


def test_event_types_are_listed_with_examples(acme):
    listed = acme.client.get(f"{BASE}event_types/").json()
    names = [item["type"] for item in listed]
    assert names == list(events.CATALOGUE)
    example = listed[0]["example"]
    assert set(example) == {"id", "event", "timestamp", "data"}


def test_tenant_isolation(acme, globex, endpoint, monkeypatch):
    (delivery,) = make_deliveries(acme, 1, monkeypatch)
    detail = f"{BASE}{endpoint.pk}/"
    calls = [
        ("get", detail, None),
        ("patch", detail, {"description": "mine now"}),
        ("put", detail, {"url": "https://globex.example/"}),
        ("delete", detail, None),
        ("post", f"{detail}test/", None),
        ("post", f"{detail}rotate_secret/", {}),
        ("get", f"{detail}deliveries/", None),
        ("post", f"{detail}deliveries/{delivery.pk}/retry/", None),
    ]
    for method, url, data in calls:
        response = getattr(globex.client, method)(url, data, format="json")
        assert_envelope(response, 404, "not_found")
    assert globex.client.get(BASE).json() == []

    # Globex's own endpoint id does not unlock Acme's delivery either.
    own = WebhookEndpoint.objects.create(project=globex.project, url="https://globex.example/")
    response = globex.client.post(f"{BASE}{own.pk}/deliveries/{delivery.pk}/retry/")
    assert_envelope(response, 404, "not_found")

    endpoint.refresh_from_db()
    assert endpoint.description == "" and WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert endpoint.previous_secret == ""


def test_authentication_is_required_everywhere(anon, endpoint):
    detail = f"{BASE}{endpoint.pk}/"
    for method, url in [
        ("get", BASE),
        ("post", BASE),
        ("get", f"{BASE}event_types/"),
        ("get", detail),
        ("patch", detail),
        ("delete", detail),
        ("post", f"{detail}test/"),
        ("post", f"{detail}rotate_secret/"),
        ("get", f"{detail}deliveries/"),
        ("post", f"{detail}deliveries/{uuid.uuid4()}/retry/"),
    ]:
        assert_envelope(getattr(anon, method)(url), 401, "not_authenticated")


def test_unknown_ids_and_methods(acme):
    assert_envelope(acme.client.get(f"{BASE}{uuid.uuid4()}/"), 404, "not_found")
    assert_envelope(acme.client.get(f"{BASE}not-a-uuid/"), 404, "not_found")
    assert_envelope(acme.client.delete(BASE), 405, "method_not_allowed")
    assert_envelope(acme.client.get(f"{BASE}{uuid.uuid4()}/test/"), 405, "method_not_allowed")

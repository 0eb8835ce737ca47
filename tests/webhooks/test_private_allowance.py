"""Staff's private-address allowance covers the exact URL they approved, and the API shows no
more of a receiver's answer than a short, labelled excerpt."""

import pytest

from tests.webhooks.receiver import Answer, Receiver
from webhooks.models import WebhookEndpoint

BASE = "/api/v1/webhooks/"
INTERNAL_PAGE = b"<html>internal admin: " + b"secret row; " * 500 + b"</html>"


@pytest.fixture(autouse=True)
def dev(settings):
    settings.DEBUG = True  # the loopback receivers speak http


@pytest.fixture
def internal_service():
    """Another service on the private network, which no customer may read."""
    server = Receiver().start()
    server.answer = Answer(200, INTERNAL_PAGE)
    yield server
    server.stop()


@pytest.fixture
def allowed(acme, receiver, dns) -> WebhookEndpoint:
    """Acme's receiver inside the network, allowed by staff."""
    dns["receiver.internal"] = ["127.0.0.1"]
    dns["service.internal"] = ["10.0.0.7"]
    return WebhookEndpoint.objects.create(
        project=acme.project,
        url=f"http://receiver.internal:{receiver.port}/hook",
        allow_private_addresses=True,
    )


def test_the_allowance_covers_the_approved_url(acme, allowed, receiver):
    response = acme.client.post(f"{BASE}{allowed.pk}/test/")
    assert response.json()["status"] == "succeeded"
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    "new_url",
    [
        "http://127.0.0.1:{internal}/",  # another private service
        "http://receiver.internal:{internal}/hook",  # same host, another port
        "http://10.0.0.7/admin",
    ],
)
def test_a_changed_url_does_not_inherit_the_allowance(
    acme, allowed, receiver, internal_service, new_url
):
    url = new_url.format(internal=internal_service.port)
    response = acme.client.patch(f"{BASE}{allowed.pk}/", {"url": url}, format="json")
    assert response.status_code == 400
    assert "private" in response.json()["errors"]["url"][0]
    allowed.refresh_from_db()
    assert allowed.url.endswith("/hook") and allowed.allow_private_addresses  # unchanged

    acme.client.post(f"{BASE}{allowed.pk}/test/")
    assert internal_service.received == []


def test_any_url_change_ends_the_allowance(acme, allowed, dns):
    dns["hooks.acme.test"] = ["93.184.216.34"]
    moved = acme.client.patch(
        f"{BASE}{allowed.pk}/", {"url": "https://hooks.acme.test/"}, format="json"
    )
    assert moved.status_code == 200
    assert moved.json()["allow_private_addresses"] is False
    back = acme.client.patch(f"{BASE}{allowed.pk}/", {"url": allowed.url}, format="json")
    assert back.status_code == 400  # staff must allow it again
    # Changing something else keeps it.
    other = WebhookEndpoint.objects.create(
        project=acme.project, url="http://receiver.internal:1/x", allow_private_addresses=True
    )
    kept = acme.client.patch(f"{BASE}{other.pk}/", {"description": "d"}, format="json")
    assert kept.json()["allow_private_addresses"] is True
    kept = acme.client.put(
        f"{BASE}{other.pk}/", {"url": "http://receiver.internal:1/x"}, format="json"
    )
    assert kept.json()["allow_private_addresses"] is True


def test_the_allowance_is_bound_whatever_changes_the_url(acme, allowed, internal_service):
    # Not through the API (a script, a future code path): delivery still refuses the new URL.
    WebhookEndpoint.objects.filter(pk=allowed.pk).update(
        url=f"http://127.0.0.1:{internal_service.port}/"
    )
    body = acme.client.post(f"{BASE}{allowed.pk}/test/").json()
    assert body["status"] == "failed"
    assert body["error"].startswith("Refused destination")
    assert internal_service.received == []
    assert WebhookEndpoint.objects.get(pk=allowed.pk).allow_private_addresses is False


def test_the_test_endpoint_shows_only_a_short_labelled_excerpt(acme, allowed, receiver):
    receiver.answer = Answer(500, INTERNAL_PAGE)
    response = acme.client.post(f"{BASE}{allowed.pk}/test/")
    text = response.content.decode()
    body = response.json()
    assert "response_body" not in body
    assert body["response_excerpt"] == INTERNAL_PAGE[:200].decode()
    assert body["response_truncated"] is True
    (attempt,) = body["attempts"]
    assert attempt["response_excerpt"] == body["response_excerpt"]
    assert attempt["response_truncated"] is True
    # The excerpt twice (delivery and attempt) and nothing more of the 500 rows.
    assert text.count("secret row") == 2 * INTERNAL_PAGE[:200].count(b"secret row")

    listed = acme.client.get(f"{BASE}{allowed.pk}/deliveries/").json()["results"][0]
    assert listed["response_excerpt"] == body["response_excerpt"]
    assert "response_body" not in listed


def test_a_short_answer_is_shown_whole(acme, allowed, receiver):
    receiver.answer = Answer(200, b"thanks")
    body = acme.client.post(f"{BASE}{allowed.pk}/test/").json()
    assert (body["response_excerpt"], body["response_truncated"]) == ("thanks", False)


def test_staff_approve_the_url_they_save(allowed, dns):
    from tests.admin_forms import admin_form

    dns["other.internal"] = ["10.9.9.9"]
    form = admin_form(allowed, url="http://other.internal/hook")
    assert form.is_valid(), form.errors  # the box stays ticked: staff approve the new URL
    form.save()
    endpoint = WebhookEndpoint.objects.get(pk=allowed.pk)
    assert endpoint.private_addresses_url == "http://other.internal/hook"
    assert endpoint.allow_private_addresses

    form = admin_form(endpoint, allow_private_addresses=False)
    assert not form.is_valid()  # unticked, a private URL is refused
    assert "private" in str(form.errors)


def test_admin_event_types_are_checked_like_the_api(allowed):
    from tests.admin_forms import admin_form

    for bad in ("bot.*", ["bot.nope"], [3]):
        form = admin_form(allowed, event_types=bad)
        assert not form.is_valid() and "event_types" in form.errors, bad
    form = admin_form(allowed, event_types=["calendar.update", "bot.*", "bot.*"])
    assert form.is_valid(), form.errors
    assert form.save().event_types == ["bot.*", "calendar.update"]

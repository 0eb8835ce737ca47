"""Webhook formats: each peer's receiver, written from that peer's docs (`peers.py`), accepts
what a loopback receiver got; retries, the delivery log and validation are the same for all."""

import base64
import json
import logging
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from calendars.providers.base import AuthRevoked
from calendars.sync.outcomes import calendar_announce_changes, calendar_mark_disconnected
from tests.config.test_errors import assert_envelope
from tests.factories import CalendarFactory, MeetingFactory
from tests.webhooks import peers
from tests.webhooks.receiver import Answer
from webhooks import events, formats, jobs
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import emit_event

BASE = "/api/v1/webhooks/"
START = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
MB_KEY = "mb-live-4f1c9a7e2b"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def loopback(settings):
    """Endpoints created through the API may point at the loopback receiver."""
    settings.DEBUG = True
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def create(acme, loopback, receiver):
    def create(**body) -> dict:
        response = acme.client.post(BASE, {"url": receiver.url(), **body}, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return create


@pytest.fixture
def calendar(acme):
    return CalendarFactory(
        project=acme.project,
        deduplication_key="acme-user-42-primary",
        metadata={"team": "Vertrieb München"},
    )


@pytest.fixture
def announce(django_capture_on_commit_callbacks, calendar):
    """A sync found changed meetings: the real announcement, delivered when it commits."""

    def announce() -> list:
        meetings = [MeetingFactory(calendar=calendar) for _ in range(2)]
        with django_capture_on_commit_callbacks(execute=True):
            calendar_announce_changes(calendar=calendar)
        return meetings

    return announce


def run_due(clock) -> None:
    for _ in range(50):
        due = (
            WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        if due is None:
            return
        clock.move_to(due)
        jobs.sweep()
    raise AssertionError("deliveries never finished")


# --- standard ------------------------------------------------------------------------------------


def test_standard_is_the_default_and_verifies_with_standardwebhooks(create, receiver, announce):
    created = create()
    assert created["format"] == "standard"
    assert created["secret"].startswith("whsec_")
    announce()

    bodies = {}
    for request in receiver.received:
        body = peers.standard(request, created["secret"])
        bodies[body["event"]] = body
    assert set(bodies) == {"calendar.sync_events", "calendar.events_update"}
    assert {"id", "event", "timestamp", "data"} == set(bodies["calendar.sync_events"])


def test_static_headers_go_with_a_standard_endpoint_too(
    acme, create, receiver, django_capture_on_commit_callbacks
):
    created = create(static_headers={"X-Gateway-Token": "gw-123"})
    with django_capture_on_commit_callbacks(execute=True):
        emit_event(project=acme.project, event_type=events.CALENDAR_UPDATE, data={"n": 1})
    (request,) = receiver.received
    assert peers.header(request, "X-Gateway-Token") == "gw-123"
    assert peers.standard(request, created["secret"])["data"] == {"n": 1}


# --- Meeting BaaS v1 -----------------------------------------------------------------------------


def test_meetingbaas_v1_echoes_the_key_and_sends_v1s_shape(create, receiver, announce, calendar):
    created = create(format="meetingbaas_v1", static_headers={"x-meeting-baas-api-key": MB_KEY})
    assert created["format"] == "meetingbaas_v1"
    assert created["static_header_names"] == ["x-meeting-baas-api-key"]
    meetings = announce()

    # Only calendar.sync_events: v1 has no calendar.events_update.
    (request,) = receiver.received
    body = peers.meetingbaas_v1(request, MB_KEY)
    (delivery,) = WebhookDelivery.objects.all()
    assert body == {
        "event": "calendar.sync_events",
        "data": {
            "calendar_id": str(calendar.id),
            "last_updated_ts": delivery.payload["data"]["last_updated_ts"],
            "affected_event_uuids": body["data"]["affected_event_uuids"],
        },
    }
    assert sorted(body["data"]["affected_event_uuids"]) == sorted(str(m.id) for m in meetings)
    assert datetime.fromisoformat(body["data"]["last_updated_ts"]) == min(
        m.updated_at for m in meetings
    )
    assert peers.header(request, "Content-Type") == "application/json"
    # v1 signs nothing: no signature headers a receiver could be confused by.
    assert not [k for k in request.headers if k.lower().startswith(("webhook-", "svix-"))]
    with pytest.raises(peers.Rejected):
        peers.meetingbaas_v1(request, "another-key")


def test_meetingbaas_v1_endpoints_get_only_what_v1_sends(acme, receiver):
    endpoint = WebhookEndpoint.objects.create(
        project=acme.project,
        url=receiver.url(),
        allow_private_addresses=True,
        format="meetingbaas_v1",
    )
    for event_type in (events.CALENDAR_UPDATE, events.CALENDAR_EVENTS_UPDATE, events.BOT_SCHEDULED):
        assert emit_event(project=acme.project, event_type=event_type, data={}) == []
    (delivery,) = emit_event(
        project=acme.project,
        event_type=events.CALENDAR_SYNC_EVENTS,
        data={"calendar_id": "c1", "last_updated_ts": None, "affected_event_uuids": []},
    )
    assert delivery.endpoint == endpoint


# --- Attendee ------------------------------------------------------------------------------------


def test_attendee_calendar_triggers_verify_as_attendees_docs_say(
    create, receiver, announce, calendar, django_capture_on_commit_callbacks
):
    created = create(format="attendee")
    secret = created["secret"]
    assert not secret.startswith("whsec_")  # what Attendee's dashboard shows: plain base64
    assert len(base64.b64decode(secret, validate=True)) == 32
    announce()
    with django_capture_on_commit_callbacks(execute=True):
        calendar_mark_disconnected(calendar=calendar, error=AuthRevoked("Token revoked."))

    received = {}
    for request in receiver.received:
        payload = peers.attendee(request, secret)
        received[payload["trigger"]] = (request, payload)
        # The bytes sent are the bytes signed: the canonical form itself.
        assert request.body == json.dumps(
            payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")
        assert peers.header(request, "User-Agent") == "Attendee-Webhook/1.0"
        assert peers.header(request, "Content-Type") == "application/json"
    assert set(received) == {"calendar.events_update", "calendar.state_change"}

    calendar.refresh_from_db()
    _, update = received["calendar.events_update"]
    assert set(update) == {
        "idempotency_key",
        "calendar_id",
        "calendar_deduplication_key",
        "calendar_metadata",
        "trigger",
        "data",
    }
    assert update["calendar_id"] == str(calendar.id)
    assert update["calendar_deduplication_key"] == "acme-user-42-primary"
    assert update["calendar_metadata"] == {"team": "Vertrieb München"}
    assert update["data"] == {
        "state": "connected",
        "connection_failure_data": None,
        "last_successful_sync_at": None,
        "last_attempted_sync_at": None,
    }
    _, change = received["calendar.state_change"]
    assert change["data"]["state"] == "disconnected"
    assert change["data"]["connection_failure_data"] == calendar.connection_failure_data
    assert set(change["data"]) == set(update["data"])
    keys = {p["idempotency_key"] for _, p in received.values()}
    assert keys == {str(d.event_id) for d in WebhookDelivery.objects.all()}

    # Non-ASCII metadata: the documented recipe (ensure_ascii=False) is the one that matches.
    request, payload = received["calendar.events_update"]
    with pytest.raises(peers.Rejected):
        peers.attendee(request, secret, ensure_ascii=True)
    # A changed body, or another secret, is refused.
    tampered = json.loads(request.body)
    tampered["calendar_metadata"]["team"] = "Marketing"
    assert peers.attendee_signature(tampered, secret) != peers.header(
        request, "X-Webhook-Signature"
    )
    other = base64.b64encode(secrets.token_bytes(32)).decode()
    with pytest.raises(peers.Rejected):
        peers.attendee(request, other)


def test_attendee_ascii_bodies_verify_with_the_short_recipe_too(acme, create, receiver):
    created = create(format="attendee")
    assert acme.client.post(f"{BASE}{created['id']}/test/").json()["status"] == "succeeded"
    (request,) = receiver.received
    payload = peers.attendee(request, created["secret"], ensure_ascii=True)
    assert payload["trigger"] == "webhook.test"
    assert set(payload) == {"idempotency_key", "trigger", "data"}


def test_an_attendee_customer_keeps_its_secret(acme, create, receiver):
    """A migrating customer brings the secret its receiver has (Attendee: 32 random bytes,
    shown in base64): nothing changes on the receiving side."""
    attendee_secret = base64.b64encode(secrets.token_bytes(32)).decode()
    created = create(format="attendee", secret=attendee_secret)
    assert created["secret"] == attendee_secret
    response = acme.client.post(f"{BASE}{created['id']}/test/")
    assert response.json()["status"] == "succeeded"
    (request,) = receiver.received
    peers.attendee(request, attendee_secret)

    # And after a rotation to another secret the customer brings, that one signs alone.
    newer = base64.b64encode(secrets.token_bytes(32)).decode()
    rotated = acme.client.post(
        f"{BASE}{created['id']}/rotate_secret/", {"secret": newer}, format="json"
    ).json()
    assert rotated["secret"] == newer
    acme.client.post(f"{BASE}{created['id']}/test/")
    peers.attendee(receiver.received[-1], newer)
    with pytest.raises(peers.Rejected):
        peers.attendee(receiver.received[-1], attendee_secret)


def test_the_same_key_signs_both_ways(acme, receiver):
    """The Attendee key is the Standard Webhooks key: an endpoint can change format without a
    new secret (its Attendee receiver uses the part after `whsec_`)."""
    endpoint = WebhookEndpoint.objects.create(
        project=acme.project, url=receiver.url(), allow_private_addresses=True
    )
    payload = events.envelope(event_id="e1", event_type="webhook.test", data={}, at=START)
    endpoint.format = "attendee"
    outgoing = formats.render(message_id="e1", payload=payload, endpoint=endpoint, at=START)
    signature = outgoing.headers["X-Webhook-Signature"]
    assert signature == peers.attendee_signature(
        json.loads(outgoing.body), endpoint.secret.removeprefix("whsec_")
    )
    assert endpoint.receiver_secret == endpoint.secret.removeprefix("whsec_")


# --- The same outbox for every format ------------------------------------------------------------


@pytest.mark.parametrize(
    ("format_name", "event_type"),
    [
        ("standard", events.CALENDAR_EVENTS_UPDATE),
        ("meetingbaas_v1", events.CALENDAR_SYNC_EVENTS),
        ("attendee", events.CALENDAR_EVENTS_UPDATE),
    ],
)
def test_retries_and_the_delivery_log_are_the_same_for_every_format(
    acme, receiver, clock, django_capture_on_commit_callbacks, format_name, event_type
):
    endpoint = WebhookEndpoint.objects.create(
        project=acme.project,
        url=receiver.url(),
        allow_private_addresses=True,
        format=format_name,
        static_headers=json.dumps({"x-meeting-baas-api-key": MB_KEY}),
    )
    receiver.script = [Answer(500, b"boom"), Answer(429, headers={"Retry-After": "120"})]
    data = {
        "calendar_id": "c1",
        "calendar_deduplication_key": None,
        "calendar_metadata": {},
        "last_updated_ts": "2025-03-04T09:59:00Z",
        "affected_event_uuids": ["m1"],
        "state": "connected",
        "connection_failure_data": None,
        "last_successful_sync_at": None,
        "last_attempted_sync_at": None,
    }
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = emit_event(project=acme.project, event_type=event_type, data=data)
    run_due(clock)

    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    attempts = list(delivery.attempts.all())
    assert [(a.outcome, a.response_status) for a in attempts] == [
        ("retrying", 500),
        ("retrying", 429),
        ("succeeded", 200),
    ]
    assert attempts[2].started_at - attempts[1].started_at >= timedelta(seconds=120)
    first, second, third = receiver.received
    if format_name == "standard":
        ids = {peers.header(r, "webhook-id") for r in receiver.received}
        assert ids == {str(delivery.event_id)}
    else:  # the same bytes every time, with the same idempotency key where the format has one
        assert first.body == second.body == third.body
    if format_name == "attendee":
        assert peers.attendee(third, endpoint.receiver_secret)["idempotency_key"] == str(
            delivery.event_id
        )
    if format_name == "meetingbaas_v1":
        peers.meetingbaas_v1(third, MB_KEY)

    response = acme.client.get(f"{BASE}{endpoint.pk}/deliveries/").json()
    (listed,) = response["results"]
    assert [a["outcome"] for a in listed["attempts"]] == ["retrying", "retrying", "succeeded"]


def test_a_new_format_fails_the_pending_deliveries_it_does_not_carry(acme, endpoint, monkeypatch):
    monkeypatch.setattr("webhooks.queueing.enqueue_delivery", lambda delivery_id: None)
    (bot,) = emit_event(project=acme.project, event_type=events.BOT_SCHEDULED, data={"bot": {}})
    (sync,) = emit_event(project=acme.project, event_type=events.CALENDAR_SYNC_EVENTS, data={})
    response = acme.client.patch(
        f"{BASE}{endpoint.pk}/",
        {"format": "meetingbaas_v1", "static_headers": {"x-meeting-baas-api-key": MB_KEY}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["format"] == "meetingbaas_v1"
    bot.refresh_from_db()
    sync.refresh_from_db()
    assert (bot.status, bot.next_attempt_at) == ("failed", None)
    assert "meetingbaas_v1" in bot.error
    assert sync.status == "pending"


# --- Secrets stay secret -------------------------------------------------------------------------


def test_static_header_values_never_come_back(acme, create, receiver, caplog, settings):
    caplog.set_level(logging.DEBUG)
    created = create(format="meetingbaas_v1", static_headers={"x-meeting-baas-api-key": MB_KEY})
    endpoint_url = f"{BASE}{created['id']}/"
    # A receiver that echoes the request (a request bin): the log shows the answer's start.
    receiver.answer = Answer(400, f"got x-meeting-baas-api-key: {MB_KEY}".encode())
    read = acme.client.get(endpoint_url)
    responses = [
        acme.client.get(BASE),
        read,
        acme.client.patch(endpoint_url, {"description": "MB"}, format="json"),
        acme.client.put(endpoint_url, read.json(), format="json"),  # sent back as read
        acme.client.post(f"{endpoint_url}test/"),
        acme.client.get(f"{endpoint_url}deliveries/"),
        acme.client.post(f"{endpoint_url}rotate_secret/", {}, format="json"),
    ]
    texts = [r.content.decode() for r in responses]
    assert all(r.status_code < 300 for r in responses), texts
    assert all(MB_KEY not in text for text in texts)
    assert MB_KEY not in json.dumps(created)
    assert "[hidden]" in json.dumps(responses[4].json())
    assert responses[1].json()["static_header_names"] == ["x-meeting-baas-api-key"]
    # The PUT of the object as read kept the headers (names only are read; nothing is lost).
    assert WebhookEndpoint.objects.get(pk=created["id"]).get_static_headers() == {
        "x-meeting-baas-api-key": MB_KEY
    }
    assert MB_KEY not in caplog.text
    # Encrypted at rest.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT static_headers FROM webhooks_webhookendpoint WHERE id = %s",
            # The id as this database stores it (SQLite: bare hex).
            [WebhookEndpoint._meta.pk.get_db_prep_value(uuid.UUID(created["id"]), connection)],
        )
        (stored,) = cursor.fetchone()
    assert stored and MB_KEY not in stored and "x-meeting-baas" not in stored


def test_static_headers_are_replaced_or_removed_as_a_whole(acme, create):
    created = create(static_headers={"X-A": "1", "X-B": "2"})
    url = f"{BASE}{created['id']}/"
    assert acme.client.patch(url, {"static_headers": {"X-C": "3"}}, format="json").json()[
        "static_header_names"
    ] == ["X-C"]
    assert (
        acme.client.patch(url, {"static_headers": {}}, format="json").json()["static_header_names"]
        == []
    )
    assert WebhookEndpoint.objects.get(pk=created["id"]).static_headers == ""


def test_tenant_isolation(acme, globex, create):
    created = create(format="attendee")
    url = f"{BASE}{created['id']}/"
    assert globex.client.patch(url, {"format": "standard"}, format="json").status_code == 404
    assert globex.client.post(f"{url}rotate_secret/", {}, format="json").status_code == 404
    assert WebhookEndpoint.objects.get(pk=created["id"]).format == "attendee"


# --- Validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "svix"}, "format"),
        ({"format": None}, "format"),
        ({"format": "meetingbaas_v1", "event_types": ["bot.*"]}, "event_types"),
        ({"format": "attendee", "event_types": ["calendar.sync_events"]}, "event_types"),
        ({"static_headers": ["x-key", "v"]}, "static_headers"),
        ({"static_headers": {"x-key": 42}}, "static_headers"),
        ({"static_headers": {"x key": "v"}}, "static_headers"),
        ({"static_headers": {"": "v"}}, "static_headers"),
        ({"static_headers": {"x-key": ""}}, "static_headers"),
        ({"static_headers": {"x-key": " v"}}, "static_headers"),
        ({"static_headers": {"x-key": "v\r\nX-Injected: 1"}}, "static_headers"),
        ({"static_headers": {"x-key": "v\nw"}}, "static_headers"),
        ({"static_headers": {"x-key": "caf\u00e9"}}, "static_headers"),
        ({"static_headers": {"x-key": "v" * 1001}}, "static_headers"),
        ({"static_headers": {"x" * 101: "v"}}, "static_headers"),
        ({"static_headers": {f"x-{n}": "v" for n in range(11)}}, "static_headers"),
        ({"static_headers": {f"x-{n}": "v" * 1000 for n in range(5)}}, "static_headers"),
        ({"static_headers": {"X-Key": "1", "x-key": "2"}}, "static_headers"),
        ({"static_headers": {"Content-Type": "text/plain"}}, "static_headers"),
        ({"static_headers": {"host": "evil.example"}}, "static_headers"),
        ({"static_headers": {"User-Agent": "x"}}, "static_headers"),
        ({"static_headers": {"webhook-signature": "v1,x"}}, "static_headers"),
        ({"static_headers": {"svix-id": "x"}}, "static_headers"),
        ({"static_headers": {"X-Webhook-Signature": "x"}}, "static_headers"),
        ({"static_headers": {"Transfer-Encoding": "chunked"}}, "static_headers"),
        ({"secret": "whsec_not base64!"}, "secret"),
        ({"secret": base64.b64encode(b"short").decode()}, "secret"),
        ({"secret": "whsec_" + base64.b64encode(b"x" * 65).decode()}, "secret"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(acme, loopback, receiver, body, field):
    response = acme.client.post(BASE, {"url": receiver.url(), **body}, format="json")
    error = assert_envelope(response, 400, "invalid_request_data")
    assert field in error["errors"], error
    assert not WebhookEndpoint.objects.exists()
    # A refused value (often a secret) is never repeated in the error.
    headers = body.get("static_headers")
    for value in headers.values() if isinstance(headers, dict) else []:
        if isinstance(value, str) and len(value) > 2:
            assert value not in response.content.decode()


def test_a_refused_update_changes_nothing(acme, create):
    created = create(event_types=["bot.*"], static_headers={"X-A": "1"})
    url = f"{BASE}{created['id']}/"
    for body, field in [
        ({"format": "meetingbaas_v1"}, "event_types"),  # bot.* is not carried by v1
        ({"format": "attendee", "static_headers": {"Host": "x"}}, "static_headers"),
        ({"description": "x", "static_headers": {"X-A": "a\r\nb"}}, "static_headers"),
        ({"secret": "whsec_" + base64.b64encode(b"k" * 32).decode()}, "secret"),  # create only
    ]:
        response = acme.client.patch(url, body, format="json")
        error = assert_envelope(response, 400, "invalid_request_data")
        assert field in error["errors"], error
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert (endpoint.format, endpoint.description, endpoint.get_static_headers()) == (
        "standard",
        "",
        {"X-A": "1"},
    )
    # Both at once is fine: the format and a filter it carries.
    response = acme.client.patch(
        url, {"format": "meetingbaas_v1", "event_types": ["calendar.*"]}, format="json"
    )
    assert response.status_code == 200, response.json()


def test_rotate_refuses_a_bad_secret(acme, create):
    created = create(format="attendee")
    before = WebhookEndpoint.objects.get(pk=created["id"]).secret
    response = acme.client.post(
        f"{BASE}{created['id']}/rotate_secret/", {"secret": "c2hvcnQ="}, format="json"
    )
    error = assert_envelope(response, 400, "invalid_request_data")
    assert "secret" in error["errors"]
    assert WebhookEndpoint.objects.get(pk=created["id"]).secret == before


# --- Admin ---------------------------------------------------------------------------------------


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-123456")
    client.force_login(user)
    return client


def test_the_admin_shows_the_format_and_only_header_names(staff, acme, monkeypatch):
    monkeypatch.setattr("webhooks.queueing.enqueue_delivery", lambda delivery_id: None)
    endpoint = WebhookEndpoint.objects.create(
        project=acme.project,
        url="https://hooks.acme.example/mb",
        format="meetingbaas_v1",
        static_headers=json.dumps({"x-meeting-baas-api-key": MB_KEY}),
    )
    changelist = reverse("admin:webhooks_webhookendpoint_changelist")
    html = staff.get(changelist, {"format__exact": "meetingbaas_v1"}).content.decode()
    assert "Meeting BaaS v1" in html and endpoint.url in html
    assert endpoint.url not in staff.get(changelist, {"format__exact": "attendee"}).content.decode()

    change = reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])
    html = staff.get(change).content.decode()
    assert "x-meeting-baas-api-key: ••••••••" in html
    assert MB_KEY not in html

    # Staff change the format: the event types it does not carry are refused in the form.
    form = {
        "project": acme.project.pk,
        "url": endpoint.url,
        "description": "",
        "event_types": '["bot.*"]',
        "format": "attendee",
        "is_active": "on",
    }
    response = staff.post(change, form)
    assert response.status_code == 200
    assert "does not carry" in response.content.decode()
    (pending,) = emit_event(project=acme.project, event_type=events.CALENDAR_SYNC_EVENTS, data={})
    response = staff.post(change, {**form, "event_types": "[]"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.format == "attendee"
    assert endpoint.get_static_headers() == {"x-meeting-baas-api-key": MB_KEY}
    pending.refresh_from_db()
    assert pending.status == "failed"  # Attendee has no calendar.sync_events

"""Push receivers and channel upkeep."""

from datetime import UTC, datetime, timedelta

import pytest

from calendars import providers
from calendars.models import Calendar
from calendars.push import ensure_push_channel
from tests.factories import CalendarFactory, OAuthAppFactory

from .scripted import ScriptedCalendar, ScriptedProvider


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: calls.append(args))
    return calls


@pytest.fixture
def calendar(acme):
    return CalendarFactory(
        project=acme.project,
        push_channel_id="chan-1",
        push_token="s3cret-channel-token",
        push_expires_at=datetime.now(UTC) + timedelta(days=2),
        last_attempted_sync_at=datetime.now(UTC),
    )


def google_headers(state="exists", channel="chan-1", token="s3cret-channel-token"):
    return {
        "HTTP_X_GOOG_CHANNEL_ID": channel,
        "HTTP_X_GOOG_CHANNEL_TOKEN": token,
        "HTTP_X_GOOG_RESOURCE_STATE": state,
        "HTTP_X_GOOG_RESOURCE_ID": "res-1",
        "HTTP_X_GOOG_MESSAGE_NUMBER": "7",
    }


def test_google_burst_coalesces_into_one_job(
    client, calendar, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            assert client.post("/api/v1/push/google/", **google_headers()).status_code == 200
    assert enqueued == [("calendars.jobs.sync_calendar", str(calendar.pk))]
    calendar.refresh_from_db()
    assert calendar.sync_due_at is not None


@pytest.mark.parametrize(
    "headers",
    [
        google_headers(token="wrong"),
        google_headers(token=""),
        google_headers(channel="unknown"),
        google_headers(state="sync"),
    ],
    ids=["bad-token", "no-token", "unknown-channel", "sync-message"],
)
def test_google_notifications_that_do_nothing(
    client, calendar, enqueued, headers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/push/google", **headers)
    assert response.status_code == 200
    assert enqueued == []
    calendar.refresh_from_db()
    assert calendar.sync_due_at is None


def test_notification_does_not_override_backoff(client, calendar, enqueued):
    later = datetime.now(UTC) + timedelta(minutes=30)
    Calendar.objects.filter(pk=calendar.pk).update(sync_due_at=later)
    client.post("/api/v1/push/google/", **google_headers())
    calendar.refresh_from_db()
    assert calendar.sync_due_at == later


def test_graph_validation_handshake(client, db):
    for path in ("/api/v1/push/microsoft/", "/api/v1/push/microsoft/lifecycle/"):
        response = client.post(f"{path}?validationToken=Validation%3A%20Testing%20client+abc")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        assert response.content.decode() == "Validation: Testing client abc"


def graph_notification(calendar, client_state="s3cret-channel-token", **extra):
    return {
        "value": [
            {
                "subscriptionId": calendar.push_channel_id,
                "clientState": client_state,
                "changeType": "updated",
                "resource": "Users/u/Events/e",
                "tenantId": "t",
                **extra,
            }
        ]
    }


def test_graph_change_notification(client, calendar, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/push/microsoft/", graph_notification(calendar), content_type="application/json"
        )
    assert response.status_code == 202
    assert len(enqueued) == 1


def test_graph_wrong_client_state_is_ignored(client, calendar, enqueued):
    response = client.post(
        "/api/v1/push/microsoft/",
        graph_notification(calendar, client_state="forged"),
        content_type="application/json",
    )
    assert response.status_code == 202
    calendar.refresh_from_db()
    assert calendar.sync_due_at is None


@pytest.mark.parametrize("body", ["not json", '{"value": 3}', "[]"])
def test_graph_malformed_notification(client, db, body):
    response = client.post("/api/v1/push/microsoft/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"


@pytest.mark.parametrize("event", ["subscriptionRemoved", "reauthorizationRequired", "missed"])
def test_graph_lifecycle(client, calendar, event):
    response = client.post(
        "/api/v1/push/microsoft/lifecycle/",
        graph_notification(calendar, lifecycleEvent=event),
        content_type="application/json",
    )
    assert response.status_code == 202
    calendar.refresh_from_db()
    assert calendar.sync_due_at is not None
    assert (calendar.push_expires_at is None) == (event != "missed")


@pytest.fixture
def store(monkeypatch):
    store = ScriptedCalendar()
    monkeypatch.setitem(providers._instances, "google", ScriptedProvider(store))
    return store


def test_channel_is_opened_and_renewed(store, acme, settings):
    settings.PUSH_NOTIFICATIONS = True
    OAuthAppFactory(project=acme.project, platform="google")
    calendar = CalendarFactory(project=acme.project)
    assert ensure_push_channel(calendar.pk) == "renewed"
    calendar.refresh_from_db()
    first = calendar.push_channel_id
    assert first and calendar.push_token and calendar.push_expires_at
    assert ensure_push_channel(calendar.pk) == "not needed"
    Calendar.objects.filter(pk=calendar.pk).update(
        push_expires_at=datetime.now(UTC) + timedelta(hours=2)
    )
    store.requests = 0
    assert ensure_push_channel(calendar.pk) == "renewed"
    calendar.refresh_from_db()
    assert calendar.push_channel_id != first
    assert store.requests == 2  # watch the new channel, stop the old one


def test_no_channels_without_push(store, acme, settings):
    settings.PUSH_NOTIFICATIONS = False
    calendar = CalendarFactory(project=acme.project)
    assert ensure_push_channel(calendar.pk) == "not needed"
    assert store.requests == 0


def test_channel_failure_does_not_break_anything(store, acme, settings):
    from calendars.providers.base import ProviderUnavailable

    settings.PUSH_NOTIFICATIONS = True
    OAuthAppFactory(project=acme.project, platform="google")
    calendar = CalendarFactory(project=acme.project)
    store.fail_next.append(ProviderUnavailable("watch failed"))
    assert ensure_push_channel(calendar.pk) == "failed"
    calendar.refresh_from_db()
    assert calendar.push_channel_id == ""


def test_channels_are_stopped_when_calendars_go(store, acme):
    from calendars.models import CalendarUser
    from calendars.services import calendar_user_delete, calendar_user_disconnect

    OAuthAppFactory(project=acme.project, platform="google")
    alice = CalendarUser.objects.create(project=acme.project, external_id="alice")
    CalendarFactory(project=acme.project, calendar_user=alice, push_channel_id="c1", push_token="t")
    calendar_user_disconnect(calendar_user=alice, platform="google")
    assert store.requests == 1  # channels.stop
    CalendarFactory(project=acme.project, calendar_user=alice, push_channel_id="c2", push_token="t")
    CalendarFactory(project=acme.project, calendar_user=alice, platform="microsoft")  # no channel
    calendar_user_delete(calendar_user=alice)
    assert store.requests == 2
    assert not Calendar.objects.exists()


def test_a_failing_stop_does_not_block_deletion(store, acme):
    from calendars.models import CalendarUser
    from calendars.providers.base import ProviderUnavailable
    from calendars.services import calendar_user_delete

    OAuthAppFactory(project=acme.project, platform="google")
    alice = CalendarUser.objects.create(project=acme.project, external_id="alice")
    CalendarFactory(project=acme.project, calendar_user=alice, push_channel_id="c1", push_token="t")
    store.fail_next.append(ProviderUnavailable("down"))
    calendar_user_delete(calendar_user=alice)
    assert not Calendar.objects.exists()

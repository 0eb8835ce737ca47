"""Safe by design: the sync's fields cannot be edited in the admin, and what staff may do goes
through the API's services and leaves an audit entry (LogEntry: who, when, what)."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import reverse
from django.utils import timezone

from calendars import services as calendar_services
from calendars.models import Calendar, CalendarUser
from calendars.services import SyncSummary
from tests.factories import CalendarFactory, WebhookDeliveryFactory
from webhooks import services as webhook_services
from webhooks.models import WebhookDelivery, WebhookEndpoint

from .conftest import add_meetings


@pytest.fixture
def spy(monkeypatch):
    """Record the calls of a service function (and still run it unless told otherwise)."""

    def install(module, name, returns=None):
        calls = []
        real = getattr(module, name)

        def fake(**kwargs):
            calls.append(kwargs)
            return real(**kwargs) if returns is None else returns

        monkeypatch.setattr(module, name, fake)
        return calls

    return install


def audit(obj) -> list[LogEntry]:
    return list(LogEntry.objects.filter(object_id=str(obj.pk), action_flag=CHANGE))


def run_action(staff, model: str, action: str, objects) -> None:
    response = staff.post(
        reverse(f"admin:{model}_changelist"),
        {"action": action, "_selected_action": [str(o.pk) for o in objects]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def test_resync_goes_through_the_apis_sync_and_is_audited(staff, acme, spy):
    calendars = [CalendarFactory(project=acme.project) for _ in range(2)]
    calls = spy(calendar_services, "calendars_sync_now", returns=SyncSummary())
    run_action(staff, "calendars_calendar", "resync", calendars)
    assert [{c.pk for c in call["calendars"]} for call in calls] == [{c.pk for c in calendars}]
    for calendar in calendars:
        [entry] = audit(calendar)
        assert entry.user == staff.user
        assert "Resync in the admin" in entry.get_change_message()


def test_the_resync_button_on_the_calendar_page(staff, acme, spy):
    calendar = CalendarFactory(project=acme.project)
    calls = spy(calendar_services, "calendars_sync_now", returns=SyncSummary())
    page = reverse("admin:calendars_calendar_change", args=[calendar.pk])
    assert 'id="calendar-resync"' in staff.get(page).content.decode()
    button = reverse("admin:calendars_calendar_resync", args=[calendar.pk])
    assert staff.get(button)["Location"] == page and calls == []  # a GET does nothing
    response = staff.post(button)
    assert response.status_code == 302 and response["Location"] == page
    assert [[c.pk for c in call["calendars"]] for call in calls] == [[calendar.pk]]
    assert len(audit(calendar)) == 1


def test_disconnect_goes_through_the_service_and_is_audited(staff, acme, spy):
    calendar = CalendarFactory(project=acme.project)
    add_meetings(calendar, 2)
    calls = spy(calendar_services, "calendar_mark_disconnected")
    run_action(staff, "calendars_calendar", "disconnect", [calendar])
    assert [call["calendar"].pk for call in calls] == [calendar.pk]
    calendar.refresh_from_db()
    assert calendar.state == Calendar.State.DISCONNECTED
    assert "staff" in calendar.connection_failure_data["message"]  # who, in the reason too
    [entry] = audit(calendar)
    assert "Disconnected in the admin" in entry.get_change_message()


def test_retry_goes_through_the_service_and_is_audited(staff, acme, spy, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: None)
    delivery = WebhookDeliveryFactory(
        endpoint__project=acme.project, status=WebhookDelivery.Status.FAILED
    )
    disabled = WebhookDeliveryFactory(
        endpoint=WebhookEndpoint.objects.create(
            project=acme.project, url="https://off.example/", is_active=False
        ),
        status=WebhookDelivery.Status.FAILED,
    )
    calls = spy(webhook_services, "delivery_retry")
    run_action(staff, "webhooks_webhookdelivery", "retry", [delivery, disabled])
    assert [call["delivery"].pk for call in calls] == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert "retried in the admin" in audit(delivery)[0].get_change_message()
    assert audit(disabled) == []


def test_preferences_change_through_the_v1_service(staff, acme, spy):
    calendar = CalendarFactory(project=acme.project)
    user = calendar.calendar_user
    calls = spy(calendar_services, "calendar_user_update")
    response = staff.post(
        reverse("admin:calendars_calendaruser_change", args=[user.pk]),
        {
            "record_internal": "on",
            "bot_name": "Support Bot",
            "external_id": "hijacked",  # read-only: ignored
            "calendars-TOTAL_FORMS": "1",
            "calendars-INITIAL_FORMS": "1",
            "calendars-0-id": str(calendar.pk),
            "calendars-0-calendar_user": str(user.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert [call["preferences"] for call in calls] == [
        {"record_internal": True, "bot_name": "Support Bot"}
    ]
    user.refresh_from_db()
    assert (user.record_internal, user.bot_name, user.external_id) == (
        True,
        "Support Bot",
        calendar.calendar_user.external_id,
    )
    [entry] = audit(user)
    assert "through calendar_user_update" in entry.get_change_message()
    assert "record_internal False → True" in entry.get_change_message()


def test_sync_owned_fields_are_not_editable(staff, acme):
    calendar = CalendarFactory(project=acme.project, email="owner@acme.example")
    before = Calendar.objects.values().get(pk=calendar.pk)
    page = reverse("admin:calendars_calendar_change", args=[calendar.pk])
    html = staff.get(page).content.decode()
    for name in ("state", "email", "platform", "last_successful_sync_at", "calendar_user"):
        assert f'name="{name}"' not in html, name  # shown, not as an input
    response = staff.post(
        page,
        {
            "metadata": '{"crm": "D-1"}',
            "state": "connecting",
            "email": "changed@example.com",
            "platform": "microsoft",
            "consecutive_sync_failures": "9",
            "last_successful_sync_at_0": "2020-01-01",
            "last_successful_sync_at_1": "00:00",
            "project": "",
        },
    )
    assert response.status_code == 302
    after = Calendar.objects.values().get(pk=calendar.pk)
    assert after["metadata"] == {"crm": "D-1"}  # the one field staff may change
    for name in ("state", "email", "platform", "consecutive_sync_failures", "project_id"):
        assert after[name] == before[name], name
    assert after["last_successful_sync_at"] == before["last_successful_sync_at"]


def test_endpoint_health_fields_are_not_editable(staff, acme):
    since = timezone.now() - timedelta(hours=3)
    endpoint = WebhookEndpoint.objects.create(
        project=acme.project, url="https://hooks.acme.example/", failing_since=since
    )
    response = staff.post(
        reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        {
            "project": acme.project.pk,
            "url": "https://hooks.acme.example/",
            "description": "changed",
            "event_types": "[]",
            "is_active": "on",
            "failing_since_0": "2020-01-01",
            "failing_since_1": "00:00",
            "disabled_reason": "made up",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.failing_since, endpoint.disabled_reason) == (
        "changed",
        since,
        "",
    )


def test_nothing_is_deleted_behind_the_services_back(staff, acme):
    calendar = CalendarFactory(project=acme.project)
    for model, obj in (("calendar", calendar), ("calendaruser", calendar.calendar_user)):
        url = reverse(f"admin:calendars_{model}_delete", args=[obj.pk])
        assert staff.post(url, {"post": "yes"}).status_code == 403
    assert Calendar.objects.filter(pk=calendar.pk).exists()
    assert CalendarUser.objects.filter(pk=calendar.calendar_user.pk).exists()


def test_lists_search_by_ids_and_emails(staff, acme):
    calendar = CalendarFactory(
        project=acme.project, email="findme@acme.example", last_successful_sync_at=timezone.now()
    )
    changelist = reverse("admin:calendars_calendar_changelist")
    for term in ("findme@acme", str(calendar.pk), calendar.calendar_user.external_id):
        assert staff.get(changelist, {"q": term}).context["cl"].result_count == 1, term
    users = reverse("admin:calendars_calendaruser_changelist")
    for term in ("findme@acme", str(calendar.calendar_user.pk)):
        assert staff.get(users, {"q": term}).context["cl"].result_count == 1, term
    html = staff.get(changelist).content.decode()
    assert "UTC" in html and "Google Calendar" in html  # times with their zone, human labels

"""Every model has a working admin; secrets never reach its HTML; list pages stay O(1) in queries."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import (
    BotFactory,
    CalendarFactory,
    MeetingFactory,
    OAuthAppFactory,
    WebhookDeliveryFactory,
)

SECRETS = ["1//refresh-SECRET-token", "client-SECRET-value", "whsec_SECRET", "push-SECRET"]


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-123456")
    client.force_login(user)
    return client


@pytest.fixture
def objects(acme):
    calendar = CalendarFactory(
        project=acme.project,
        refresh_token=SECRETS[0],
        oauth_client_secret=SECRETS[1],
        push_token=SECRETS[3],
    )
    meeting = MeetingFactory(calendar=calendar)
    bot = BotFactory(project=acme.project)
    bot.meetings.add(meeting)
    delivery = WebhookDeliveryFactory(endpoint__project=acme.project, endpoint__secret=SECRETS[2])
    app = OAuthAppFactory(project=acme.project, client_secret=SECRETS[1])
    return [
        acme.project,
        acme.api_key,
        app,
        calendar.calendar_user,
        calendar,
        meeting,
        bot,
        delivery.endpoint,
        delivery,
    ]


def admin_url(obj, action: str) -> str:
    meta = obj._meta
    args = [obj.pk] if action == "change" else []
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{action}", args=args)


def test_every_model_is_registered(objects):
    registered = set(admin.site._registry)
    assert {type(obj) for obj in objects} <= registered


def test_changelist_and_change_pages_render_without_secrets(staff, objects, acme):
    for obj in objects:
        for action in ("changelist", "change"):
            response = staff.get(admin_url(obj, action))
            assert response.status_code == 200, (type(obj).__name__, action)
            html = response.content.decode()
            for secret in [*SECRETS, acme.raw_key]:
                assert secret not in html, (type(obj).__name__, action)


def test_secrets_are_shown_masked(staff, objects):
    calendar = objects[4]
    html = staff.get(admin_url(calendar, "change")).content.decode()
    assert "refresh token" in html.lower()
    assert "•••••••• (set)" in html


def test_saving_a_calendar_in_admin_keeps_its_secrets(staff, objects):
    # Only the customer's metadata is editable: the sync owns the rest (tests/admin/).
    calendar = objects[4]
    response = staff.post(admin_url(calendar, "change"), {"metadata": '{"crm": "D-1"}'})
    assert response.status_code == 302, response.content.decode()[:2000]
    calendar.refresh_from_db()
    assert calendar.metadata == {"crm": "D-1"}
    assert calendar.refresh_token == SECRETS[0]


@pytest.mark.parametrize(
    "model,term",
    [("calendar", "email"), ("calendaruser", "external_id"), ("meeting", "ical_uid")],
)
def test_search(staff, objects, model, term):
    obj = next(o for o in objects if o._meta.model_name == model)
    value = getattr(obj, term)
    response = staff.get(admin_url(obj, "changelist"), {"q": value})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    by_id = staff.get(admin_url(obj, "changelist"), {"q": str(obj.pk)})
    assert by_id.context["cl"].result_count == 1


def test_list_pages_do_not_query_per_row(staff, acme, django_assert_max_num_queries):
    for _ in range(3):
        calendar = CalendarFactory(project=acme.project)
        MeetingFactory(calendar=calendar)
    with django_assert_max_num_queries(12) as few:
        staff.get(reverse("admin:meetings_meeting_changelist"))
    for _ in range(20):
        calendar = CalendarFactory(project=acme.project)
        MeetingFactory(calendar=calendar)
    with django_assert_max_num_queries(len(few.captured_queries)):
        staff.get(reverse("admin:meetings_meeting_changelist"))
    with django_assert_max_num_queries(12):
        staff.get(reverse("admin:calendars_calendar_changelist"))


def test_admin_needs_staff_login(client, objects):
    response = client.get(reverse("admin:calendars_calendar_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]

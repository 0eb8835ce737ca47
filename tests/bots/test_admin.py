from datetime import timedelta

import pytest
from django.urls import reverse

from bots.models import Bot, BotBackendConfig
from tests.factories import BotFactory, CalendarFactory, MeetingFactory

from .conftest import NOW

CHANGELIST = reverse("admin:bots_bot_changelist")


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create(username="staff", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def bot_with_users(project, *users, **kwargs) -> Bot:
    bot = BotFactory(project=project, **kwargs)
    for external_id in users:
        calendar = CalendarFactory(project=project, calendar_user__external_id=external_id)
        bot.meetings.add(MeetingFactory(calendar=calendar, title=f"Sync of {external_id}"))
    return bot


def test_list_shows_meetings_and_calendar_users_in_few_queries(
    staff, acme, django_assert_max_num_queries
):
    bot_with_users(acme.project, "alice", "bob")
    with django_assert_max_num_queries(15) as few:
        html = staff.get(CHANGELIST).content.decode()
    assert "alice" in html and "bob" in html and "Sync of alice" in html
    for n in range(10):
        bot_with_users(acme.project, f"user{n}a", f"user{n}b")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "user9b" in staff.get(CHANGELIST).content.decode()


def test_change_page_shows_history_and_hand_over(staff, acme):
    bot = bot_with_users(acme.project, "alice")
    bot.set_status("dispatched", message="Handed to the attendee backend.")
    bot.backend_error = "Create bot: HTTP 503"
    bot.save()
    html = staff.get(reverse("admin:bots_bot_change", args=[bot.pk])).content.decode()
    assert "Handed to the attendee backend." in html
    assert "Create bot: HTTP 503" in html
    assert "alice" in html
    failing = staff.get(CHANGELIST, {"handover": "failing"})
    assert failing.context["cl"].result_count == 1


def test_editing_metadata_leaves_the_rest_alone(staff, acme):
    bot = BotFactory(project=acme.project)
    Bot.objects.filter(pk=bot.pk).update(backend_bot_id="bot_remote")
    response = staff.post(
        reverse("admin:bots_bot_change", args=[bot.pk]),
        {"metadata": '{"fixed": true}', "config": "{}"},
    )
    assert response.status_code == 302
    bot.refresh_from_db()
    assert bot.metadata == {"fixed": True}
    assert bot.backend_bot_id == "bot_remote"


def test_cancel_action(staff, acme, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: queued.append(a))
    live = BotFactory(project=acme.project)
    joined = BotFactory(project=acme.project, status=Bot.Status.IN_CALL_RECORDING)
    response = staff.post(
        CHANGELIST,
        {"action": "cancel_bots", "_selected_action": [live.pk, joined.pk]},
        follow=True,
    )
    assert response.status_code == 200
    live.refresh_from_db()
    joined.refresh_from_db()
    assert live.status == Bot.Status.CANCELLED
    assert "in the admin" in live.status_changes[-1]["message"]
    assert joined.status == Bot.Status.IN_CALL_RECORDING
    text = response.content.decode()
    assert "1 bot(s) cancelled" in text and "1 bot(s) skipped" in text


def test_redispatch_action(staff, acme, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    failed = BotFactory(project=acme.project, join_at=NOW - timedelta(hours=1))
    failed.set_status(Bot.Status.FATAL, sub_code="backend_unreachable")
    failed.save()
    staff.post(CHANGELIST, {"action": "redispatch_bots", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == Bot.Status.SCHEDULED
    assert failed.join_at > NOW


def test_backend_configuration_key_is_write_only(staff, acme, settings):
    add = reverse("admin:bots_botbackendconfig_add")
    refused = staff.post(
        add,
        {"project": acme.project.pk, "base_url": "https://10.1.2.3", "new_api_key": "k-SECRET"},
    )
    assert refused.status_code == 200
    assert "private" in refused.content.decode()
    assert "k-SECRET" not in refused.content.decode()

    created = staff.post(
        add,
        {
            "project": acme.project.pk,
            "base_url": "https://10.1.2.3",
            "new_api_key": "k-SECRET",
            "allow_private_addresses": "on",
        },
    )
    assert created.status_code == 302
    config = BotBackendConfig.objects.get(project=acme.project)
    assert config.api_key == "k-SECRET"

    change = reverse("admin:bots_botbackendconfig_change", args=[config.pk])
    html = staff.get(change).content.decode()
    assert "k-SECRET" not in html and "•••••••• (set)" in html
    assert (
        "k-SECRET"
        not in staff.get(reverse("admin:bots_botbackendconfig_changelist")).content.decode()
    )

    staff.post(
        change,
        {
            "project": acme.project.pk,
            "base_url": "https://10.1.2.4",
            "new_api_key": "",
            "allow_private_addresses": "on",
        },
    )
    config.refresh_from_db()
    assert (config.base_url, config.api_key) == ("https://10.1.2.4", "k-SECRET")


def test_a_key_is_required(staff, acme):
    response = staff.post(
        reverse("admin:bots_botbackendconfig_add"),
        {"project": acme.project.pk, "base_url": "https://bots.example.com"},
    )
    assert response.status_code == 200
    assert "An API key is required." in response.content.decode()

"""A bot backend's base URL: https outside DEBUG, no credentials, and a private-address
allowance bound to the base URL staff approved - in the admin and again on every request."""

import pytest

from bots.dispatch import push_bot
from bots.models import Bot, BotBackendConfig
from tests.admin_forms import admin_form
from tests.factories import BotFactory

from .conftest import fresh, later

pytestmark = pytest.mark.usefixtures("clock")


def config_form(project, **fields):
    instance = BotBackendConfig.objects.filter(project=project).first() or BotBackendConfig(
        project=project
    )
    fields.setdefault("new_api_key", "k-SECRET")
    return admin_form(instance, project=project, **fields)


@pytest.mark.parametrize(
    ("base_url", "says"),
    [
        ("http://bots.example.com", "https"),
        ("http://127.0.0.1:39161@evil.example.net/", "https"),
        ("https://127.0.0.1:39161@evil.example.net/", "credentials"),
        ("https://user:pw@bots.example.com", "credentials"),
        ("https://bots.example.com/?token=x", "query"),
    ],
)
def test_admin_refuses_a_base_url_the_key_must_not_go_to(acme, base_url, says):
    form = config_form(acme.project, base_url=base_url, allow_private_addresses=True)
    assert not form.is_valid()
    assert says in " ".join(form.errors["base_url"])
    assert not BotBackendConfig.objects.exists()


def test_admin_accepts_https_and_http_only_in_debug(acme, settings):
    form = config_form(acme.project, base_url="http://10.0.0.8:8000", allow_private_addresses=True)
    assert not form.is_valid()
    settings.DEBUG = True
    form = config_form(acme.project, base_url="http://10.0.0.8:8000", allow_private_addresses=True)
    assert form.is_valid(), form.errors
    form.save()
    settings.DEBUG = False
    form = config_form(acme.project, base_url="https://10.0.0.8", allow_private_addresses=True)
    assert form.is_valid(), form.errors
    config = form.save()
    assert config.allow_private_addresses
    assert config.private_addresses_url == "https://10.0.0.8"


def test_the_allowance_ends_when_the_base_url_changes(acme, settings):
    config = BotBackendConfig.objects.create(
        project=acme.project, base_url="https://10.0.0.8", api_key="k", allow_private_addresses=True
    )
    config.base_url = "https://10.0.0.9"
    assert not config.allow_private_addresses
    # In the admin the box shows what applies now; ticking it again approves the new URL.
    form = config_form(acme.project, base_url="https://10.0.0.9")
    assert form.initial["allow_private_addresses"] is True  # the stored URL is still approved
    form = config_form(
        acme.project, base_url="https://10.0.0.9", allow_private_addresses=False, new_api_key=""
    )
    assert not form.is_valid()
    assert "private" in " ".join(form.errors["base_url"])


def test_a_base_url_changed_outside_the_admin_loses_the_allowance(acme, attendee, clock):
    bot = BotFactory(project=acme.project, join_at=later(hours=2))
    BotBackendConfig.objects.filter(project=acme.project).update(
        base_url=attendee.url.rstrip("/") + "/other-service"
    )
    result = push_bot(bot_id=bot.pk)
    assert not result.error.retryable
    assert "Refused destination" in fresh(bot).backend_error
    assert attendee.count() == 0


@pytest.mark.parametrize(
    "base_url", ["http://{host}", "https://user:pw@{host}"], ids=["http", "credentials"]
)
def test_a_stored_bad_base_url_is_never_called(acme, attendee, settings, base_url):
    # Saved before the rule existed: the key is not sent there; retried until staff fix it.
    bot = BotFactory(project=acme.project, join_at=later(hours=2))
    host = attendee.url.split("://", 1)[1]
    url = base_url.format(host=host)
    BotBackendConfig.objects.filter(project=acme.project).update(
        base_url=url, private_addresses_url=url
    )
    settings.DEBUG = False
    result = push_bot(bot_id=bot.pk)
    assert result.error.retryable
    assert "base URL is refused" in fresh(bot).backend_error
    assert attendee.count() == 0
    assert fresh(bot).status == Bot.Status.SCHEDULED


def test_admin_bot_config_and_metadata_are_objects_the_backend_takes(acme):
    acme.project.bot_dispatch_backend = "attendee"
    acme.project.save()
    bot = BotFactory(project=acme.project, backend="attendee")
    form = admin_form(bot, config="x")
    assert not form.is_valid() and "config" in form.errors
    form = admin_form(bot, config={"meeting_url": "https://elsewhere.example/"})
    assert not form.is_valid() and "set by calsync" in form.errors["config"][0]
    form = admin_form(bot, metadata=["a"])
    assert not form.is_valid() and "metadata" in form.errors
    form = admin_form(bot, config={"recording_settings": {"format": "mp4"}}, metadata={"a": 1})
    assert form.is_valid(), form.errors

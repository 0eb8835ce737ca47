from datetime import timedelta

import pytest
from django.utils import timezone

from bots.models import Bot
from config import leases
from tests.factories import BotFactory

pytestmark = pytest.mark.django_db

FIELD = "backend_lease_until"
LENGTH = timedelta(minutes=2)


def test_one_worker_takes_a_free_lease():
    bot = BotFactory()
    rows = Bot.objects.filter(pk=bot.pk)
    now = timezone.now()
    until = leases.take(rows, field=FIELD, now=now, length=LENGTH)
    assert until == now + LENGTH
    assert leases.take(rows, field=FIELD, now=now, length=LENGTH) is None
    bot.refresh_from_db()
    assert bot.backend_lease_until == until


def test_a_lapsed_lease_is_taken_over():
    bot = BotFactory()
    rows = Bot.objects.filter(pk=bot.pk)
    now = timezone.now()
    first = leases.take(rows, field=FIELD, now=now, length=LENGTH)
    later = first + timedelta(seconds=1)
    second = leases.take(rows, field=FIELD, now=later, length=LENGTH)
    assert second == later + LENGTH
    # The first holder's fence no longer matches: it can neither renew nor release.
    assert not leases.renew(rows.filter(**{FIELD: first}), field=FIELD, length=LENGTH)
    assert leases.release(rows.filter(**{FIELD: first}), field=FIELD) == 0
    assert Bot.objects.filter(leases.free(FIELD, later), pk=bot.pk).count() == 0


def test_take_writes_more_fields_and_release_frees():
    bot = BotFactory()
    rows = Bot.objects.filter(pk=bot.pk)
    now = timezone.now()
    until = leases.take(rows, field=FIELD, now=now, length=LENGTH, backend_error="working")
    assert leases.renew(rows.filter(**{FIELD: until}), field=FIELD, length=LENGTH)
    bot.refresh_from_db()
    assert bot.backend_error == "working"
    assert bot.backend_lease_until > until - LENGTH
    assert leases.release(rows, field=FIELD, backend_error="") == 1
    assert Bot.objects.filter(leases.free(FIELD, now), pk=bot.pk, backend_error="").exists()


def test_a_gone_row_is_not_taken():
    assert leases.take(Bot.objects.none(), field=FIELD, now=timezone.now(), length=LENGTH) is None

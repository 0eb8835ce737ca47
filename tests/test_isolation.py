"""One project's broken settings or rows never stop another project's sync, reconciliation,
dispatch or webhook delivery: the bad row is logged, recorded (admin, /healthz) and skipped."""

from datetime import timedelta

import pytest

from bots import jobs as bot_jobs
from bots import reconcile
from bots.models import Bot
from calendars.models import Calendar
from meetings.models import Meeting
from projects.models import JobFailure, Project
from tests.convergence.harness import link, make_world


@pytest.fixture
def world(acme, traveller, monkeypatch):
    return make_world(acme.project, traveller, monkeypatch)


@pytest.fixture
def traveller():
    import time_machine

    from tests.convergence.harness import START

    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def poison(project) -> None:
    # Straight into the database, as a bad migration, a manual edit or an old bug would.
    Project.objects.filter(pk=project.pk).update(bot_config="x")


def test_a_poisoned_project_does_not_stop_the_others(world, globex, monkeypatch, client):
    good = world.add_calendar("alice", record_external=True)
    bad = world.add_calendar("mallory", project=globex.project, record_external=True)
    start = world.now() + timedelta(hours=5)
    for calendar, n in ((good, 1), (bad, 2)):
        world.put_meeting(calendar, f"e{n}", start, n, external=True)
    poison(globex.project)

    # Sync: both calendars sync; only the healthy one gets its bot.
    assert world.sync(bad) == "synced"
    assert world.sync(good) == "synced"
    assert Bot.objects.filter(project=world.project).count() == 1
    assert not Bot.objects.filter(project=globex.project).exists()
    # The poisoned calendar still waits for its bots, its failure is on record.
    assert Calendar.objects.get(pk=bad.pk).bots_pending
    failure = JobFailure.objects.get(job="reconcile")
    assert (failure.object_id, failure.project_id) == (str(bad.pk), globex.project.pk)
    assert "TypeError" in failure.error

    # The periodic jobs: every calendar of every project is swept; the bad one is skipped.
    world.put_meeting(good, "e3", start + timedelta(hours=1), 3, external=True)
    Meeting.objects.filter(calendar=good).update(needs_reconcile=True)
    Bot.objects.filter(project=world.project).delete()
    assert reconcile.reconcile_pending() >= 1
    assert Bot.objects.filter(project=world.project).count() == 1
    reconcile.reconcile_upcoming()
    assert JobFailure.objects.get(job="reconcile").occurrences >= 3

    # Dispatch: the healthy project's due bot is dispatched although a poisoned bot is due too.
    (bot,) = Bot.objects.filter(project=world.project)
    Bot.objects.create(
        project=globex.project,
        meeting_url=link(9),
        join_at=world.now(),
        name="poisoned",
        deduplication_key="poisoned",
        backend="no-such-backend-\\x00",
        config="x",
    )
    monkeypatch.setattr(
        "bots.dispatch.needs_network",
        lambda bot: (_ for _ in ()).throw(TypeError("bad row")) if bot.config == "x" else False,
    )
    world.tick((bot.join_at - world.now()).total_seconds() + 1)
    bot_jobs.dispatch_due_bots()
    bot.refresh_from_db()
    assert bot.status == Bot.Status.DISPATCHED
    assert JobFailure.objects.filter(job="dispatch").count() == 1

    # Operators see it.
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["skipped_rows"] == {"dispatch": 1, "reconcile": 1}

    # Fixed: the next run clears the record and the bot appears.
    Project.objects.filter(pk=globex.project.pk).update(bot_config={})
    reconcile.reconcile_pending()
    assert Bot.objects.filter(project=globex.project, meetings__calendar=bad).count() == 1
    assert not Calendar.objects.get(pk=bad.pk).bots_pending
    assert not JobFailure.objects.filter(job="reconcile").exists()
    assert Calendar.objects.get(pk=bad.pk).state == Calendar.State.CONNECTED


def test_unexpected_sync_failure_of_one_calendar_does_not_stop_resync_all(world, monkeypatch):
    from calendars import services
    from calendars.sync import engine as sync

    first = world.add_calendar("alice", record_external=True)
    second = world.add_calendar("bob", record_external=True)
    real = sync._sync

    def crash_first(calendar, owner, result):
        if calendar.pk == first.pk:
            raise RuntimeError("a bug")
        return real(calendar, owner, result)

    monkeypatch.setattr(sync, "_sync", crash_first)
    summary = services.calendars_sync_now(calendars=[first, second])
    assert summary.synced_calendars == [second.pk]
    assert [calendar_id for calendar_id, _ in summary.errors] == [first.pk]

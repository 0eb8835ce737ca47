"""`POST /api/v1/bots/{id}/status/`: a runner reports status codes; sane transitions only, each
accepted report as `bot.status_change` + `bot.<code>` in the same transaction."""

from datetime import timedelta

import pytest

from bots.models import Bot
from tests.factories import BotFactory

from .conftest import NOW, emitted, fresh

pytestmark = pytest.mark.usefixtures("clock")

JOURNEY = [
    "joining_call",
    "in_waiting_room",
    "in_call_not_recording",
    "recording_permission_allowed",
    "in_call_recording",
    "in_call_not_recording",  # paused
    "in_call_recording",  # resumed
    "call_ended",
    "done",
]


@pytest.fixture
def bot(acme) -> Bot:
    bot = BotFactory(project=acme.project, join_at=NOW - timedelta(minutes=1), metadata={"k": "v"})
    bot.set_status(Bot.Status.DISPATCHED)
    bot.dispatched_at = NOW
    bot.save()
    return bot


def report(tenant, bot, code, **extra):
    return tenant.client.post(
        f"/api/v1/bots/{bot.pk}/status/", {"code": code, **extra}, format="json"
    )


def test_a_whole_call(acme, bot, hooks):
    for number, code in enumerate(JOURNEY, start=1):
        response = report(acme, bot, code, sub_code="sub" if code == "done" else None)
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == code
        assert emitted().count("bot.status_change") == number
    assert emitted().count("bot.in_call_recording") == 2
    assert {"bot.joining_call", "bot.recording_permission_allowed", "bot.done"} <= set(emitted())
    bot = fresh(bot)
    assert [c["code"] for c in bot.status_changes] == ["dispatched", *JOURNEY]
    assert bot.status_changes[-1]["sub_code"] == "sub"

    delivery = hooks.deliveries.get(event_type="bot.done")
    assert delivery.payload["data"] == {
        "data": {
            "code": "done",
            "sub_code": "sub",
            "updated_at": bot.status_changes[-1]["created_at"],
        },
        "bot": {"id": str(bot.pk), "metadata": {"k": "v"}},
    }


def test_the_same_report_twice_is_recorded_once(acme, bot, hooks):
    report(acme, bot, "joining_call")
    assert report(acme, bot, "joining_call").status_code == 200
    assert len(fresh(bot).status_changes) == 2
    assert emitted() == ["bot.joining_call", "bot.status_change"]


def test_message_and_sub_code_are_kept(acme, bot):
    body = report(acme, bot, "fatal", sub_code="meeting_not_found", message="No such meeting.")
    change = body.json()["status_changes"][-1]
    assert (change["code"], change["sub_code"], change["message"]) == (
        "fatal",
        "meeting_not_found",
        "No such meeting.",
    )


@pytest.mark.parametrize(
    "status,code,error,http",
    [
        ("in_call_recording", "joining_call", "invalid_transition", 409),
        ("call_ended", "in_call_recording", "invalid_transition", 409),
        ("done", "call_ended", "bot_terminal", 409),
        ("fatal", "joining_call", "bot_terminal", 409),
        ("cancelled", "joining_call", "bot_terminal", 409),
        ("dispatched", "exploded", "unknown_status_code", 400),
        ("dispatched", "scheduled", "status_not_reportable", 400),
        ("dispatched", "cancelled", "status_not_reportable", 400),
        ("dispatched", "dispatched", "status_not_reportable", 400),
    ],
)
def test_refused_reports_change_nothing(acme, bot, hooks, status, code, error, http):
    Bot.objects.filter(pk=bot.pk).update(status=status)
    history = fresh(bot).status_changes
    response = report(acme, bot, code)
    assert response.status_code == http
    body = response.json()
    assert body["code"] == error
    assert body["message"] and body["request_id"]
    assert fresh(bot).status == status
    assert fresh(bot).status_changes == history
    assert emitted() == []


def test_fatal_from_any_live_status(acme, bot):
    Bot.objects.filter(pk=bot.pk).update(status="in_call_recording")
    assert report(acme, bot, "fatal").status_code == 200


def test_a_bot_scheduled_for_later_takes_no_report(acme):
    bot = BotFactory(project=acme.project, join_at=NOW + timedelta(hours=1))
    response = report(acme, bot, "joining_call")
    assert response.status_code == 409
    assert response.json()["code"] == "bot_not_dispatched"
    assert report(acme, bot, "fatal").status_code == 200  # a runner can always give up


def test_a_due_bot_may_report_before_the_dispatch_tick(acme):
    bot = BotFactory(project=acme.project, join_at=NOW)
    assert report(acme, bot, "joining_call").status_code == 200
    assert fresh(bot).dispatched_at == NOW


def test_bad_input(acme, bot):
    missing = acme.client.post(f"/api/v1/bots/{bot.pk}/status/", {}, format="json")
    assert missing.status_code == 400
    assert missing.json()["code"] == "invalid_request_data"
    assert "code" in missing.json()["errors"]
    not_json = acme.client.post(
        f"/api/v1/bots/{bot.pk}/status", "code=done", content_type="text/plain"
    )
    assert not_json.status_code == 415
    assert len(fresh(bot).status_changes) == 1


def test_another_projects_bot_is_not_found(globex, bot):
    response = report(globex, bot, "joining_call")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert fresh(bot).status == Bot.Status.DISPATCHED

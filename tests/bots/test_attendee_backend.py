"""The `attendee` backend against the fake bot API: create, move, cancel, failures retried and
recorded. Pushes run through `push_bot`, the body of the `push_bot_to_backend` job."""

from datetime import timedelta

import pytest
import requests

from bots import jobs
from bots.backends.attendee import deduplication_key
from bots.dispatch import pending_action, push_bot, pushes_due
from bots.models import Bot, BotBackendConfig
from tests.factories import BotFactory

from .conftest import NOW, fresh, later

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def bot(acme, attendee) -> Bot:
    return BotFactory(
        project=acme.project,
        join_at=later(hours=2),
        meeting_url="https://zoom.us/j/111",
        name="Acme Notes",
        metadata={"deal": "D-1", "seats": 3},
        config={"recording_settings": {"format": "mp3"}},
    )


def test_create_hands_the_bot_over_once(bot, attendee):
    assert jobs.push_bot_to_backend(str(bot.pk)) == "synced"
    (remote,) = attendee.bots.values()
    assert remote.meeting_url == "https://zoom.us/j/111"
    assert remote.bot_name == "Acme Notes"
    assert remote.join_at == bot.join_at
    assert remote.metadata == {"deal": "D-1", "seats": "3", "calsync_bot_id": str(bot.pk)}
    assert remote.deduplication_key == deduplication_key(bot)
    assert remote.extra == {"recording_settings": {"format": "mp3"}}
    request = attendee.requests[-1]
    assert request.headers["Authorization"] == f"Token {attendee.api_key}"

    bot = fresh(bot)
    assert (bot.backend, bot.backend_bot_id, bot.backend_join_at) == (
        "attendee",
        remote.id,
        bot.join_at,
    )
    assert bot.backend_synced_at == NOW and bot.backend_error == ""
    assert pending_action(bot) is None

    assert jobs.push_bot_to_backend(str(bot.pk)) == "synced"  # nothing left to do
    assert attendee.count() == 1


def sent(acme, attendee, config: dict, **fields):
    """What the fake Attendee received for a bot with this config."""
    bot = BotFactory(project=acme.project, join_at=later(hours=2), config=config, **fields)
    assert push_bot(bot_id=bot.pk).outcome == "synced"
    (remote,) = attendee.bots.values()
    return remote


@pytest.mark.parametrize(
    ("portable", "expected"),
    [
        ({"recording_mode": "speaker_view"}, {"recording_settings": {"view": "speaker_view"}}),
        ({"recording_mode": "gallery_view"}, {"recording_settings": {"view": "gallery_view"}}),
        ({"recording_mode": "audio_only"}, {"recording_settings": {"format": "mp3"}}),
        (
            {"noone_joined_timeout": 120, "waiting_room_timeout": 0, "silence_timeout": 30},
            {
                "automatic_leave_settings": {
                    "only_participant_in_meeting_timeout_seconds": 120,
                    "waiting_room_timeout_seconds": 0,
                    "silence_timeout_seconds": 30,
                }
            },
        ),
        ({"enter_message": "Hi"}, {"bot_chat_message": {"to": "everyone", "message": "Hi"}}),
        (
            {"webhook_url": "https://hooks.acme.test/b"},
            {"webhooks": [{"url": "https://hooks.acme.test/b", "triggers": ["bot.state_change"]}]},
        ),
        ({"speech_to_text": "Gladia"}, {"transcription_settings": {"gladia": {}}}),
        (
            {"speech_to_text": {"provider": "Gladia", "api_key": "k"}},
            {"transcription_settings": {"gladia": {}}},
        ),
        ({"speech_to_text": "Default"}, {}),
        ({"speech_to_text": {"provider": "Runpod"}}, {}),
        (
            {"bot_image": {"type": "image/png", "data": "iVBORw0KGgo="}},
            {"bot_image": {"type": "image/png", "data": "iVBORw0KGgo="}},
        ),
        # No Attendee equivalent: not sent (Attendee refuses unknown fields).
        (
            {
                "bot_image": "https://cdn.acme.test/bot.png",
                "streaming_input": "wss://s.acme.test/in",
                "streaming_output": "wss://s.acme.test/out",
                "streaming_audio_frequency": "16khz",
                "transcription_custom_parameters": {"a": 1},
                "zoom_sdk_id": "id",
                "zoom_sdk_pwd": "pwd",
                "zoom_obf_token": "t",
                "zoom_obf_token_url": "https://t.acme.test/",
                "zoom_obf_token_user_id": "u",
                "zoom_access_token_url": "https://t.acme.test/zak",
            },
            {},
        ),
        # Null and "" are unset.
        ({"recording_mode": None, "enter_message": "", "webhook_url": None}, {}),
    ],
)
def test_portable_keys_become_attendee_settings(acme, attendee, portable, expected):
    remote = sent(acme, attendee, portable)
    assert remote.extra == expected
    bot = Bot.objects.get()
    assert bot.config == portable  # stored as sent, whatever was translated


def test_extra_joins_the_metadata_and_the_bots_own_metadata_wins(acme, attendee):
    remote = sent(
        acme,
        attendee,
        {"extra": {"customer": "C-1", "deal": "from extra", "n": 2}},
        metadata={"deal": "D-1"},
    )
    bot = Bot.objects.get()
    assert remote.metadata == {
        "customer": "C-1",
        "deal": "D-1",
        "n": "2",
        "calsync_bot_id": str(bot.pk),
    }
    assert remote.extra == {}


def test_the_configs_own_attendee_settings_win_over_translated_ones(acme, attendee):
    remote = sent(
        acme,
        attendee,
        {
            "recording_mode": "gallery_view",
            "recording_settings": {"view": "speaker_view_no_sidebar", "resolution": "720p"},
            "noone_joined_timeout": 120,
            "silence_timeout": 30,
            "automatic_leave_settings": {"silence_timeout_seconds": 600},
            "enter_message": "Translated",
            "bot_chat_message": {"message": "Own"},
            "speech_to_text": "Gladia",
            "transcription_settings": {"deepgram": {"language": "en"}},
            "webhook_url": "https://hooks.acme.test/portable",
            "webhooks": [
                {"url": "https://hooks.acme.test/own", "triggers": ["transcript.update"]},
                {"url": "https://hooks.acme.test/portable", "triggers": ["chat_messages.update"]},
            ],
        },
    )
    assert remote.extra == {
        "recording_settings": {"view": "speaker_view_no_sidebar", "resolution": "720p"},
        "automatic_leave_settings": {
            "only_participant_in_meeting_timeout_seconds": 120,
            "silence_timeout_seconds": 600,
        },
        "bot_chat_message": {"to": "everyone", "message": "Own"},
        "transcription_settings": {"deepgram": {"language": "en"}},
        "webhooks": [
            {"url": "https://hooks.acme.test/own", "triggers": ["transcript.update"]},
            {"url": "https://hooks.acme.test/portable", "triggers": ["chat_messages.update"]},
        ],
    }


def test_a_translated_webhook_joins_the_configs_own_list(acme, attendee):
    own = {"url": "https://hooks.acme.test/own", "triggers": ["transcript.update"]}
    remote = sent(acme, attendee, {"webhook_url": "https://hooks.acme.test/bot", "webhooks": [own]})
    assert remote.extra["webhooks"] == [
        own,
        {"url": "https://hooks.acme.test/bot", "triggers": ["bot.state_change"]},
    ]


def test_keys_that_are_not_portable_travel_untouched(acme, attendee):
    config = {
        "recording_mode": "audio_only",
        "some_future_setting": {"nested": [1, {"x": None}]},
        "zoom_settings": {"sdk": "web"},
    }
    remote = sent(acme, attendee, config)
    assert remote.extra == {
        "recording_settings": {"format": "mp3"},
        "some_future_setting": {"nested": [1, {"x": None}]},
        "zoom_settings": {"sdk": "web"},
    }


def test_a_new_join_time_is_patched(bot, attendee):
    push_bot(bot_id=bot.pk)
    Bot.objects.filter(pk=bot.pk).update(join_at=later(hours=5))
    assert push_bot(bot_id=bot.pk).outcome == "synced"
    (remote,) = attendee.bots.values()
    assert remote.join_at == later(hours=5)
    assert attendee.count(method="PATCH") == 1
    assert fresh(bot).backend_join_at == later(hours=5)


def test_a_new_link_or_name_replaces_the_bot(bot, attendee):
    push_bot(bot_id=bot.pk)
    old_id = fresh(bot).backend_bot_id
    Bot.objects.filter(pk=bot.pk).update(meeting_url="https://zoom.us/j/222", name="Renamed")
    push_bot(bot_id=bot.pk)
    (remote,) = attendee.bots.values()
    assert remote.id != old_id
    assert (remote.meeting_url, remote.bot_name) == ("https://zoom.us/j/222", "Renamed")
    assert fresh(bot).backend_bot_id == remote.id
    assert [r.route for r in attendee.requests] == ["bots.create", "bots.delete", "bots.create"]


def test_a_launched_bot_that_moves_leaves_and_a_new_one_is_made(bot, attendee):
    push_bot(bot_id=bot.pk)
    old_id = fresh(bot).backend_bot_id
    attendee.launch(old_id)
    Bot.objects.filter(pk=bot.pk).update(join_at=later(hours=6))
    assert push_bot(bot_id=bot.pk).outcome == "synced"
    assert attendee.bots[old_id].state == "ended"
    (live,) = attendee.live_bots()
    assert live.join_at == later(hours=6)
    assert [r.route for r in attendee.requests][1:] == [
        "bots.patch",
        "bots.delete",
        "bots.leave",
        "bots.create",
    ]


def test_cancel_deletes_it_at_the_backend_once(bot, attendee):
    push_bot(bot_id=bot.pk)
    bot = fresh(bot)
    bot.set_status(Bot.Status.CANCELLED, sub_code="not_needed")
    bot.save()
    assert push_bot(bot_id=bot.pk).outcome == "synced"
    assert attendee.bots == {}
    bot = fresh(bot)
    assert bot.backend_join_at is None and bot.backend_bot_id  # the reference stays
    push_bot(bot_id=bot.pk)
    assert attendee.count(method="DELETE") == 1


def test_a_launched_bot_that_is_cancelled_is_asked_to_leave(bot, attendee):
    push_bot(bot_id=bot.pk)
    remote_id = fresh(bot).backend_bot_id
    attendee.launch(remote_id)
    Bot.objects.filter(pk=bot.pk).update(status=Bot.Status.CANCELLED)
    assert push_bot(bot_id=bot.pk).outcome == "synced"
    assert attendee.bots[remote_id].state == "ended"
    assert [r.route for r in attendee.requests][1:] == ["bots.delete", "bots.leave"]


def test_a_bot_cancelled_before_its_hand_over_never_reaches_the_backend(bot, attendee):
    bot.set_status(Bot.Status.CANCELLED)
    bot.save()
    push_bot(bot_id=bot.pk)
    assert attendee.count() == 0


def test_a_due_bot_is_created_to_join_now(acme, attendee):
    bot = BotFactory(project=acme.project, join_at=NOW - timedelta(minutes=1))
    push_bot(bot_id=bot.pk)
    (remote,) = attendee.bots.values()
    assert remote.join_at is None and remote.state == "joining"
    assert "join_at" not in attendee.requests[-1].json()


def test_failures_are_retried_with_backoff_then_succeed(bot, attendee, clock, queue):
    attendee.fail_next(2, 500)
    result = push_bot(bot_id=bot.pk)
    assert result.outcome == "failed" and result.error.retryable
    bot = fresh(bot)
    assert "HTTP 500" in bot.backend_error
    assert bot.backend_attempts == 1
    assert NOW + timedelta(seconds=25) <= bot.backend_retry_at <= NOW + timedelta(seconds=35)
    assert pushes_due(now=NOW) == []  # not yet

    clock.shift(timedelta(seconds=40))
    assert jobs.sweep_backend_pushes() == 1
    assert queue.run() == ["failed"]
    bot = fresh(bot)
    assert bot.backend_attempts == 2
    assert bot.backend_retry_at - later(seconds=40) >= timedelta(seconds=100)  # about 2 min

    clock.shift(timedelta(minutes=3))
    jobs.sweep_backend_pushes()
    assert queue.run() == ["synced"]
    bot = fresh(bot)
    assert (bot.backend_error, bot.backend_attempts, bot.backend_retry_at) == ("", 0, None)
    assert len(attendee.bots) == 1
    assert jobs.sweep_backend_pushes() == 0


def test_retry_after_is_honoured(bot, attendee):
    attendee.fail_next(1, 429, retry_after=600)
    push_bot(bot_id=bot.pk)
    assert fresh(bot).backend_retry_at >= NOW + timedelta(seconds=600)


def test_retries_come_back_by_the_join_time(acme, attendee):
    bot = BotFactory(project=acme.project, join_at=later(minutes=3))
    attendee.fail_next(5, 503)
    for _ in range(4):
        Bot.objects.filter(pk=bot.pk).update(backend_retry_at=None)
        push_bot(bot_id=bot.pk)
    assert fresh(bot).backend_retry_at <= bot.join_at


def test_a_timeout_is_retried_and_a_lost_answer_makes_no_second_bot(bot, attendee):
    attendee.fail_next(1, "timeout")
    result = push_bot(bot_id=bot.pk)
    assert result.outcome == "failed" and "timed out" in str(result.error)
    assert attendee.bots == {}

    # The backend created the bot but its answer was lost: the retry finds it by its key.
    requests.post(
        f"{attendee.url}/api/v1/bots",
        json={
            "meeting_url": bot.meeting_url,
            "bot_name": bot.name,
            "join_at": bot.join_at.isoformat(),
            "deduplication_key": deduplication_key(bot),
        },
        headers={"Authorization": f"Token {attendee.api_key}"},
        timeout=2,
    )
    (existing,) = attendee.bots
    assert push_bot(bot_id=bot.pk).outcome == "synced"
    assert list(attendee.bots) == [existing]
    assert fresh(bot).backend_bot_id == existing


def test_a_refusal_is_recorded_and_not_retried_by_itself(bot, attendee):
    Bot.objects.filter(pk=bot.pk).update(name="")  # the backend requires a name
    result = push_bot(bot_id=bot.pk)
    assert result.outcome == "failed" and not result.error.retryable
    bot = fresh(bot)
    assert "HTTP 400" in bot.backend_error and bot.backend_retry_at is None
    assert pushes_due(now=NOW + timedelta(days=1)) == []


def test_credentials_problems_are_retried(bot, attendee):
    BotBackendConfig.objects.filter(project=bot.project).update(api_key="")
    result = push_bot(bot_id=bot.pk)
    assert result.error.retryable and "no bot backend configuration" in str(result.error)
    config = BotBackendConfig.objects.get(project=bot.project)
    config.api_key = "wrong"
    config.save()
    result = push_bot(bot_id=bot.pk)
    assert result.error.retryable and "HTTP 401" in str(result.error)
    assert fresh(bot).backend_attempts == 2


def test_private_addresses_are_refused_unless_allowed(bot, attendee):
    BotBackendConfig.objects.filter(project=bot.project).update(private_addresses_url="")
    result = push_bot(bot_id=bot.pk)
    assert not result.error.retryable
    assert "Refused destination" in fresh(bot).backend_error
    assert attendee.count() == 0


def test_unknown_backend_is_a_clear_recorded_error(acme, attendee):
    bot = BotFactory(project=acme.project, backend="noop")
    result = push_bot(bot_id=bot.pk)
    assert result.outcome == "failed"
    assert "Unknown bot dispatch backend 'noop'" in fresh(bot).backend_error
    assert "attendee, local" in fresh(bot).backend_error


def test_one_push_at_a_time(bot, attendee):
    Bot.objects.filter(pk=bot.pk).update(backend_lease_until=later(minutes=1))
    assert push_bot(bot_id=bot.pk).outcome == "busy"
    assert attendee.count() == 0
    Bot.objects.filter(pk=bot.pk).update(backend_lease_until=NOW - timedelta(seconds=1))
    assert push_bot(bot_id=bot.pk).outcome == "synced"  # a lapsed lease is taken over
    assert fresh(bot).backend_lease_until is None


def test_lost_pushes_are_found_by_the_sweep(bot, attendee, clock, queue):
    assert pushes_due(now=NOW) == []  # its own job is on the way
    clock.shift(timedelta(minutes=2))
    assert pushes_due(now=later(minutes=2)) == [bot.pk]
    jobs.sweep_backend_pushes()
    queue.run()
    assert len(attendee.bots) == 1
    assert pushes_due(now=later(minutes=5)) == []

"""A Meeting BaaS v1 client's whole calendar flow against us, Google and Microsoft: every
request is built as Meeting BaaS' OpenAPI says and every answer validated against its schemas
(contract.py). The provider is the loopback fake; only the base URL and the key are ours."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bots.models import Bot
from calendars.models import Calendar
from meetings.models import Meeting
from tests.fakes.calendar_model import Attendee, Conference, EventSpec, Person, Recurrence

from .conftest import EMAIL

ZOOM = Conference("zoom", "https://us02web.zoom.us/j/85012345678", "85012345678", "")
MEET = Conference("meet", "https://meet.google.com/abc-defg-hij", "abc-defg-hij", "")

# Every key of BotParam2 (and the newer ones of the later docs), as a client sends them.
BOT_PARAM2 = {
    "bot_name": "Acme Notetaker",
    "bot_image": "https://cdn.acme.com/bot.png",
    "deduplication_key": "dana-standup",
    "enter_message": "Recording for Acme.",
    "extra": {"customer_id": "c-42"},
    "noone_joined_timeout": 600,
    "waiting_room_timeout": 300,
    "silence_timeout": 900,
    "recording_mode": "speaker_view",
    "speech_to_text": {"provider": "Gladia", "api_key": "gl-key"},
    "streaming_audio_frequency": "16khz",
    "streaming_input": "wss://stream.acme.com/in",
    "streaming_output": "wss://stream.acme.com/out",
    "transcription_custom_parameters": {"language": "en"},
    "webhook_url": "https://api.acme.com/meetingbaas/webhook",
    "zoom_sdk_id": "sdk-id",
    "zoom_sdk_pwd": "sdk-pwd",
    "zoom_obf_token": None,
    "zoom_obf_token_url": "https://api.acme.com/zoom/obf",
    "zoom_obf_token_user_id": "zoom-user-1",
    "zoom_access_token_url": None,
}


def live_bots(project):
    return Bot.objects.filter(project=project).live()


@pytest.fixture
def events(fake):
    """Dana's calendar: a daily standup (4 instances, an external attendee), a one-off she was
    invited to, and a meeting earlier today."""
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=1)
    fake.add_event(
        EMAIL,
        summary="Standup",
        start=start,
        end=start + timedelta(minutes=15),
        recurrence=Recurrence("DAILY", count=4),
        conference=ZOOM,
        attendees=(Attendee("lee@globex.com", "Lee"),),
    )
    fake.add_event(
        EMAIL,
        summary="Board",
        start=start + timedelta(hours=3),
        end=start + timedelta(hours=4),
        organizer=Person("boss@acme.com", "Boss"),
        attendees=(Attendee(EMAIL, "Dana"), Attendee("boss@acme.com", "Boss")),
        conference=MEET,
    )
    fake.add_event(
        EMAIL,
        summary="Earlier",
        start=start - timedelta(days=1, hours=6),
        end=start - timedelta(days=1, hours=5),
        conference=ZOOM,
    )
    return start


def test_meeting_baas_client_flow(mb, acme, fake, provider, credentials, events, settings):
    settings.EVENT_FEED_LAG_SECONDS = 0  # the change feed shows this second's changes
    start = events

    # 1. List the account's calendars, pick the primary.
    raw = mb.call("list_raw_calendars", body=credentials)
    primary = next(entry for entry in raw["calendars"] if entry["is_primary"])

    # 2. Create it: answered at once; the first sync runs in the background.
    created = mb.call("create_calendar", body={**credentials, "raw_calendar_id": primary["id"]})
    calendar = created["calendar"]
    assert calendar["google_id"] == primary["id"]
    stored = Calendar.objects.get(pk=calendar["uuid"])
    assert (stored.project, stored.platform, stored.oauth_client_id) == (
        acme.project,
        provider,
        credentials["oauth_client_id"],
    )

    # 3. List and get.
    assert mb.call("list_calendars") == [calendar]
    assert mb.call("get_calendar", uuid=calendar["uuid"]) == calendar

    # 4. Resync all (runs the first sync here): the account's address is learnt.
    assert mb.call("resync_all", query={"days": 30}) == {
        "synced_calendars": [calendar["uuid"]],
        "errors": [],
    }
    assert mb.call("get_calendar", uuid=calendar["uuid"])["email"] == EMAIL

    # 5. Events: upcoming by default, by start time, with their filters.
    listed = mb.call("list_events", query={"calendar_id": calendar["uuid"]})
    assert listed["next"] is None
    names = [event["name"] for event in listed["data"]]
    assert names == ["Standup", "Board", "Standup", "Standup", "Standup"]
    standups = [event for event in listed["data"] if event["name"] == "Standup"]
    board = next(event for event in listed["data"] if event["name"] == "Board")
    assert all(event["is_recurring"] and event["recurring_event_id"] for event in standups)
    assert len({event["recurring_event_id"] for event in standups}) == 1
    assert board["is_recurring"] is False and board["recurring_event_id"] is None
    assert board["is_organizer"] is False and standups[0]["is_organizer"] is True
    assert board["meeting_url"] == MEET.join_url
    assert {"email": "lee@globex.com", "name": "Lee"} in standups[0]["attendees"]
    assert all(event["bot_param"] is None and not event["deleted"] for event in listed["data"])
    assert all(event["calendar_uuid"] == calendar["uuid"] for event in listed["data"])

    def names_for(**query):
        body = mb.call("list_events", query={"calendar_id": calendar["uuid"], **query})
        return [event["name"] for event in body["data"]]

    assert names_for(status="past") == ["Earlier"]
    assert names_for(status="all") == ["Earlier", *names]
    assert names_for(organizer_email="boss@acme.com") == ["Board"]
    assert names_for(attendee_email="LEE@globex.com") == ["Standup"] * 4
    window = {
        "start_date_gte": (start + timedelta(hours=1)).isoformat(),
        "start_date_lte": (start + timedelta(days=1, minutes=1)).isoformat(),
    }
    assert names_for(**window) == ["Board", "Standup"]
    assert len(names_for(updated_at_gte=(timezone.now() - timedelta(hours=1)).isoformat())) == 6
    assert names_for(updated_at_gte=(timezone.now() + timedelta(hours=1)).isoformat()) == []

    # 6. Get one event.
    assert mb.call("get_event", uuid=board["uuid"]) == board

    # 7. Schedule a bot on the whole series, with every bot parameter.
    scheduled = mb.call(
        "schedule_record_event",
        uuid=standups[1]["uuid"],
        query={"all_occurrences": "true"},
        body=BOT_PARAM2,
    )
    assert [event["uuid"] for event in scheduled] == [event["uuid"] for event in standups]
    bot_param = scheduled[0]["bot_param"]
    expected = {k: v for k, v in BOT_PARAM2.items() if k != "speech_to_text"}
    assert {k: bot_param[k] for k in expected} == expected
    assert (bot_param["speech_to_text_provider"], bot_param["speech_to_text_api_key"]) == (
        "Gladia",
        "gl-key",
    )
    assert all(event["bot_param"] == bot_param for event in scheduled)
    bots = live_bots(acme.project)
    assert bots.count() == 4
    # The settings reach the bot backend in the bot's configuration, under their own names.
    config = bots.first().config
    assert {k: config[k] for k in BOT_PARAM2 if k not in ("bot_name", "deduplication_key")} == {
        k: v for k, v in BOT_PARAM2.items() if k not in ("bot_name", "deduplication_key")
    }
    assert set(bots.values_list("name", flat=True)) == {"Acme Notetaker"}

    # 8. Patch the series' bot: the keys sent change, the others stay.
    patched = mb.call(
        "patch_bot",
        uuid=standups[0]["uuid"],
        query={"all_occurrences": "true"},
        body={"bot_name": "Acme Recorder", "recording_mode": "audio_only", "webhook_url": None},
    )
    assert len(patched) == 4
    for event in patched:
        assert event["bot_param"]["bot_name"] == "Acme Recorder"
        assert event["bot_param"]["recording_mode"] == "audio_only"
        assert event["bot_param"]["webhook_url"] == BOT_PARAM2["webhook_url"]
        assert event["bot_param"]["extra"] == {"customer_id": "c-42"}
    assert set(live_bots(acme.project).values_list("name", flat=True)) == {"Acme Recorder"}

    # 9. Unschedule one occurrence, then the series (idempotent).
    one = mb.call("unschedule_record_event", uuid=standups[2]["uuid"])
    assert [event["uuid"] for event in one] == [standups[2]["uuid"]]
    assert one[0]["bot_param"] is None
    assert live_bots(acme.project).count() == 3
    assert mb.call("get_event", uuid=standups[3]["uuid"])["bot_param"]["bot_name"] == (
        "Acme Recorder"
    )
    for _ in range(2):
        cleared = mb.call(
            "unschedule_record_event",
            uuid=standups[0]["uuid"],
            query={"all_occurrences": "true"},
        )
        assert len(cleared) == 4 and all(event["bot_param"] is None for event in cleared)
    assert live_bots(acme.project).count() == 0

    # 10. A bot on the one-off, then new credentials: its bot is unscheduled at once, the
    # credentials swapped, and the full resync (the old resync path here) schedules it again.
    mb.call(
        "schedule_record_event",
        uuid=board["uuid"],
        body={"bot_name": "Acme Notetaker", "extra": {}},
    )
    [first] = live_bots(acme.project)
    updated = mb.call(
        "update_calendar",
        uuid=calendar["uuid"],
        body={**credentials, "oauth_refresh_token": fake.grant(EMAIL)},
    )
    assert updated["calendar"]["uuid"] == calendar["uuid"]
    assert Calendar.objects.get(pk=calendar["uuid"]).state == Calendar.State.CONNECTING
    assert live_bots(acme.project).count() == 0
    assert mb.call("resync_all_internal") == {"synced_calendars": [calendar["uuid"]], "errors": []}
    [second] = live_bots(acme.project)
    assert second.pk != first.pk and second.name == "Acme Notetaker"

    # 11. Delete: 200 without a body; its events and bots go; later calls are 404.
    assert mb.call("delete_calendar", uuid=calendar["uuid"]) is None
    assert mb.request("get_calendar", uuid=calendar["uuid"]).status_code == 404
    assert mb.request("get_event", uuid=board["uuid"]).status_code == 404
    assert mb.call("list_calendars") == []
    assert not Meeting.objects.filter(calendar_id=calendar["uuid"]).exists()
    assert live_bots(acme.project).count() == 0
    assert mb.call("resync_all") == {"synced_calendars": [], "errors": []}


def test_events_page_by_cursor(mb, fake, credentials):
    """At most 100 events a page; `next` is a cursor the client sends back as it is."""
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=2)
    fake.add_events(
        EMAIL,
        [
            EventSpec(
                summary=f"Call {n:03}",
                start=start + timedelta(hours=n),
                end=start + timedelta(hours=n, minutes=30),
                conference=ZOOM,
            )
            for n in range(130)
        ],
    )
    calendar = mb.call("create_calendar", body=credentials)["calendar"]
    mb.call("resync_all")

    pages, cursor = [], None
    while True:
        query = {"calendar_id": calendar["uuid"], **({"cursor": cursor} if cursor else {})}
        page = mb.call("list_events", query=query)
        pages.append([event["name"] for event in page["data"]])
        cursor = page["next"]
        if cursor is None:
            break
    assert [len(page) for page in pages] == [100, 30]
    assert [name for page in pages for name in page] == [f"Call {n:03}" for n in range(130)]


def test_update_to_a_new_oauth_client(mb, acme, fake, credentials):
    """PATCH with another OAuth client of the customer (a refresh token is bound to its
    client): the calendar keeps its uuid and syncs with the new client."""
    calendar = mb.call("create_calendar", body=credentials)["calendar"]
    mb.call("resync_all")
    client = fake.add_client()
    body = {
        **credentials,
        "oauth_client_id": client.client_id,
        "oauth_client_secret": client.client_secret,
        "oauth_refresh_token": fake.grant(EMAIL, client_id=client.client_id),
    }
    assert (
        mb.call("update_calendar", uuid=calendar["uuid"], body=body)["calendar"]["uuid"]
        == (calendar["uuid"])
    )
    stored = Calendar.objects.get(pk=calendar["uuid"])
    assert stored.oauth_client_id == client.client_id
    assert stored.state == Calendar.State.CONNECTING
    assert mb.call("resync_all") == {"synced_calendars": [calendar["uuid"]], "errors": []}
    assert Calendar.objects.get(pk=calendar["uuid"]).state == Calendar.State.CONNECTED


def test_resync_all_lists_failures(mb, fake, credentials):
    good = mb.call("create_calendar", body=credentials)["calendar"]
    bad = mb.call("create_calendar", body={**credentials, "oauth_refresh_token": "1//unknown"})
    bad = bad["calendar"]
    body = mb.call("resync_all_internal")
    assert body["synced_calendars"] == [good["uuid"]]
    assert [uuid for uuid, _ in body["errors"]] == [bad["uuid"]]
    assert body["errors"][0][1]

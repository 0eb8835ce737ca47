"""End-to-end flows through the server API against the provider fakes: the seed 004 request
(Attendee PATCH calendar) and the Meeting BaaS flow (raw -> create -> list events -> schedule
with all_occurrences -> patch -> unschedule -> resync_all), with the bots following changes made
at the provider."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bots.models import Bot
from tests.fakes.calendar_model import Conference, Recurrence

EMAIL = "dana@acme.com"


@pytest.fixture(params=["google", "microsoft"])
def provider(request):
    return request.param


@pytest.fixture
def fake(provider, request):
    fake = request.getfixturevalue(f"fake_{provider}")
    fake.add_account(EMAIL)
    return fake


def live_bots(acme):
    return Bot.objects.filter(project=acme.project).exclude(status__in=Bot.TERMINAL_STATUSES)


def test_seed_004_patch_refresh_token_and_metadata(acme, fake, provider):
    created = acme.client.post(
        "/api/v1/calendars/",
        {
            "platform": provider,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "refresh_token": fake.grant(EMAIL),
            "deduplication_key": "user-abcd",
        },
        format="json",
    ).json()
    calendar_id = created["id"]
    acme.client.post(f"/api/v1/calendars/{calendar_id}/sync/")

    response = acme.client.patch(
        f"/api/v1/calendars/{calendar_id}",
        {
            "refresh_token": fake.grant(EMAIL),
            "metadata": {"department": "sales", "team": "frontend"},
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    for key in (
        "id",
        "platform",
        "client_id",
        "platform_uuid",
        "state",
        "metadata",
        "deduplication_key",
        "connection_failure_data",
        "created_at",
        "updated_at",
        "last_successful_sync_at",
        "last_attempted_sync_at",
    ):
        assert key in body
    assert body["metadata"] == {"department": "sales", "team": "frontend"}
    assert body["deduplication_key"] == "user-abcd"
    assert body["client_id"] == fake.client_id
    assert body["state"] == "connecting"
    assert "refresh_token" not in body and "client_secret" not in body
    # The queued resync (run here in the request) connects it with the new token.
    acme.client.post(f"/api/v1/calendars/{calendar_id}/sync/")
    body = acme.client.get(f"/api/v1/calendars/{calendar_id}/").json()
    assert body["state"] == "connected" and body["last_successful_sync_at"]


def test_meeting_baas_flow(acme, fake, provider):
    # 1. raw: pick a calendar.
    credentials = {
        "platform": provider,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "refresh_token": fake.grant(EMAIL),
    }
    raw = acme.client.post("/api/v1/calendars/raw/", credentials, format="json").json()
    primary = next(c for c in raw["calendars"] if c["is_primary"])

    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=1)
    link = Conference("zoom", "https://us02web.zoom.us/j/85012345678", "85012345678", "")
    series = fake.add_event(
        EMAIL,
        summary="Standup",
        start=start,
        end=start + timedelta(minutes=15),
        recurrence=Recurrence("DAILY", count=4),
        conference=link,
    )
    fake.add_event(
        EMAIL, summary="One-off", start=start, end=start + timedelta(hours=1), conference=link
    )

    # 2. create (connecting) and let the first sync run.
    created = acme.client.post(
        "/api/v1/calendars/",
        {**credentials, "platform_uuid": primary["id"], "metadata": {"user": "dana"}},
        format="json",
    )
    assert created.status_code == 201
    calendar_id = created.json()["id"]
    assert acme.client.post(f"/api/v1/calendars/{calendar_id}/sync/").json()["new_events"] == 5

    # 3. list events.
    events = acme.client.get(f"/api/v1/calendar_events/?calendar_id={calendar_id}").json()
    standups = [e for e in events["results"] if e["name"] == "Standup"]
    assert len(standups) == 4 and all(e["is_recurring"] for e in standups)
    assert all(e["bots"] == [] and e["bot_schedule"] is None for e in events["results"])

    # 4. schedule with all_occurrences.
    response = acme.client.post(
        f"/api/v1/calendar_events/{standups[0]['id']}/bot/?all_occurrences=true",
        {"bot_name": "Notetaker", "bot_config": {"recording_mode": "speaker_view"}},
        format="json",
    )
    assert response.status_code == 200
    assert len(response.json()) == 4
    assert all(len(e["bots"]) == 1 for e in response.json())
    assert live_bots(acme).count() == 4

    # The provider moves one instance and cancels another: the bots follow on the next sync.
    fake.move_instance(
        series,
        start + timedelta(days=1),
        start + timedelta(days=1, hours=2),
        start + timedelta(days=1, hours=2, minutes=15),
    )
    fake.cancel_instance(series, start + timedelta(days=2))
    acme.client.post(f"/api/v1/calendars/{calendar_id}/sync/")
    bots = live_bots(acme)
    assert bots.count() == 3
    assert start + timedelta(days=1, hours=2) - timedelta(
        seconds=acme.project.bot_join_lead_seconds
    ) in [b.join_at for b in bots]

    # 5. patch the series' bot.
    response = acme.client.patch(
        f"/api/v1/calendar_events/{standups[0]['id']}/bot/?all_occurrences=true",
        {"bot_name": "Renamed"},
        format="json",
    )
    assert response.status_code == 200
    assert set(live_bots(acme).values_list("name", flat=True)) == {"Renamed"}

    # 6. unschedule everything.
    response = acme.client.delete(
        f"/api/v1/calendar_events/{standups[0]['id']}/bot/?all_occurrences=true"
    )
    assert response.status_code == 200
    assert all(e["bots"] == [] or e["bots"][0]["status"] == "cancelled" for e in response.json())
    assert live_bots(acme).count() == 0

    # 7. resync_all.
    body = acme.client.post("/api/v1/calendars/resync_all/").json()
    assert body == {"synced_calendars": [calendar_id], "errors": []}
    assert live_bots(acme).count() == 0


def test_credential_rotation_reschedules_bots_after_resync(acme, fake, provider):
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=1)
    link = Conference("zoom", "https://us02web.zoom.us/j/85012345678", "85012345678", "")
    fake.add_event(
        EMAIL, summary="Demo", start=start, end=start + timedelta(hours=1), conference=link
    )
    calendar_id = acme.client.post(
        "/api/v1/calendars/",
        {
            "platform": provider,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "refresh_token": fake.grant(EMAIL),
        },
        format="json",
    ).json()["id"]
    acme.client.post(f"/api/v1/calendars/{calendar_id}/sync/")
    [event] = acme.client.get("/api/v1/calendar_events/").json()["results"]
    acme.client.post(
        f"/api/v1/calendar_events/{event['id']}/bot/", {"bot_name": "B"}, format="json"
    )
    [first] = live_bots(acme)

    acme.client.patch(
        f"/api/v1/calendars/{calendar_id}/", {"refresh_token": fake.grant(EMAIL)}, format="json"
    )
    assert live_bots(acme).count() == 0  # unscheduled while the new credentials are checked
    acme.client.post(f"/api/v1/calendars/{calendar_id}/sync/")
    [second] = live_bots(acme)
    assert second.pk != first.pk and second.name == "B"

"""The fake Attendee-compatible bot API behaves like the real shape our backend relies on."""

from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.fakes.bot_provider import FakeBotProvider


@pytest.fixture
def fake():
    with FakeBotProvider() as server:
        yield server
        assert not server.internal_errors


def call(fake, method, path="", *, key=None, **kwargs):
    headers = {"Authorization": f"Token {key or fake.api_key}"}
    return requests.request(
        method, f"{fake.url}/api/v1/bots{path}", headers=headers, timeout=2, **kwargs
    )


def soon(minutes=30) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def test_create_get_list_move_and_delete(fake):
    created = call(
        fake,
        "POST",
        json={
            "meeting_url": "https://zoom.us/j/1",
            "bot_name": "Notes",
            "join_at": soon(),
            "metadata": {"a": "b"},
            "deduplication_key": "k1",
            "recording_settings": {"format": "mp4"},
        },
    )
    assert created.status_code == 201
    bot = created.json()
    assert bot["id"].startswith("bot_") and bot["state"] == "scheduled"
    assert bot["recording_settings"] == {"format": "mp4"}
    assert call(fake, "GET", f"/{bot['id']}").json()["meeting_url"] == "https://zoom.us/j/1"
    listed = call(fake, "GET", params={"deduplication_key": "k1"}).json()
    assert [b["id"] for b in listed["results"]] == [bot["id"]]

    new_time = soon(90)
    moved = call(fake, "PATCH", f"/{bot['id']}", json={"join_at": new_time})
    assert moved.status_code == 200
    assert fake.bots[bot["id"]].join_at == datetime.fromisoformat(new_time)
    assert call(fake, "PATCH", f"/{bot['id']}", json={"meeting_url": "x"}).status_code == 400

    assert call(fake, "DELETE", f"/{bot['id']}").status_code == 200
    assert call(fake, "GET", f"/{bot['id']}").status_code == 404
    assert fake.count(route="bots.create") == 1
    assert fake.count(method="PATCH") == 2


def test_refusals(fake):
    body = {"meeting_url": "https://zoom.us/j/1", "bot_name": "Notes", "deduplication_key": "k"}
    assert call(fake, "POST", json=body, key="wrong").status_code == 401
    past = call(fake, "POST", json={**body, "join_at": soon(-5)})
    assert past.status_code == 400 and "past" in past.text
    assert call(fake, "POST", json={**body, "bot_name": ""}).status_code == 400
    assert call(fake, "POST", json={**body, "metadata": {"n": 1}}).status_code == 400

    now_bot = call(fake, "POST", json=body).json()  # no join_at: joins now
    assert now_bot["state"] == "joining"
    duplicate = call(fake, "POST", json=body)
    assert duplicate.status_code == 400 and "Deduplication key" in duplicate.text
    # Launched bots cannot be moved or deleted, only asked to leave.
    assert call(fake, "PATCH", f"/{now_bot['id']}", json={"join_at": soon()}).status_code == 400
    assert call(fake, "DELETE", f"/{now_bot['id']}").status_code == 405
    assert call(fake, "POST", f"/{now_bot['id']}/leave").status_code == 200
    assert fake.bots[now_bot["id"]].state == "ended"
    assert fake.live_bots() == []


def test_failure_injection(fake):
    body = {"meeting_url": "https://zoom.us/j/1", "bot_name": "Notes"}
    fake.fail_next(2, 500)
    fake.fail_next(1, 429, retry_after=30)
    assert call(fake, "POST", json=body).status_code == 500
    assert call(fake, "POST", json=body).status_code == 500
    throttled = call(fake, "POST", json=body)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "30"
    assert call(fake, "POST", json=body).status_code == 201
    assert len(fake.bots) == 1

    fake.hang_seconds = 2
    fake.fail_next(1, "timeout")
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(f"{fake.url}/api/v1/bots", timeout=0.2)
    assert call(fake, "GET").status_code == 200

"""A token sees its own user's connections, events and rules only: not a colleague's in the
same project, not another project's user's."""

import pytest

from calendars.models import Calendar, CalendarUser
from meetings.models import AutoJoinRule
from tests.factories import MeetingFactory

from .conftest import BASE, assert_aitronos_error, bearer_client


@pytest.fixture(params=["colleague", "other project"])
def stranger(request, acme, globex):
    project = acme.project if request.param == "colleague" else globex.project
    # The same external id in another project is another user.
    return bearer_client(CalendarUser.objects.create(project=project, external_id="dana-2"))


@pytest.fixture
def danas(buddy, google_calendar):
    meeting = MeetingFactory(calendar=google_calendar)
    rule = buddy.post(f"{BASE}/auto-join/rules", {"name": "Mine"}, format="json").json()
    return {"calendar": google_calendar.pk, "event": meeting.pk, "rule": rule["id"]}


def test_a_stranger_sees_nothing(stranger, danas):
    assert stranger.get(f"{BASE}/calendar/connections").json() == []
    assert stranger.get(f"{BASE}/calendar/events").json()["total"] == 0
    assert stranger.get(f"{BASE}/auto-join/rules").json() == {"items": [], "total": 0}
    for method, path in [
        ("get", f"/calendar/events/{danas['event']}"),
        ("get", f"/auto-join/rules/{danas['rule']}"),
        ("patch", f"/auto-join/rules/{danas['rule']}"),
        ("delete", f"/auto-join/rules/{danas['rule']}"),
        ("delete", f"/calendar/connections/{danas['calendar']}"),
    ]:
        response = getattr(stranger, method)(f"{BASE}{path}", {"name": "Theirs"}, format="json")
        assert_aitronos_error(response, 404, "NOT_FOUND")
    assert stranger.post(f"{BASE}/calendar/sync").json()["synced_calendars"] == 0
    assert Calendar.objects.get(pk=danas["calendar"]).last_attempted_sync_at is None
    assert AutoJoinRule.objects.get(pk=danas["rule"]).name == "Mine"


def test_project_defaults_are_not_the_users_rules(buddy, acme, danas):
    AutoJoinRule.objects.create(project=acme.project, name="Project default")
    assert [r["name"] for r in buddy.get(f"{BASE}/auto-join/rules").json()["items"]] == ["Mine"]

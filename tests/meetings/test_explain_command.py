import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.factories import CalendarFactory, MeetingFactory

from .link_corpus import TEAMS_HTML_2024, TEAMS_URL, ZOOM_INVITE_TEXT, ZOOM_URL
from .test_facts import google, graph


def run(*args: str, stdin: str | None = None, monkeypatch=None) -> str:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("explain_meeting_link", *args, stdout=out)
    return out.getvalue()


def test_text_from_stdin_explains_the_choice_and_the_rejections(monkeypatch):
    output = run(stdin=ZOOM_INVITE_TEXT, monkeypatch=monkeypatch)
    assert f"Detected: zoom {ZOOM_URL}" in output
    assert "meeting id:  81234567890" in output
    assert '"meeting_password": "Qm9ndXNQYXNzY29kZUZvclRlc3Rz.1"' in output
    assert "[rejected] text  https://us02web.zoom.us/u/kdCxYzAbc" in output
    assert "Zoom dial-in numbers page" in output


def test_text_option_with_json_output():
    payload = json.loads(run("--text", TEAMS_HTML_2024, "--json"))
    assert payload["detection"]["url"] == TEAMS_URL
    assert (
        payload["invites"]["teams_invite"]["organizer_id"] == "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
    )
    assert payload["invites"]["zoom_invite"] is None
    chosen = [c for c in payload["candidates"] if c["chosen"]]
    assert len(chosen) == 1 and chosen[0]["platform"] == "microsoft_teams"
    reasons = {c["reason"] for c in payload["candidates"] if not c["accepted"]}
    assert "aka.ms is not a meeting platform" in reasons


def test_wrapped_and_shadowed_links_are_explained():
    text = (
        "https://protect-us.mimecast.com/s/AbCdEf?domain=zoom.us\n"
        "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fmeet.google.com%2Fabc-defg-hij&data=1\n"
        "https://zoom.us/j/91234567890"
    )
    output = run("--text", text)
    assert "Detected: google_meet https://meet.google.com/abc-defg-hij" in output
    assert "unwrapped:   Microsoft Safe Links" in output
    assert "only known to Mimecast (it points at zoom.us)" in output
    assert "also a zoom join link, but an earlier one wins" in output


def test_no_link_found():
    output = run("--text", "Lunch at noon")
    assert output.startswith("No join link detected.")
    assert "No URLs found" in output


@pytest.mark.django_db
def test_stored_google_meeting():
    meeting = MeetingFactory(raw=google(1), meeting_url="https://meet.google.com/qxv-hmbt-rzk")
    output = run("--meeting", str(meeting.pk))
    assert f"Meeting {meeting.pk}" in output
    assert "Detected: google_meet https://meet.google.com/qxv-hmbt-rzk" in output
    assert "from field:  conferenceData.entryPoints" in output
    assert "[not used] hangoutLink" in output


@pytest.mark.django_db
def test_stored_graph_meeting():
    calendar = CalendarFactory(platform="microsoft")
    meeting = MeetingFactory(calendar=calendar, raw=graph(0), meeting_url=TEAMS_URL)
    output = run("--meeting", str(meeting.pk))
    assert "(microsoft calendar)" in output
    assert "from field:  onlineMeeting.joinUrl" in output
    assert "[not used] body" in output


@pytest.mark.django_db
def test_stored_meeting_without_raw_payload_uses_its_text_fields():
    meeting = MeetingFactory(raw={}, location="", description=ZOOM_INVITE_TEXT)
    output = run("--meeting", str(meeting.pk))
    assert "from field:  description" in output
    # The factory stored a Meet link; support staff see that detection now disagrees.
    assert "Note: detection now differs from the stored link" in output


@pytest.mark.django_db
@pytest.mark.parametrize("reference", ["not-a-uuid", "7d9f0d5e-1111-4a4a-9b9b-000000000000"])
def test_unknown_meeting(reference):
    with pytest.raises(CommandError, match="No meeting"):
        run("--meeting", reference)

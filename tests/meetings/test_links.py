import time

import pytest

from calendars.providers.google.links import detect_from_google_event, explain_google_event
from calendars.providers.microsoft.links import detect_from_graph_event, explain_graph_event
from meetings.links import (
    PLATFORMS,
    Detection,
    detect_meeting_link,
    explain_text,
    invite_fields,
    normalize_meeting_url,
)

from .link_corpus import (
    CASES,
    CHECKPOINT_SIG,
    CHECKPOINT_ZOOM,
    OID,
    TEAMS_HTML_2024,
    TEAMS_RAW_JSON,
    TEAMS_URL,
    THREAD,
    TID,
    WEBEX_MTID,
    ZOOM_INVITE_TEXT,
    ZOOM_PWD,
    ZOOM_URL,
)

MEET_URL = "https://meet.google.com/abc-defg-hij"


def test_corpus_is_large_and_covers_every_platform():
    assert len(CASES) >= 150
    assert len({c["id"] for c in CASES}) == len(CASES)
    platforms = {c["platform"] for c in CASES}
    assert {"zoom", "google_meet", "microsoft_teams", "webex", "goto_meeting", "chime"} <= platforms
    negatives = [c for c in CASES if c["platform"] is None]
    assert len(negatives) >= 50


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_corpus(case):
    found = detect_meeting_link(case["text"])
    got = (found.platform, found.url, found.meeting_id, found.passcode) if found else None
    expected = (
        (case["platform"], case["url"], case["meeting_id"], case["passcode"])
        if case["platform"]
        else None
    )
    assert got == expected


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["url"]], ids=[c["id"] for c in CASES if c["url"]]
)
def test_normalised_urls_are_fixed_points(case):
    assert normalize_meeting_url(case["url"]) == case["url"]
    found = detect_meeting_link(case["url"])
    assert (found.meeting_id, found.passcode) == (case["meeting_id"], case["passcode"])


def test_detection_keeps_the_raw_url_and_the_wrappers():
    wrapped = (
        "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fzoom.us%2Fj%2F91234567890"
        "&data=05%7C01&reserved=0"
    )
    found = detect_meeting_link(f"Join: {wrapped}.")
    assert found.raw_url == wrapped
    assert found.url == "https://zoom.us/j/91234567890"
    assert found.wrappers == ("Microsoft Safe Links",)
    assert found.source == "text"


@pytest.mark.parametrize(
    "url,expected",
    [
        (f"  <{ZOOM_URL}>  ", ZOOM_URL),
        (ZOOM_URL.replace("https://", ""), ZOOM_URL),
        (ZOOM_URL + "&amp;uname=x", ZOOM_URL),
        (TEAMS_RAW_JSON, TEAMS_URL),
        (f"<{TEAMS_RAW_JSON}>", TEAMS_URL),
        (f"%3C{ZOOM_URL}%3E", ZOOM_URL),
        ("https://zoom.us/j/91234567890%3e", "https://zoom.us/j/91234567890"),
        ("&#x68;&#x74;&#x74;&#x70;&#x73;://meet.google.com/abc-defg-hij", MEET_URL),
        (CHECKPOINT_ZOOM, ZOOM_URL),
        ("app.chime.aws/meetings/1234567890", "https://chime.aws/1234567890"),
        ("tel:+1-555-010-0147", None),
        ("https://zoom.us/download", None),
        ("not a url", None),
        ("", None),
    ],
)
def test_normalize_meeting_url(url, expected):
    assert normalize_meeting_url(url) == expected


def test_check_point_wrapper_is_named_and_its_non_meeting_targets_explained():
    found = detect_meeting_link(f"Join: {CHECKPOINT_ZOOM}.")
    assert found.raw_url == CHECKPOINT_ZOOM
    assert found.wrappers == ("Check Point Harmony Email",)
    [candidate] = explain_text(
        f"https://protect.checkpoint.com/v2/___https://zoom.us/download___{CHECKPOINT_SIG}"
    )
    assert candidate.unwrapped_url == "https://zoom.us/download"
    assert candidate.reason == "Zoom download page (unwrapped from Check Point Harmony Email)"


def test_check_point_wrapper_cannot_smuggle_other_schemes():
    for target in ("javascript:alert(1)", "tel:+15550100147", "zoommtg://zoom.us/join?confno=1"):
        link = f"https://protect.checkpoint.com/v2/___{target}___{CHECKPOINT_SIG}"
        assert normalize_meeting_url(link) is None, target


def test_numeric_references_of_quotes_and_brackets_still_end_a_link():
    # Only URL characters are decoded up front; a quote or bracket written as a reference ends
    # the link as it does when written as an entity or in plain text.
    for end in ("&#34;", "&#x22;", "&#62;", "&#x3E;", "&#39;", "&#160;"):
        found = detect_meeting_link(f"<a href={end}https://zoom.us/j/91234567890{end}x=1>")
        assert found.url == "https://zoom.us/j/91234567890", end


def test_numeric_references_decode_once():
    # "&#38;amp;" is an escaped "&amp;" (text, not a separator): it must not become "&".
    found = detect_meeting_link("https://zoom.us/j/91234567890?pwd=abc&#38;amp;tk=x")
    assert found.passcode == "abc"
    candidates = explain_text("https://acme.example/?a=1&#38;amp;b=2")
    assert candidates[0].raw_url == "https://acme.example/?a=1&amp;b=2"


def test_encoded_angle_bracket_ends_the_link_and_scanning_goes_on():
    text = "%3Chttps://zoom.us/u/abc%3E%3Chttps://zoom.us/j/91234567890%3E"
    assert [c.raw_url for c in explain_text(text)] == [
        "https://zoom.us/u/abc",
        "https://zoom.us/j/91234567890",
    ]


def test_chime_app_link_and_short_link_are_one_meeting():
    # One normal form means one deduplication key, so both links share one bot.
    assert (
        normalize_meeting_url("https://app.chime.aws/meetings/1234567890")
        == normalize_meeting_url("https://app.chime.aws/meetings/?meetingId=1234567890")
        == normalize_meeting_url("https://chime.aws/1234567890")
    )


def test_invites_have_recall_shapes():
    zoom = detect_meeting_link(ZOOM_URL)
    assert zoom.invite == {"meeting_id": "81234567890", "meeting_password": ZOOM_PWD}
    teams = detect_meeting_link(TEAMS_URL)
    assert teams.invite == {
        "organizer_id": OID,
        "tenant_id": TID,
        "message_id": "0",
        "thread_id": THREAD,
    }
    meet = detect_meeting_link("https://meet.google.com/abc-defg-hij")
    assert meet.invite == {"meeting_id": "abc-defg-hij"}
    webex = detect_meeting_link(f"https://acme.webex.com/acme/j.php?MTID={WEBEX_MTID}")
    assert webex.invite == {
        "meeting_subdomain": "acme",
        "meeting_path": "acme",
        "meeting_mtid": WEBEX_MTID,
        "meeting_personal_room_id": None,
    }
    room = detect_meeting_link("https://acme.webex.com/meet/jdoe")
    assert room.invite == {
        "meeting_subdomain": "acme",
        "meeting_path": None,
        "meeting_mtid": None,
        "meeting_personal_room_id": "jdoe",
    }
    goto = detect_meeting_link("https://meet.goto.com/123456789")
    assert goto.invite == {"meeting_id": "123456789"}
    assert detect_meeting_link("https://meet.jit.si/AcmeRoom").invite is None


def test_invite_fields_fill_only_the_detected_platform():
    keys = {"zoom_invite", "teams_invite", "meet_invite", "webex_invite", "goto_meeting_invite"}
    assert invite_fields(None) == dict.fromkeys(keys)
    fields = invite_fields(detect_meeting_link(TEAMS_URL))
    assert set(fields) == keys
    assert fields["teams_invite"]["tenant_id"] == TID
    assert all(fields[k] is None for k in keys - {"teams_invite"})
    assert all(
        v is None
        for v in invite_fields(detect_meeting_link("https://chime.aws/1234567890")).values()
    )


def test_detection_is_frozen():
    found = detect_meeting_link(ZOOM_URL)
    assert isinstance(found, Detection)
    with pytest.raises(AttributeError):
        found.url = "https://example.com"  # type: ignore[misc]
    assert found.platform in PLATFORMS


@pytest.mark.parametrize(
    "value",
    [
        None,
        42,
        3.5,
        b"https://zoom.us/j/91234567890",
        ["https://zoom.us/j/91234567890"],
        {},
        object(),
    ],
)
def test_odd_inputs_never_raise(value):
    assert detect_meeting_link(value) is None
    assert normalize_meeting_url(value) is None
    assert explain_text(value) == []
    assert detect_from_google_event(value) is None
    assert detect_from_graph_event(value) is None


def test_explain_text_lists_every_candidate_with_a_reason():
    candidates = explain_text(ZOOM_INVITE_TEXT)
    assert [c.reason for c in candidates] == ["join link", "Zoom dial-in numbers page"]
    assert candidates[0].detection.url == ZOOM_URL
    assert candidates[1].detection is None and candidates[1].platform == "zoom"


def test_explain_teams_footer_names_every_link():
    reasons = {c.raw_url.split("?")[0]: c.reason for c in explain_text(TEAMS_HTML_2024)}
    assert reasons["https://aka.ms/JoinTeamsMeeting"] == "aka.ms is not a meeting platform"
    assert reasons["https://teams.microsoft.com/meetingOptions/"].startswith(
        "Teams meeting options"
    )
    assert reasons["https://dialin.teams.microsoft.com/usp/pstnconferencing"].startswith(
        "Teams dial-in"
    )


# --- provider events: which field wins --------------------------------------------------------


def google_event(**fields) -> dict:
    return {"id": "evt1", "status": "confirmed", **fields}


def test_google_conference_data_beats_everything():
    event = google_event(
        summary="Sync https://zoom.us/j/91234567891",
        description=f"Zoom: {ZOOM_URL}",
        location="https://zoom.us/j/91234567892",
        hangoutLink="https://meet.google.com/aaa-bbbb-ccc",
        conferenceData={
            "entryPoints": [
                {"entryPointType": "phone", "uri": "tel:+1-555-010-0147"},
                {"entryPointType": "more", "uri": "https://tel.meet/qxv-hmbt-rzk?pin=1"},
                {"entryPointType": "video", "uri": "https://meet.google.com/qxv-hmbt-rzk"},
            ]
        },
    )
    found = detect_from_google_event(event)
    assert (found.url, found.source) == (
        "https://meet.google.com/qxv-hmbt-rzk",
        "conferenceData.entryPoints",
    )


def test_google_zoom_add_on_conference_data():
    event = google_event(
        conferenceData={
            "conferenceSolution": {"key": {"type": "addOn"}, "name": "Zoom Meeting"},
            "entryPoints": [
                {"entryPointType": "video", "uri": ZOOM_URL, "meetingCode": "81234567890"}
            ],
        }
    )
    found = detect_from_google_event(event)
    assert (found.platform, found.meeting_id, found.source) == (
        "zoom",
        "81234567890",
        "conferenceData.entryPoints",
    )


def test_google_order_hangout_link_then_location_then_description_then_title():
    event = google_event(
        summary="https://zoom.us/j/91234567891",
        description="https://zoom.us/j/91234567892",
        location="https://zoom.us/j/91234567893",
        hangoutLink="https://meet.google.com/aaa-bbbb-ccc",
    )
    assert detect_from_google_event(event).source == "hangoutLink"
    del event["hangoutLink"]
    assert detect_from_google_event(event).meeting_id == "91234567893"
    event["location"] = "Room 4B"
    assert detect_from_google_event(event).meeting_id == "91234567892"
    event["description"] = "Agenda: https://docs.google.com/document/d/1/edit"
    found = detect_from_google_event(event)
    assert (found.meeting_id, found.source) == ("91234567891", "summary")


def test_google_invalid_structured_link_falls_through():
    event = google_event(
        hangoutLink="https://meet.google.com/new", description=f"<a href='{ZOOM_URL}'>Join</a>"
    )
    found = detect_from_google_event(event)
    assert (found.platform, found.source) == ("zoom", "description")
    sources = [c.source for c in explain_google_event(event)]
    assert sources == ["hangoutLink", "description"]


def graph_event(**fields) -> dict:
    return {"id": "AAMk=", "type": "singleInstance", **fields}


def test_graph_online_meeting_beats_body():
    event = graph_event(
        subject="Sync",
        body={"contentType": "html", "content": f"<a href='{ZOOM_URL}'>Zoom</a>"},
        location={"displayName": "Microsoft Teams Meeting"},
        onlineMeeting={"joinUrl": TEAMS_URL},
    )
    found = detect_from_graph_event(event)
    assert (found.platform, found.source) == ("microsoft_teams", "onlineMeeting.joinUrl")


def test_graph_order_legacy_url_location_locations_body_subject():
    event = graph_event(
        subject="https://zoom.us/j/91234567891",
        body={"content": "https://zoom.us/j/91234567892"},
        locations=[{"displayName": "Room 4B"}, {"displayName": "https://zoom.us/j/91234567893"}],
        location={"displayName": "https://zoom.us/j/91234567894"},
        onlineMeetingUrl="https://zoom.us/j/91234567895",
        onlineMeeting=None,
    )
    order = []
    for key in ("onlineMeetingUrl", "location", "locations", "body", "subject"):
        found = detect_from_graph_event(event)
        order.append((found.source, found.meeting_id))
        event.pop(key)
    assert order == [
        ("onlineMeetingUrl", "91234567895"),
        ("location", "91234567894"),
        ("locations", "91234567893"),
        ("body", "91234567892"),
        ("subject", "91234567891"),
    ]
    assert detect_from_graph_event(event) is None


def test_graph_body_preview_is_used_only_without_a_body():
    event = graph_event(bodyPreview="Join https://meet.google.com/abc-defg-hij")
    assert detect_from_graph_event(event).source == "bodyPreview"
    event["body"] = {"content": "<p>No link here</p>"}
    assert detect_from_graph_event(event) is None


def test_graph_teams_html_body():
    event = graph_event(body={"contentType": "html", "content": TEAMS_HTML_2024})
    found = detect_from_graph_event(event)
    assert (found.url, found.source) == (TEAMS_URL, "body")
    assert len(explain_graph_event(event)) == 5


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"conferenceData": "x"},
        {"conferenceData": {"entryPoints": "x"}},
        {"conferenceData": {"entryPoints": [None, 1, {"entryPointType": "video", "uri": 5}]}},
        {"hangoutLink": ["x"], "location": {"a": 1}, "description": 7, "summary": None},
        {"onlineMeeting": "x", "locations": [None, "x", {"displayName": 5}], "body": "x"},
        {"onlineMeeting": {"joinUrl": None}, "body": {"content": None}, "subject": b"x"},
    ],
)
def test_malformed_events_never_raise(event):
    assert detect_from_google_event(event) is None
    assert detect_from_graph_event(event) is None


def test_typical_invitation_is_fast():
    text = TEAMS_HTML_2024
    runs = 300
    started = time.perf_counter()
    for _ in range(runs):
        detect_meeting_link(text)
    mean = (time.perf_counter() - started) / runs
    # Measured well under 100 µs; the bound only catches an accidental quadratic path.
    assert mean < 0.002

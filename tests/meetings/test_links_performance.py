"""Pathological descriptions must stay linear: a megabyte in well under a second."""

import time

import pytest

from calendars.providers.google.links import detect_from_google_event
from calendars.providers.microsoft.links import detect_from_graph_event
from meetings.links import (
    detect_meeting_link,
    explain_text,
    normalize_meeting_url,
)

from .link_corpus import TEAMS_HTML_2024, ZOOM_INVITE_TEXT

MB = 1_000_000

PATHOLOGICAL = {
    "no-anchor": "a" * MB,
    "whitespace": " \n\t" * (MB // 3),
    "bare-scheme-separators": "://" * (MB // 3),
    "unknown-schemes": "a://" * (MB // 4),
    "glued-schemes": "https://" * (MB // 8),
    "empty-links": "https:// " * (MB // 9),
    "bare-hosts": "zoom.us/ " * (MB // 9),
    "host-characters-then-anchor": "a." * (MB // 2) + "zoom.us/j/123456789",
    "huge-meeting-id": "https://zoom.us/j/" + "1" * MB,
    "ampersands": "https://zoom.us/j/123456789?" + "&" * MB,
    "percent-signs": "https://zoom.us/j/123456789?pwd=" + "%" * MB,
    "encoded-question-marks": "https://zoom.us/j/123456789" + "%3F" * (MB // 3),
    "entities": "&amp;" * (MB // 5),
    "entity-prefixes": "&#" * (MB // 2),
    "ics-escapes": "\\," * (MB // 2),
    "wbr-tags": "<wbr>" * (MB // 5),
    "zero-width": "\u200b" * MB,
    "unclosed-teams-context": (
        "https://teams.microsoft.com/l/meetup-join/19:a@thread.v2/0?context={" + "x" * 300
    )
    * (MB // 350),
    "nested-safelinks": "https://a.safelinks.protection.outlook.com/?url=" * (MB // 48),
    "proofpoint-stars": "https://urldefense.com/v3/__https://zoom.us/j/1?" + "*" * MB + "__;AA!x$",
    "proofpoint-runs": "https://urldefense.com/v3/__https://zoom.us/"
    + "**A" * (MB // 3)
    + "__;A!x$",
    "many-links": "https://a.example/x " * (MB // 20),
    "many-rejected-zoom-links": "https://zoom.us/u/abc " * (MB // 22),
    "angle-brackets": "<>" * (MB // 2),
    "numeric-references": "&#x68;" * (MB // 6),
    "hidden-rejected-links": "&#104;&#116;&#116;&#112;&#115;://zoom.us/u/abc " * (MB // 48),
    "encoded-angle-brackets": "%3Chttps://zoom.us/u/abc%3E" * (MB // 27),
    "checkpoint-underscores": "https://protect.checkpoint.com/v2/___" + "_" * MB,
    "checkpoint-star-escapes": "https://protect.checkpoint.com/v2/___https://zoom.us/"
    + "*2F" * (MB // 3)
    + "___.x",
    "nested-checkpoint": "https://protect.checkpoint.com/v2/___" * (MB // 37),
    "binary": bytes(range(256)).decode("latin-1") * (MB // 256),
    "repeated-invitations": ZOOM_INVITE_TEXT.replace("j/81234567890", "j/1") * (MB // 1400),
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_a_megabyte_takes_well_under_a_second(text):
    started = time.perf_counter()
    detect_meeting_link(text)
    explain_text(text)
    normalize_meeting_url(text)
    detect_from_google_event({"description": text, "location": text, "summary": text})
    detect_from_graph_event({"body": {"content": text}, "subject": text})
    elapsed = time.perf_counter() - started
    # Seven full passes over 1 MB; each is a few tens of milliseconds on a slow machine.
    assert elapsed < 7 * 0.5, f"{elapsed:.2f}s"


def test_one_pathological_description_under_a_second():
    # 900 rejected links (under the 1,000-candidate cap) in a megabyte of entity-laden prose.
    filler = "Lorem&nbsp;ipsum &amp; dolor \\n sit amet. " * 28
    text = "<p>" + (filler + "https://zoom.us/u/abc&amp;x=1 ") * 900 + "</p>" + TEAMS_HTML_2024
    assert len(text) > MB
    started = time.perf_counter()
    found = detect_from_google_event({"description": text})
    assert time.perf_counter() - started < 1.0
    assert found is not None and found.platform == "microsoft_teams"

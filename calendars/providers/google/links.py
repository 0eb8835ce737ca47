"""Where join links live in a Google Calendar event, in the order they are trusted."""

from collections.abc import Iterator
from typing import Any

from meetings.links import (
    Candidate,
    Detection,
    as_list,
    detect_from_event,
    explain_event,
    field_at,
    text_candidates,
    url_candidates,
)


def link_candidates(event: Any) -> Iterator[Candidate]:
    for entry in as_list(field_at(event, "conferenceData", "entryPoints")):
        if isinstance(entry, dict) and entry.get("entryPointType") == "video":
            yield from url_candidates(entry.get("uri"), source="conferenceData.entryPoints")
    yield from url_candidates(field_at(event, "hangoutLink"), source="hangoutLink")
    yield from text_candidates(field_at(event, "location"), source="location")
    yield from text_candidates(field_at(event, "description"), source="description")
    yield from text_candidates(field_at(event, "summary"), source="summary")


def detect_from_google_event(event: dict) -> Detection | None:
    """The join link of a Google Calendar event resource, or None. Never raises."""
    return detect_from_event(link_candidates, event)


def explain_google_event(event: dict) -> list[Candidate]:
    return explain_event(link_candidates, event)

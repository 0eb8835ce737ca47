"""Where join links live in a Microsoft Graph event, in the order they are trusted."""

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
    yield from url_candidates(
        field_at(event, "onlineMeeting", "joinUrl"), source="onlineMeeting.joinUrl"
    )
    yield from url_candidates(field_at(event, "onlineMeetingUrl"), source="onlineMeetingUrl")
    yield from text_candidates(field_at(event, "location", "displayName"), source="location")
    yield from url_candidates(field_at(event, "location", "locationUri"), source="location")
    for place in as_list(field_at(event, "locations")):
        yield from text_candidates(field_at(place, "displayName"), source="locations")
        yield from url_candidates(field_at(place, "locationUri"), source="locations")
    body = field_at(event, "body", "content")
    if isinstance(body, str) and body:
        yield from text_candidates(body, source="body")
    else:
        yield from text_candidates(field_at(event, "bodyPreview"), source="bodyPreview")
    yield from text_candidates(field_at(event, "subject"), source="subject")


def detect_from_graph_event(event: dict) -> Detection | None:
    """The join link of a Microsoft Graph event resource, or None. Never raises."""
    return detect_from_event(link_candidates, event)


def explain_graph_event(event: dict) -> list[Candidate]:
    return explain_event(link_candidates, event)

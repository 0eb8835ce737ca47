"""Where join links live in provider events, in the order they are trusted."""

from collections.abc import Iterator
from typing import Any

from .detect import Candidate, Detection, first_detection, text_candidates, url_candidates


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def google_candidates(event: Any) -> Iterator[Candidate]:
    for entry in _list(_get(event, "conferenceData", "entryPoints")):
        if isinstance(entry, dict) and entry.get("entryPointType") == "video":
            yield from url_candidates(entry.get("uri"), source="conferenceData.entryPoints")
    yield from url_candidates(_get(event, "hangoutLink"), source="hangoutLink")
    yield from text_candidates(_get(event, "location"), source="location")
    yield from text_candidates(_get(event, "description"), source="description")
    yield from text_candidates(_get(event, "summary"), source="summary")


def graph_candidates(event: Any) -> Iterator[Candidate]:
    yield from url_candidates(
        _get(event, "onlineMeeting", "joinUrl"), source="onlineMeeting.joinUrl"
    )
    yield from url_candidates(_get(event, "onlineMeetingUrl"), source="onlineMeetingUrl")
    yield from text_candidates(_get(event, "location", "displayName"), source="location")
    yield from url_candidates(_get(event, "location", "locationUri"), source="location")
    for place in _list(_get(event, "locations")):
        yield from text_candidates(_get(place, "displayName"), source="locations")
        yield from url_candidates(_get(place, "locationUri"), source="locations")
    body = _get(event, "body", "content")
    if isinstance(body, str) and body:
        yield from text_candidates(body, source="body")
    else:
        yield from text_candidates(_get(event, "bodyPreview"), source="bodyPreview")
    yield from text_candidates(_get(event, "subject"), source="subject")


def detect_from_google_event(event: dict) -> Detection | None:
    """The join link of a Google Calendar event resource, or None. Never raises."""
    try:
        return first_detection(google_candidates(event))
    except Exception:
        return None


def detect_from_graph_event(event: dict) -> Detection | None:
    """The join link of a Microsoft Graph event resource, or None. Never raises."""
    try:
        return first_detection(graph_candidates(event))
    except Exception:
        return None


def explain_google_event(event: dict) -> list[Candidate]:
    try:
        return list(google_candidates(event))
    except Exception:
        return []


def explain_graph_event(event: dict) -> list[Candidate]:
    try:
        return list(graph_candidates(event))
    except Exception:
        return []

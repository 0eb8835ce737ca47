"""Join links in provider event payloads. Which fields carry them, in the order they are trusted,
is each provider's knowledge (`link_candidates` in calendars/providers/<name>/links.py); this
module runs such a candidate list safely and gives providers their field readers."""

from collections.abc import Callable, Iterator
from typing import Any

from .detect import Candidate, Detection, first_detection

CandidateList = Callable[[Any], Iterator[Candidate]]


def field_at(data: Any, *keys: str) -> Any:
    """`data[k1][k2]...`, or None where the payload has another shape."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def detect_from_event(candidates: CandidateList, event: Any) -> Detection | None:
    """The join link of a provider event, or None. Never raises."""
    try:
        return first_detection(candidates(event))
    except Exception:
        return None


def explain_event(candidates: CandidateList, event: Any) -> list[Candidate]:
    """Every candidate of a provider event, in the order tried. Never raises."""
    try:
        return list(candidates(event))
    except Exception:
        return []

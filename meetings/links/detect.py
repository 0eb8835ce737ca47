"""Detection: run candidates through unwrapping and the platform handlers, pick the winner."""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .registry import handle
from .text import MAX_CANDIDATE_CHARS, clean_text, iter_candidates, trim_candidate
from .url import JoinLink, Rejected, Wrapped, parse_url

MAX_UNWRAP = 6
_SCHEMES = {"http", "https", "zoommtg", "zoomus", "msteams"}
# What str.isspace() calls whitespace (`\s` of a str pattern: the same Unicode test), found in
# C rather than one generator step per character of every join URL.
_WHITESPACE = re.compile(r"\s")
_OTHER_SCHEMES = {"tel", "mailto", "sip", "sips", "callto", "data", "javascript", "file", "cid"}

INVITE_KEYS = {
    "zoom": "zoom_invite",
    "microsoft_teams": "teams_invite",
    "google_meet": "meet_invite",
    "webex": "webex_invite",
    "goto_meeting": "goto_meeting_invite",
}


@dataclass(frozen=True, slots=True)
class Detection:
    """A join link found in an event or a text."""

    platform: str
    url: str
    meeting_id: str | None
    passcode: str | None
    invite: dict | None = field(hash=False)
    source: str
    raw_url: str
    wrappers: tuple[str, ...] = ()


class Candidate(NamedTuple):
    """One URL seen while looking for the join link, with what became of it."""

    source: str
    raw_url: str
    unwrapped_url: str | None
    platform: str | None
    reason: str
    detection: Detection | None = None


def analyse_url(raw: str, *, source: str) -> Candidate:
    """Unwrap and classify one URL; never raises."""
    url = raw
    wrappers: list[str] = []

    def rejected(reason: str, platform: str | None = None) -> Candidate:
        if wrappers:
            reason += f" (unwrapped from {', '.join(wrappers)})"
        return Candidate(source, raw, url if wrappers else None, platform, reason)

    for _ in range(MAX_UNWRAP):
        if len(url) > MAX_CANDIDATE_CHARS:
            return rejected("too long to be a join link")
        if "://" not in url[:16] and url[:9].lower() != "msteams:/":
            scheme, colon, _ = url.partition(":")
            if colon and scheme.lower() in _OTHER_SCHEMES:
                return rejected(f"{scheme.lower()}: link, not a web link")
            url = "https://" + url
        u = parse_url(url)
        if u is None:
            return rejected("not a web link")
        if u.scheme not in _SCHEMES:
            return rejected(f"{u.scheme}: link, not a web link")
        verdict = handle(u)
        if verdict is None:
            return rejected(f"{u.host} is not a meeting platform")
        if isinstance(verdict, Wrapped):
            wrappers.append(verdict.wrapper)
            url = trim_candidate(verdict.inner)
            continue
        if isinstance(verdict, Rejected):
            return rejected(verdict.reason, verdict.platform)
        unwrapped = url if wrappers else None
        return _accepted(verdict, source=source, raw=raw, unwrapped=unwrapped, wrappers=wrappers)
    return rejected("too many nested link wrappers")


def _accepted(
    link: JoinLink, *, source: str, raw: str, unwrapped: str | None, wrappers: list[str]
) -> Candidate:
    detection = Detection(
        platform=link.platform,
        url=link.url,
        meeting_id=link.meeting_id,
        passcode=link.passcode,
        invite=link.invite,
        source=source,
        raw_url=raw,
        wrappers=tuple(wrappers),
    )
    return Candidate(source, raw, unwrapped, link.platform, "join link", detection)


def text_candidates(text: Any, *, source: str) -> Iterator[Candidate]:
    if not isinstance(text, str) or not text:
        return
    seen: set[str] = set()
    for raw in iter_candidates(clean_text(text)):
        if raw in seen:
            continue  # HTML repeats a link as href and as its visible text
        seen.add(raw)
        yield analyse_url(raw, source=source)


def url_candidates(url: Any, *, source: str) -> Iterator[Candidate]:
    """A structured field holding one URL (conferenceData, joinUrl); tolerate stray text."""
    if not isinstance(url, str) or not url.strip():
        return
    cleaned = trim_candidate(clean_text(url))
    if cleaned and _WHITESPACE.search(cleaned) is None:
        yield analyse_url(cleaned, source=source)
    else:
        yield from text_candidates(url, source=source)


def first_detection(candidates: Iterable[Candidate]) -> Detection | None:
    for candidate in candidates:
        if candidate.detection is not None:
            return candidate.detection
    return None


def detect_meeting_link(text: str, *, source: str = "text") -> Detection | None:
    """The first join link in free text or HTML; None when there is none. Never raises."""
    try:
        return first_detection(text_candidates(text, source=source))
    except Exception:
        return None


def explain_text(text: str, *, source: str = "text") -> list[Candidate]:
    """Every URL candidate in the text with its verdict, in order."""
    try:
        return list(text_candidates(text, source=source))
    except Exception:
        return []


def normalize_meeting_url(url: str) -> str | None:
    """The canonical join URL for a link (unwrapped, junk dropped), or None if it is not one.

    Idempotent: normalize_meeting_url(normalize_meeting_url(x)) == normalize_meeting_url(x).
    """
    try:
        detection = first_detection(url_candidates(url, source="url"))
    except Exception:
        return None
    return detection.url if detection else None


def invite_fields(detection: Detection | None) -> dict[str, dict | None]:
    """The five Recall V1 invite keys; only the detected platform's one is filled."""
    fields: dict[str, dict | None] = dict.fromkeys(INVITE_KEYS.values())
    if detection is not None and detection.platform in INVITE_KEYS:
        fields[INVITE_KEYS[detection.platform]] = detection.invite
    return fields

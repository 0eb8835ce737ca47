"""Finding URL candidates in invitation text (plain text, HTML, ICS-escaped).

Everything here is linear in the input. Anchors ("://", "msteams:/" and the top-level domains of
bare meeting hosts) are searched in a lower-cased copy, each kind resuming where the scan stands,
so each walks the text once. Tokens are read with possessive character-class regexes that cannot
backtrack, the look-behind for a scheme or host is bounded, and the number of anchors examined is
capped. HTML entities are decoded per candidate rather than over the whole text, so a megabyte of
"&amp;" costs nothing until it sits inside a link. The exception are numeric character references
of URL characters ("&#x68;&#x74;&#x74;&#x70;&#x73;://..."), which some senders use to hide links
from filters: they are decoded up front, since the scheme anchor itself may be written that way.
"""

import html
import re
from collections.abc import Iterator

# A description this long is not an invitation any more; scanning stops there.
MAX_TEXT_CHARS = 4_000_000
# Real join links, even wrapped twice, stay far below this.
MAX_CANDIDATE_CHARS = 16_384
# Invitations carry a few dozen links; a field with thousands is a newsletter or an attack.
MAX_CANDIDATES = 1_000
MAX_ANCHORS = 10_000

_SCHEME_LINKS = ("https", "http", "zoommtg", "zoomus", "msteams")

# Hosts that appear without a scheme in hand-written invitations ("zoom.us/j/123"). They are
# found through their top-level domain (".us/", ".com/"...), then the host is read back and checked.
BARE_HOSTS = (
    "zoom.us",
    "zoomgov.com",
    "meet.google.com",
    "teams.microsoft.com",
    "teams.live.com",
    "teams.microsoft.us",
    "teams.cloud.microsoft",
    "webex.com",
    "gotomeeting.com",
    "gotomeet.me",
    "meet.goto.com",
    "chime.aws",
    "meet.jit.si",
    "whereby.com",
    "bluejeans.com",
    "v.ringcentral.com",
)
_SCHEME_ANCHORS = ("://", "msteams:/")
_HOST = "host"
# One literal-prefixed regex is several times faster than a str.find per top-level domain.
_HOST_ANCHOR = re.compile(r"\.(?:us|com|me|aws|si|microsoft|co)/")

# Characters a URL keeps in running text: printable ASCII without quotes, angle brackets,
# brackets, braces, backslash, caret, pipe and backtick (those end a link in every renderer).
_URL_CHARS = r"!#$%*+,\-./0-9:;=?@A-Z_a-z~"
_TOKEN = re.compile(rf"[{_URL_CHARS}&]*+")
# In undecoded HTML an entity for a quote, angle bracket or no-break space also ends a link.
_RAW_TOKEN = re.compile(
    rf"(?:[{_URL_CHARS}]++|&(?!(?:quot|lt|gt|nbsp|apos|#0*(?:34|39|60|62|160)|#x0*(?:22|27|3c|3e|a0))\b))*+",
    re.IGNORECASE,
)
_HOST_CHARS = re.compile(r"[A-Za-z0-9.\-]*+")
_TRAILING = ".,;:!?*'&"

_WBR = re.compile(r"<wbr\s*/?>", re.IGNORECASE)
_INVISIBLE = ("\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
# "&#104;" and "&#x68;" (the semicolon is optional in HTML). Only URL characters other than "&" are
# decoded up front; quotes, angle brackets and "&" stay references, so they still end a link and
# "&#38;amp;" is not decoded twice.
_NUMERIC_REF = re.compile(r"&#(?:[xX]([0-9A-Fa-f]{1,6})|([0-9]{1,7}));?")
_DECODED_REF_CHARS = frozenset(
    "!#$%*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~"
)
# The ">" of "<https://...>" percent-encoded by a mail client or redirector ends the link.
_ENCODED_OPEN, _ENCODED_CLOSE = "%3c", "%3e"


def clean_text(text: str) -> str:
    """Undo what renderers do inside links: <wbr> break hints, invisible characters, and
    numeric character references of URL characters."""
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
    if "<wbr" in text or "<WBR" in text:
        text = _WBR.sub("", text)
    for char in _INVISIBLE:
        if char in text:
            text = text.replace(char, "")
    if "&#" in text:
        text = _decode_numeric_refs(text)
    return text


def _decode_numeric_refs(text: str) -> str:
    decoded: dict[str, str] = {}  # a hidden link repeats the same few references

    def replace(m: re.Match) -> str:
        ref = m.group()
        out = decoded.get(ref)
        if out is None:
            hex_digits, digits = m.groups()
            code = int(hex_digits, 16) if hex_digits else int(digits)
            char = chr(code) if code < 0x110000 else ""
            out = decoded[ref] = char if char in _DECODED_REF_CHARS else ref
        return out

    return _NUMERIC_REF.sub(replace, text)


def trim_candidate(url: str) -> str:
    """A lone URL as pasted: strip whitespace, angle wrappers (also percent-encoded), entities,
    closing punctuation."""
    url = url.strip()
    if "&" in url:
        url = html.unescape(url)
    if url.startswith("<") and url.endswith(">"):
        url = url[1:-1].strip()
    url = url.lstrip("(<[{\"'")
    if "%" in url:
        if url[:3].lower() == _ENCODED_OPEN:
            url = url[3:]
        close = url.lower().find(_ENCODED_CLOSE)
        if close != -1:
            url = url[:close]
    return url.rstrip(_TRAILING + ')]}>"')


def iter_candidates(text: str) -> Iterator[str]:
    """Yield URL-like candidates in order of appearance, decoded and trimmed."""
    lowered = (text.replace("\u0130", "i") if "\u0130" in text else text).lower()
    upcoming: dict[str, tuple[int, str]] = {}
    for kind in (*_SCHEME_ANCHORS, _HOST):
        _refresh(upcoming, lowered, kind, 0)
    pos = found = 0
    run_end = -1  # end of the last token read; a link cut at "%3E" resumes inside it
    for _ in range(MAX_ANCHORS):
        if not upcoming or found >= MAX_CANDIDATES:
            return
        kind, at, anchor = _next_anchor(lowered, upcoming, pos)
        if kind is None:
            return
        after = at + len(anchor)
        start = _candidate_start(text, lowered, at, anchor, pos)
        if start is None:
            pos = after
            continue
        if after >= run_end:
            run_end = _token_end(text, after, _RAW_TOKEN, start)
        # Inside the same run of URL characters the token ends at the same place: reading it
        # again for every link of "%3Chttps://...%3E%3Chttps://..." would be quadratic.
        end = run_end
        close = lowered.find(_ENCODED_CLOSE, after, end)
        if close != -1:
            end = close  # scanning resumes there: "%3E%3Chttps://..." may start another link
        pos = max(end, after)
        if end - start > MAX_CANDIDATE_CHARS:
            continue
        candidate = finish_candidate(text[start:end])
        if len(candidate) <= after - start:
            continue  # nothing after the scheme or host
        if kind == _HOST:
            candidate = "https://" + candidate
        found += 1
        yield candidate


def finish_candidate(raw: str) -> str:
    """Decode entities inside one raw token and cut it where the link really ends."""
    if "&" in raw:
        raw = html.unescape(raw)
        raw = raw[: _token_end(raw, 0, _TOKEN, 0)]
    return raw.rstrip(_TRAILING)


def _refresh(upcoming: dict[str, tuple[int, str]], lowered: str, kind: str, pos: int) -> None:
    """The next occurrence of one kind of anchor at or after pos (dropped when there is none)."""
    if kind == _HOST:
        m = _HOST_ANCHOR.search(lowered, pos)
        at, anchor = (m.start(), m.group()) if m else (-1, "")
    else:
        at, anchor = lowered.find(kind, pos), kind
    if at == -1:
        upcoming.pop(kind, None)
    else:
        upcoming[kind] = (at, anchor)


def _next_anchor(
    lowered: str, upcoming: dict[str, tuple[int, str]], pos: int
) -> tuple[str | None, int, str]:
    best: tuple[str | None, int, str] = (None, len(lowered), "")
    for kind in list(upcoming):
        if upcoming[kind][0] < pos:
            _refresh(upcoming, lowered, kind, pos)
            if kind not in upcoming:
                continue
        at, anchor = upcoming[kind]
        if at < best[1]:
            best = (kind, at, anchor)
    return best


def _candidate_start(text: str, lowered: str, at: int, anchor: str, floor: int) -> int | None:
    if anchor == "msteams:/":
        return at
    if anchor == "://":
        # Only the schemes we follow; a word glued in front ("Join:https://") is left out.
        for known in _SCHEME_LINKS:
            start = at - len(known)
            if start >= floor and lowered.startswith(known, start):
                return start
        return None
    host_end = at + len(anchor) - 1
    lo = max(floor, host_end - 253)
    start = host_end - _HOST_CHARS.match(text[lo:host_end][::-1]).end()
    if start > 0 and text[start - 1] in "@/":
        return None  # part of an e-mail address or of another URL's path
    if start > 0 and text[start - 1] == "\\" and text[start] in "nN":
        start += 1  # an ICS line break "\n" glued to the host
    elif start > 0 and text[start - 1] == "%":
        escaped = lowered[start : start + 2]
        if escaped in ("40", "2f"):
            return None  # a percent-encoded "@" or "/": an e-mail address or a path, as above
        if escaped in ("3c", "20"):
            start += 2  # a percent-encoded "<" or space glued to the host
    host = lowered[start:host_end]
    if host == "g.co":
        return start if lowered.startswith("meet/", host_end + 1) else None
    if any(host == bare or host.endswith("." + bare) for bare in BARE_HOSTS):
        return start
    return None


def _token_end(text: str, at: int, token: re.Pattern, start: int) -> int:
    end = token.match(text, at).end()
    # Teams links are sometimes written with a raw JSON context: ?context={"Tid":"..."}.
    if (
        end < len(text)
        and text[end] == "{"
        and text[max(start, end - 8) : end].lower() == "context="
    ):
        close = text.find("}", end, end + 600)
        if close != -1:
            end = token.match(text, close + 1).end()
    return end

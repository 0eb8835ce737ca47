"""A small, forgiving URL splitter and the verdict types the platform handlers return.

`urllib.parse` is not used for splitting because it raises on some malformed input (bad IPv6
brackets, ports) and because handlers need the raw, still-encoded pieces.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

_HOST_OK = re.compile(r"[a-z0-9.\-]+")
_NETLOC_END = re.compile(r"[/?#\\]")


@dataclass(slots=True)
class Url:
    scheme: str
    host: str
    path: str
    query: str
    fragment: str
    raw: str
    _params: dict[str, str] | None = field(default=None, repr=False)

    @property
    def params(self) -> dict[str, str]:
        """Query parameters, keys lower-cased, values percent-decoded; the first value wins."""
        if self._params is None:
            self._params = parse_params(self.query)
        return self._params

    @property
    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s]


def parse_params(query: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        key = unquote(key).strip().lower()
        if key and key not in out:
            out[key] = unquote(value)
    return out


def parse_url(text: str) -> Url | None:
    """Split an absolute URL; None when it has no scheme or no usable host."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        if text[:9].lower() == "msteams:/":
            # Teams desktop deep link: msteams:/l/meetup-join/... targets the commercial cloud.
            scheme, rest = "msteams", "teams.microsoft.com" + text[8:]
        else:
            return None
    m = _NETLOC_END.search(rest)
    netloc, remainder = (rest[: m.start()], rest[m.start() :]) if m else (rest, "")
    host = netloc.rpartition("@")[2].partition(":")[0].lower().rstrip(".")
    if len(host) > 253 or not _HOST_OK.fullmatch(host) or host[0] == "." or ".." in host:
        return None
    if "\\" in remainder:
        remainder = remainder.replace("\\", "/")
    before_fragment, _, fragment = remainder.partition("#")
    path, _, query = before_fragment.partition("?")
    if not query and "%" in path and "%3f" in path.lower():
        # An encoded "?" (double-encoding by a mail gateway) still starts the query.
        i = path.lower().index("%3f")
        path, query = path[:i], unquote(path[i + 3 :])
    return Url(scheme.lower(), host, path or "/", query, fragment, text)


@dataclass(frozen=True, slots=True)
class JoinLink:
    platform: str
    url: str
    meeting_id: str | None
    passcode: str | None
    invite: dict | None = field(default=None, hash=False)


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str
    platform: str | None = None


@dataclass(frozen=True, slots=True)
class Wrapped:
    inner: str
    wrapper: str


Verdict = JoinLink | Rejected | Wrapped

"""One handler per meeting platform, picked from a registry keyed by registrable domain.

"Meeting platform" here (`Meeting.meeting_platform`) is the meeting tool a join link leads to
(Zoom, Teams, ...). The calendar provider an event comes from (Google, Microsoft) is a different
thing: `Calendar.platform`, named in calendars/platforms.py (calendars.platforms.Platform).

A handler gets a split URL on one of its domains and returns a JoinLink (with the normalised URL
and the invite), a Rejected with a reason support staff can read, or Wrapped when the link is a
redirect (those live in wrappers.py and share the registry in registry.py). Handlers accept only
the path shapes a platform uses for joining; anything else on the domain is rejected, so a new
kind of page is missed rather than mistaken for a meeting.
"""

import base64
import binascii
import json
import re
from collections.abc import Callable
from urllib.parse import unquote

from .url import JoinLink, Rejected, Url, Verdict, Wrapped, parse_params

Handler = Callable[[Url], Verdict]

ZOOM = "zoom"
GOOGLE_MEET = "google_meet"
MICROSOFT_TEAMS = "microsoft_teams"
WEBEX = "webex"
GOTO_MEETING = "goto_meeting"
CHIME = "chime"
JITSI = "jitsi"
WHEREBY = "whereby"
RINGCENTRAL = "ringcentral"
BLUEJEANS = "bluejeans"
SLACK = "slack"
ZOHO = "zoho"
LIFESIZE = "lifesize"
DIALPAD = "dialpad"

_TOKEN = re.compile(r"[A-Za-z0-9._~\-]+")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}")


def _token_prefix(value: str | None) -> str | None:
    """The leading run of URL-safe token characters; None when empty."""
    if not value:
        return None
    m = _TOKEN.match(value.strip())
    return m.group() if m else None


def _digits(value: str, low: int, high: int) -> str | None:
    value = value.strip()
    return value if value.isascii() and value.isdigit() and low <= len(value) <= high else None


# --- Zoom ---------------------------------------------------------------------------------------

_ZOOM_SITES = {
    "support", "status", "blog", "community", "explore", "events", "marketplace", "developers",
    "devforum", "learning", "api", "investors", "careers", "news", "docs", "try", "partner",
}  # fmt: skip


def zoom(u: Url) -> Verdict:
    label = u.host.split(".", 1)[0]
    if label in _ZOOM_SITES:
        return Rejected(f"Zoom {label} site, not a meeting link", ZOOM)
    segs = u.segments
    low = [s.lower() for s in segs]
    kind = low[0] if low else ""
    params = u.params
    meeting_id = None
    if u.scheme in ("zoommtg", "zoomus") or kind in ("join", "start"):
        meeting_id = params.get("confno", "")
    elif kind in ("j", "s", "w") and len(segs) >= 2:
        meeting_id = segs[1]
    elif kind == "wc" and len(segs) >= 2:
        # /wc/join/<id>, /wc/<id>/join, /wc/<id>/start
        meeting_id = segs[2] if low[1] == "join" and len(segs) >= 3 else segs[1]
    elif kind == "my" and len(segs) >= 2:
        vanity = _NAME.fullmatch(segs[1])
        if not vanity:
            return Rejected("Zoom personal link without a valid name", ZOOM)
        pwd = _token_prefix(params.get("pwd"))
        url = f"https://{u.host}/my/{segs[1].lower()}" + (f"?pwd={pwd}" if pwd else "")
        return JoinLink(ZOOM, url, None, pwd, {"meeting_id": None, "meeting_password": pwd})
    else:
        return Rejected(_zoom_reason(low), ZOOM)

    meeting_id = _digits(meeting_id.replace("-", "").replace(" ", ""), 9, 12)
    if meeting_id is None:
        return Rejected("Zoom link without a valid meeting ID", ZOOM)
    pwd = _token_prefix(params.get("pwd"))
    query = [f"pwd={pwd}"] if pwd else []
    # Webinar links carry a per-registrant token that is the only way in.
    path = "w" if kind == "w" else "j"
    if path == "w" and (tk := _token_prefix(params.get("tk"))):
        query.append(f"tk={tk}")
    url = f"https://{u.host}/{path}/{meeting_id}" + ("?" + "&".join(query) if query else "")
    return JoinLink(ZOOM, url, meeting_id, pwd, {"meeting_id": meeting_id, "meeting_password": pwd})


def _zoom_reason(low: list[str]) -> str:
    kind = low[0] if low else ""
    if not kind:
        return "Zoom home page, not a meeting link"
    if kind in ("u", "zoomconference") or "zoomconference" in low:
        return "Zoom dial-in numbers page"
    if kind in ("rec", "recording", "recordings"):
        return "Zoom cloud recording"
    if "register" in low:
        return "Zoom registration page, not a join link"
    if kind in ("download", "client", "support", "test"):
        return f"Zoom {kind} page"
    if kind in ("meeting", "webinar"):
        return "Zoom meeting management page (host only)"
    return "not a Zoom join link path"


# --- Google Meet --------------------------------------------------------------------------------

_MEET_CODE = re.compile(r"[a-z]{3}-[a-z]{4}-[a-z]{3}")
_MEET_PLAIN_CODE = re.compile(r"[a-z]{10}")
_MEET_NICKNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")


def _meet_code(value: str) -> str | None:
    value = value.lower()
    if _MEET_CODE.fullmatch(value):
        return value
    if _MEET_PLAIN_CODE.fullmatch(value):
        return f"{value[:3]}-{value[3:7]}-{value[7:]}"
    return None


def _meet_link(code: str) -> JoinLink:
    return JoinLink(
        GOOGLE_MEET, f"https://meet.google.com/{code}", code, None, {"meeting_id": code}
    )


def google(u: Url) -> Verdict:
    if u.host == "meet.google.com":
        return _meet(u)
    if u.host in ("www.google.com", "google.com") and u.path == "/url":
        target = u.params.get("q") or u.params.get("url")
        return Wrapped(target, "Google redirect") if target else Rejected("Google redirect")
    if u.host == "stream.meet.google.com":
        return Rejected("Google Meet live stream (view only)", GOOGLE_MEET)
    if u.host == "hangouts.google.com":
        return Rejected("legacy Google Hangouts link", GOOGLE_MEET)
    return Rejected("Google page, not a meeting link")


def _meet(u: Url) -> Verdict:
    segs = u.segments
    if segs and segs[0].lower() == "_meet":
        segs = segs[1:]
    if not segs:
        return Rejected("Google Meet home page without a meeting code", GOOGLE_MEET)
    first = segs[0].lower()
    if first == "linkredirect":
        target = u.params.get("dest")
        return Wrapped(target, "Google Meet redirect") if target else Rejected("Meet redirect")
    if first == "lookup" and len(segs) >= 2 and _MEET_NICKNAME.fullmatch(segs[1]):
        return JoinLink(
            GOOGLE_MEET,
            f"https://meet.google.com/lookup/{segs[1]}",
            None,
            None,
            {"meeting_id": None},
        )
    code = _meet_code(segs[0])
    if code is None:
        return Rejected("Google Meet page without a meeting code", GOOGLE_MEET)
    return _meet_link(code)


def g_co(u: Url) -> Verdict:
    segs = u.segments
    if len(segs) >= 2 and segs[0].lower() == "meet":
        code = _meet_code(segs[1])
        if code:
            return _meet_link(code)
        if _MEET_NICKNAME.fullmatch(segs[1]):
            url = f"https://g.co/meet/{segs[1]}"
            return JoinLink(GOOGLE_MEET, url, None, None, {"meeting_id": None})
    return Rejected("g.co short link that is not a Meet link")


def tel_meet(u: Url) -> Verdict:
    return Rejected("Google Meet phone dial-in page", GOOGLE_MEET)


# --- Microsoft Teams ----------------------------------------------------------------------------

TEAMS_HOSTS = {
    "teams.microsoft.com",
    "teams.live.com",
    "teams.cloud.microsoft",
    "teams.microsoft.us",
    "gov.teams.microsoft.us",
    "dod.teams.microsoft.us",
    "teams.microsoftonline.cn",
}
_THREAD = re.compile(r"19:[^\s/?#]+@thread\.[a-z0-9]+", re.IGNORECASE)
_GUID_ISH = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-]{7,63}")
_CONTEXT_FIELD = {
    key: re.compile(rf'"{key}"\s*:\s*"([0-9A-Za-z\-]{{1,64}})', re.IGNORECASE)
    for key in ("Tid", "Oid")
}
_TEAMS_NOT_MEETINGS = {
    "channel": "Teams channel link, not a meeting",
    "team": "Teams team link, not a meeting",
    "chat": "Teams chat link, not a meeting",
    "message": "Teams message link, not a meeting",
    "call": "Teams call link, not a scheduled meeting",
    "app": "Teams app link, not a meeting",
    "entity": "Teams app tab link, not a meeting",
    "file": "Teams file link, not a meeting",
    "task": "Teams task link, not a meeting",
    "meeting": "Teams scheduling link, not a meeting",
}
_UNRESERVED = re.compile(r"[^A-Za-z0-9_.\-~]")


def _escape(match: re.Match) -> str:
    return "".join(f"%{byte:02x}" for byte in match.group().encode())


def _teams_quote(value: str) -> str:
    # Teams writes its own links with lower-case escapes; matching it keeps them unchanged.
    return _UNRESERVED.sub(_escape, value)


def _teams_meetup_link(
    host: str, thread: str, message: str, tid: str, oid: str, broadcast: bool = False
) -> JoinLink:
    # tid and oid are GUID-like (letters, digits, dashes): only the JSON punctuation is escaped,
    # written out the way Teams does it: {"Tid":"...","Oid":"..."}.
    context = f"%7b%22Tid%22%3a%22{tid}%22%2c%22Oid%22%3a%22{oid}%22"
    context += "%2c%22IsBroadcastMeeting%22%3atrue%7d" if broadcast else "%7d"
    url = f"https://{host}/l/meetup-join/{_teams_quote(thread)}/{message}?context={context}"
    invite = {"organizer_id": oid, "tenant_id": tid, "message_id": message, "thread_id": thread}
    return JoinLink(MICROSOFT_TEAMS, url, thread, None, invite)


def _teams_context(raw: str | None) -> tuple[str | None, str | None, bool]:
    if not raw:
        return None, None, False
    value = raw
    for _ in range(3):
        if "{" in value:
            break
        value = unquote(value)
    ids: dict[str, str | None] = {}
    broadcast = False
    try:
        data = json.loads(value[value.find("{") :])
        if isinstance(data, dict):
            ids = {key: data.get(key) for key in ("Tid", "Oid")}
            broadcast = data.get("IsBroadcastMeeting") is True
    except (ValueError, TypeError):
        pass
    for key, pattern in _CONTEXT_FIELD.items():
        if not isinstance(ids.get(key), str):
            m = pattern.search(value)
            ids[key] = m.group(1) if m else None
    tid, oid = ids.get("Tid"), ids.get("Oid")
    tid = tid if isinstance(tid, str) and _GUID_ISH.fullmatch(tid) else None
    oid = oid if isinstance(oid, str) and _GUID_ISH.fullmatch(oid) else None
    return tid, oid, broadcast


def microsoft(u: Url) -> Verdict:
    if u.host in TEAMS_HOSTS or u.scheme == "msteams":
        return teams(u)
    if u.host.startswith("dialin.teams."):
        return Rejected("Teams dial-in numbers page", MICROSOFT_TEAMS)
    if u.host.startswith("events.teams.") or u.host.startswith("events."):
        return Rejected("Teams webinar/town hall registration page", MICROSOFT_TEAMS)
    return Rejected("Microsoft page, not a meeting link")


def teams(u: Url) -> Verdict:
    host = u.host if u.host in TEAMS_HOSTS else "teams.microsoft.com"
    route = u.path + ("?" + u.query if u.query else "")
    if u.fragment and ("/l/" in u.fragment or "/meet/" in u.fragment.lower()):
        route = u.fragment  # /_#/l/meetup-join/... and /v2/?meetingjoin=true#/l/meetup-join/...
    if route.lower().startswith("/dl/launcher/"):
        target = u.params.get("url")
        if not target:
            return Rejected("Teams launcher link without a meeting", MICROSOFT_TEAMS)
        route = target.split("#", 1)[1] if "#" in target else target
    path, _, query = route.partition("?")
    segs = [s for s in path.split("/") if s]
    low = [s.lower() for s in segs]
    params = parse_params(query)

    if len(low) >= 2 and low[0] == "l":
        if low[1] == "meetup-join":
            return _teams_meetup(host, segs, params)
        reason = _TEAMS_NOT_MEETINGS.get(low[1])
        return Rejected(reason or "Teams deep link that is not a meeting", MICROSOFT_TEAMS)
    if len(low) >= 2 and low[0] == "meet":
        meeting_id = _digits(segs[1], 9, 20)
        if meeting_id is None:
            return Rejected("Teams meeting link without a numeric meeting ID", MICROSOFT_TEAMS)
        passcode = _token_prefix(params.get("p"))
        url = f"https://{host}/meet/{meeting_id}" + (f"?p={passcode}" if passcode else "")
        invite = {"organizer_id": None, "tenant_id": None, "message_id": None, "thread_id": None}
        return JoinLink(MICROSOFT_TEAMS, url, meeting_id, passcode, invite)
    if low[:2] == ["light-meetings", "launch"]:
        return _teams_light_meeting(host, params.get("coords"))
    if low and low[0] == "meetingoptions":
        return Rejected("Teams meeting options page (organizer settings)", MICROSOFT_TEAMS)
    if not low or low[0] in ("_", "v2"):
        return Rejected("Teams home page, not a meeting link", MICROSOFT_TEAMS)
    return Rejected("not a Teams meeting join link", MICROSOFT_TEAMS)


def _teams_meetup(host: str, segs: list[str], params: dict[str, str]) -> Verdict:
    if len(segs) < 3:
        return Rejected("Teams meetup-join link without a meeting thread", MICROSOFT_TEAMS)
    thread = unquote(unquote(segs[2]))
    message = unquote(segs[3]) if len(segs) >= 4 else "0"
    if not _THREAD.fullmatch(thread) or not _digits(message, 1, 20):
        return Rejected("Teams meetup-join link with a malformed meeting thread", MICROSOFT_TEAMS)
    tid, oid, broadcast = _teams_context(params.get("context"))
    if not tid or not oid:
        # Without the tenant and organiser the meeting cannot be located (Recall needs both too).
        return Rejected("Teams meetup-join link without tenant/organizer context", MICROSOFT_TEAMS)
    return _teams_meetup_link(host, thread, message, tid, oid, broadcast)


def _teams_light_meeting(host: str, coords: str | None) -> Verdict:
    try:
        raw = unquote(coords or "")
        data = json.loads(base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_"))
        thread, tid, oid = data["conversationId"], data["tenantId"], data["organizerId"]
        message = str(data.get("messageId") or "0")
    except (ValueError, TypeError, KeyError, binascii.Error):
        return Rejected("Teams light-meetings link with unreadable coordinates", MICROSOFT_TEAMS)
    if not (isinstance(thread, str) and _THREAD.fullmatch(thread) and _digits(message, 1, 20)):
        return Rejected("Teams light-meetings link with unreadable coordinates", MICROSOFT_TEAMS)
    if not (isinstance(tid, str) and _GUID_ISH.fullmatch(tid)):
        return Rejected("Teams light-meetings link without a tenant", MICROSOFT_TEAMS)
    if not (isinstance(oid, str) and _GUID_ISH.fullmatch(oid)):
        return Rejected("Teams light-meetings link without an organizer", MICROSOFT_TEAMS)
    return _teams_meetup_link(host, thread, message, tid, oid)


def live_com(u: Url) -> Verdict:
    if u.host == "teams.live.com":
        return teams(u)
    return Rejected("Microsoft account page, not a meeting link")


def microsoft_us(u: Url) -> Verdict:
    if u.host in TEAMS_HOSTS:
        return teams(u)
    if u.host.startswith("dialin."):
        return Rejected("Teams dial-in numbers page", MICROSOFT_TEAMS)
    return Rejected("Microsoft page, not a meeting link")


# --- Webex --------------------------------------------------------------------------------------

_WEBEX_SITES = {
    "www", "help", "support", "signin", "signup", "cart", "pricing", "blog", "community",
    "developer", "status", "admin", "settings", "idbroker", "api", "download", "downloads",
    "collaborationhelp", "apps", "web", "pages", "ciscospark", "eurl", "gobeta", "video",
}  # fmt: skip
_MTID = re.compile(r"[A-Za-z0-9]{10,64}")


def webex(u: Url) -> Verdict:
    if u.host == "webex.com":
        return Rejected("Webex home page, not a meeting link", WEBEX)
    subdomain = u.host[: -len(".webex.com")]
    if subdomain.split(".", 1)[0] in _WEBEX_SITES:
        return Rejected(f"Webex {subdomain} site, not a meeting link", WEBEX)
    segs = u.segments
    low = [s.lower() for s in segs]
    mtid_raw = u.params.get("mtid")
    mtid = mtid_raw.strip() if mtid_raw and _MTID.fullmatch(mtid_raw.strip()) else None

    if len(segs) == 2 and low[0] in ("meet", "join"):
        room = segs[1]
        if not _WEBEX_ROOM.fullmatch(room):
            return Rejected("Webex personal room link without a valid room name", WEBEX)
        invite = _webex_invite(subdomain, None, None, room)
        return JoinLink(WEBEX, f"https://{u.host}/{low[0]}/{room}", room, None, invite)

    last = low[-1] if low else ""
    if last in ("j.php", "e.php") or (last == "g.php" and "onstage" in low):
        if mtid is None:
            return Rejected("Webex join page without a meeting (MTID)", WEBEX)
        site = segs[0] if len(segs) >= 2 else subdomain.split(".", 1)[0]
        url = f"https://{u.host}/{'/'.join(segs)}?MTID={mtid}"
        return JoinLink(WEBEX, url, mtid, None, _webex_invite(subdomain, site, mtid, None))

    # Join-service pages: /wbxmjs/joinservice/sites/<site>/meeting/download/<uuid>?MTID=...
    if "sites" in low and "meeting" in low and "download" in low:
        i = low.index("sites")
        site = segs[i + 1] if i + 1 < len(segs) else subdomain.split(".", 1)[0]
        if mtid:
            url = f"https://{u.host}/{site}/j.php?MTID={mtid}"
            return JoinLink(WEBEX, url, mtid, None, _webex_invite(subdomain, site, mtid, None))
        meeting_uuid = segs[-1]
        if low[-1] != "download" and _TOKEN.fullmatch(meeting_uuid):
            url = f"https://{u.host}/{'/'.join(segs)}"
            return JoinLink(WEBEX, url, None, None, _webex_invite(subdomain, site, None, None))
    return Rejected(_webex_reason(low), WEBEX)


_WEBEX_ROOM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@\-]{0,99}")


def _webex_invite(subdomain: str, path: str | None, mtid: str | None, room: str | None) -> dict:
    return {
        "meeting_subdomain": subdomain,
        "meeting_path": path,
        "meeting_mtid": mtid,
        "meeting_personal_room_id": room,
    }


def _webex_reason(low: list[str]) -> str:
    last = low[-1] if low else ""
    if "globalcallin" in last or "callin" in last:
        return "Webex dial-in numbers page"
    if (
        last in ("ldr.php", "lsr.php", "nbrshared.do")
        or "recordingservice" in low
        or ("recording" in low)
    ):
        return "Webex recording"
    if "register" in last or "registration" in low:
        return "Webex registration page, not a join link"
    if not low:
        return "Webex site home page, not a meeting link"
    return "not a Webex join link path"


# --- GoTo Meeting -------------------------------------------------------------------------------

_GOTO_RESERVED = {
    "install", "login", "signin", "join", "start", "help", "support", "download", "app",
    "meeting", "meetings", "pricing", "features", "webinar", "training", "en-us", "de-de",
}  # fmt: skip


def _goto_link(url: str, meeting_id: str) -> JoinLink:
    return JoinLink(GOTO_MEETING, url, meeting_id, None, {"meeting_id": meeting_id})


def gotomeeting(u: Url) -> Verdict:
    segs = u.segments
    low = [s.lower() for s in segs]
    if u.host == "app.gotomeeting.com" or u.params.get("meetingid"):
        meeting_id = _digits(u.params.get("meetingid", ""), 9, 10)
        if meeting_id:
            return _goto_link(f"https://app.gotomeeting.com/?meetingId={meeting_id}", meeting_id)
    if len(segs) >= 2 and low[0] in ("join", "install"):
        meeting_id = _goto_id(segs[1])
        if meeting_id:
            return _goto_link(f"https://global.gotomeeting.com/join/{meeting_id}", meeting_id)
    return Rejected("GoTo Meeting page without a meeting ID", GOTO_MEETING)


def gotomeet_me(u: Url) -> Verdict:
    segs = u.segments
    if len(segs) == 1 and _NAME.fullmatch(segs[0]) and segs[0].lower() not in _GOTO_RESERVED:
        return _goto_link(f"https://gotomeet.me/{segs[0]}", segs[0])
    return Rejected("GoTo personal room link without a room name", GOTO_MEETING)


def goto_com(u: Url) -> Verdict:
    segs = u.segments
    if u.host == "meet.goto.com" and segs:
        meeting_id = _goto_id(segs[0]) if len(segs) == 1 else None
        if meeting_id is None and len(segs) == 2 and segs[0].lower() in ("join", "install"):
            meeting_id = _goto_id(segs[1])
        if meeting_id:
            return _goto_link(f"https://meet.goto.com/{meeting_id}", meeting_id)
    if u.host == "app.goto.com" and len(segs) == 2 and segs[0].lower() == "meeting":
        meeting_id = _digits(segs[1], 9, 10)
        if meeting_id:
            return _goto_link(f"https://app.goto.com/meeting/{meeting_id}", meeting_id)
    return Rejected("GoTo page, not a meeting join link", GOTO_MEETING)


def _goto_id(value: str) -> str | None:
    value = value.replace("-", "") if value.replace("-", "").isdigit() else value
    if _digits(value, 9, 10):
        return value
    if _NAME.fullmatch(value) and value.lower() not in _GOTO_RESERVED and not value.isdigit():
        return value
    return None


def gotowebinar(u: Url) -> Verdict:
    return Rejected("GoTo Webinar link (registration or webinar), not a GoTo Meeting", GOTO_MEETING)


# --- Amazon Chime -------------------------------------------------------------------------------

_CHIME_RESERVED = {
    "download", "downloads", "dialinnumbers", "meetings", "about", "pricing", "features",
    "support", "signin", "login", "logout", "home", "privacy", "terms", "help", "faq", "static",
    "assets", "join", "new", "schedule", "settings", "profile", "contacts", "calendar", "chat",
    "rooms", "account", "admin", "recordings",
}  # fmt: skip


def chime(u: Url) -> Verdict:
    segs = u.segments
    if u.host == "app.chime.aws":
        # app.chime.aws/meetings/?meetingId=<id> and the web app's app.chime.aws/meetings/<id>
        meeting_id = _chime_id(u.params.get("meetingid", ""))
        if meeting_id is None and len(segs) == 2 and segs[0].lower() == "meetings":
            meeting_id = _chime_id(segs[1])
        if meeting_id:
            return _chime_link(meeting_id)
    elif u.host == "chime.aws" and len(segs) == 1:
        meeting_id = _chime_id(segs[0])
        if meeting_id:
            return _chime_link(meeting_id)
    if segs and segs[0].lower() == "dialinnumbers":
        return Rejected("Amazon Chime dial-in numbers page", CHIME)
    return Rejected("Amazon Chime page without a meeting ID", CHIME)


def _chime_id(value: str) -> str | None:
    value = value.strip()
    if _digits(value, 10, 10):
        return value
    if value.isascii() and value.isalnum() and 3 <= len(value) <= 64:
        return value if value.lower() not in _CHIME_RESERVED and not value.isdigit() else None
    return None


def _chime_link(meeting_id: str) -> JoinLink:
    return JoinLink(CHIME, f"https://chime.aws/{meeting_id}", meeting_id, None, None)


# --- Others -------------------------------------------------------------------------------------

_JITSI_RESERVED = {
    "static", "libs", "sounds", "images", "css", "fonts", "lang", "connection_optimization",
    "external_api.js", "config.js", "interface_config.js", "http-bind", "xmpp-websocket",
    "colibri-ws", "conference-request", "_unlock",
}  # fmt: skip
_ROOM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~%\-]{0,99}")


def jitsi(u: Url) -> Verdict:
    segs = u.segments
    if u.host == "meet.jit.si" and len(segs) == 1:
        room = segs[0]
        if _ROOM.fullmatch(room) and room.lower() not in _JITSI_RESERVED and "." not in room:
            return JoinLink(JITSI, f"https://meet.jit.si/{room}", room, None, None)
    return Rejected("Jitsi page without a room name", JITSI)


def eight_by_eight(u: Url) -> Verdict:
    segs = u.segments
    # A room (optionally under a tenant), not a script or asset.
    is_room = (
        1 <= len(segs) <= 2
        and all(_ROOM.fullmatch(s) for s in segs)
        and segs[0].lower() not in _JITSI_RESERVED
        and "." not in segs[-1]
    )
    if u.host == "8x8.vc" and is_room:
        return JoinLink(JITSI, f"https://8x8.vc/{'/'.join(segs)}", segs[-1], None, None)
    return Rejected("8x8 page without a room name", JITSI)


_WHEREBY_RESERVED = {
    "user", "org", "information", "pricing", "login", "signup", "sign-up", "blog", "about",
    "download", "embed", "api", "terms", "privacy", "careers", "features", "contact", "support",
    "help", "product", "products", "solutions", "use-cases", "resources", "legal", "business",
    "hipaa", "developers", "integrations", "security", "customers", "partners", "enterprise",
}  # fmt: skip
_WHEREBY_ROOM = re.compile(r"[a-z0-9][a-z0-9\-]{0,63}")


def whereby(u: Url) -> Verdict:
    sub = u.host[: -len("whereby.com")].rstrip(".")
    if sub in ("docs", "help", "support", "blog", "status", "dev", "api"):
        return Rejected(f"Whereby {sub} site, not a meeting link", WHEREBY)
    segs = u.segments
    if len(segs) == 1:
        room = segs[0].lower()
        if _WHEREBY_ROOM.fullmatch(room) and room not in _WHEREBY_RESERVED:
            host = "whereby.com" if sub in ("", "www") else u.host
            return JoinLink(WHEREBY, f"https://{host}/{room}", room, None, None)
    return Rejected("Whereby page without a room name", WHEREBY)


def appear_in(u: Url) -> Verdict:
    segs = u.segments
    if len(segs) == 1 and _WHEREBY_ROOM.fullmatch(segs[0].lower()):
        room = segs[0].lower()
        if room not in _WHEREBY_RESERVED:
            return JoinLink(WHEREBY, f"https://whereby.com/{room}", room, None, None)
    return Rejected("appear.in page without a room name", WHEREBY)


def ringcentral(u: Url) -> Verdict:
    segs = u.segments
    low = [s.lower() for s in segs]
    hosts = ("v.ringcentral.com", "video.ringcentral.com", "meetings.ringcentral.com")
    if u.host in hosts and len(segs) >= 2 and low[0] in ("join", "j"):
        meeting_id = _digits(segs[1], 9, 12)
        if meeting_id:
            pw = _token_prefix(u.params.get("pw") or u.params.get("pwd"))
            key = "pwd" if low[0] == "j" else "pw"
            url = f"https://{u.host}/{low[0]}/{meeting_id}" + (f"?{key}={pw}" if pw else "")
            return JoinLink(RINGCENTRAL, url, meeting_id, pw, None)
    return Rejected("RingCentral page, not a meeting join link", RINGCENTRAL)


def bluejeans(u: Url) -> Verdict:
    segs = u.segments
    low = [s.lower() for s in segs]
    sub = u.host[: -len("bluejeans.com")].rstrip(".")
    if sub in ("support", "blog", "status", "help", "developer", "community", "a"):
        return Rejected(f"BlueJeans {sub} site, not a meeting link", BLUEJEANS)
    host = "bluejeans.com" if sub in ("", "www") else u.host
    if segs and low[-1] in ("webrtc", "browser"):
        segs, low = segs[:-1], low[:-1]
    if 1 <= len(segs) <= 2 and (meeting_id := _digits(segs[0], 6, 12)):
        passcode = _digits(segs[1], 1, 12) if len(segs) == 2 else None
        if len(segs) == 2 and passcode is None:
            return Rejected("BlueJeans link with a malformed passcode", BLUEJEANS)
        url = f"https://{host}/{meeting_id}" + (f"/{passcode}" if passcode else "")
        return JoinLink(BLUEJEANS, url, meeting_id, passcode, None)
    if len(segs) == 2 and low[0] == "s" and _TOKEN.fullmatch(segs[1]):
        return JoinLink(BLUEJEANS, f"https://{host}/s/{segs[1]}", None, None, None)
    return Rejected("BlueJeans page without a meeting ID", BLUEJEANS)


_SLACK_ID = re.compile(r"[A-Z0-9]{8,20}")


def slack(u: Url) -> Verdict:
    segs = u.segments
    if u.host == "app.slack.com" and len(segs) == 3 and segs[0].lower() == "huddle":
        team, channel = segs[1], segs[2]
        if _SLACK_ID.fullmatch(team) and _SLACK_ID.fullmatch(channel):
            url = f"https://app.slack.com/huddle/{team}/{channel}"
            return JoinLink(SLACK, url, channel, None, None)
    return Rejected("Slack link, not a huddle")


def zoho(u: Url) -> Verdict:
    low = [s.lower() for s in u.segments]
    if u.host.startswith("meeting.zoho.") and low in (["join"], ["meeting", "join"]):
        key = _digits(u.params.get("key", ""), 6, 15)
        if key:
            url = f"https://{u.host}/{'/'.join(low)}?key={key}"
            return JoinLink(ZOHO, url, key, None, None)
    if u.host.startswith("meeting.zoho.") and "register" in "/".join(low):
        return Rejected("Zoho webinar registration page", ZOHO)
    return Rejected("Zoho page, not a meeting join link")


def lifesize(u: Url) -> Verdict:
    segs = u.segments
    if u.host == "call.lifesizecloud.com" and len(segs) == 1 and _digits(segs[0], 4, 12):
        return JoinLink(LIFESIZE, f"https://call.lifesizecloud.com/{segs[0]}", segs[0], None, None)
    return Rejected("Lifesize page, not a meeting link", LIFESIZE)


def dialpad(u: Url) -> Verdict:
    segs = u.segments
    if u.host == "meetings.dialpad.com" and len(segs) == 1 and _NAME.fullmatch(segs[0]):
        room = segs[0]
        if room.lower() not in ("login", "signup", "join", "settings", "download", "help"):
            return JoinLink(DIALPAD, f"https://meetings.dialpad.com/{room}", room, None, None)
    return Rejected("Dialpad page, not a meeting link")

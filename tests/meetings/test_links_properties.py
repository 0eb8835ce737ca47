"""Property-based checks: detection never raises, never returns a non-join URL, and
normalisation is idempotent."""

import os
import re
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calendars.providers.google.links import detect_from_google_event
from calendars.providers.microsoft.links import detect_from_graph_event
from meetings.links import (
    detect_meeting_link,
    explain_text,
    normalize_meeting_url,
)

from .link_corpus import CASES

# LINKS_HYPOTHESIS_EXAMPLES=5000 for a deeper run; no example database, nothing written to the tree.
SETTINGS = settings(
    max_examples=int(os.environ.get("LINKS_HYPOTHESIS_EXAMPLES", "300")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# What a join link may look like once normalised, written independently of the handlers.
_Q = r"[A-Za-z0-9._~\-]+"
JOIN_SHAPES = {
    "zoom": rf"https://([a-z0-9-]+\.)*(zoom\.us|zoom\.com|zoomgov\.com)/((j|w)/\d{{9,12}}|my/[a-z0-9][a-z0-9._-]*)(\?pwd={_Q})?((\?|&)tk={_Q})?",
    "google_meet": r"https://meet\.google\.com/([a-z]{3}-[a-z]{4}-[a-z]{3}|lookup/[A-Za-z0-9_-]+)|https://g\.co/meet/[A-Za-z0-9_-]+",
    "microsoft_teams": (
        r"https://(teams\.microsoft\.com|teams\.live\.com|teams\.cloud\.microsoft|((gov|dod)\.)?teams\.microsoft\.us|teams\.microsoftonline\.cn)/"
        r"(l/meetup-join/19%3a[^/?#]+%40thread\.[a-z0-9]+/\d+\?context=%7b%22Tid%22%3a%22[0-9A-Za-z-]+%22%2c%22Oid%22%3a%22[0-9A-Za-z-]+%22(%2c%22IsBroadcastMeeting%22%3atrue)?%7d"
        rf"|meet/\d{{9,20}}(\?p={_Q})?)"
    ),
    "webex": r"https://[a-z0-9.-]+\.webex\.com/((meet|join)/[A-Za-z0-9][A-Za-z0-9._@-]*|[A-Za-z0-9/._-]+\.php\?MTID=[A-Za-z0-9]+|[A-Za-z0-9._-]+/sites/[A-Za-z0-9/._-]+)",
    "goto_meeting": r"https://(meet\.goto\.com/[A-Za-z0-9._-]+|global\.gotomeeting\.com/join/[A-Za-z0-9._-]+|gotomeet\.me/[A-Za-z0-9._-]+|app\.gotomeeting\.com/\?meetingId=\d+|app\.goto\.com/meeting/\d+)",
    "chime": r"https://chime\.aws/[A-Za-z0-9]+",
    "jitsi": r"https://(meet\.jit\.si|8x8\.vc)/[A-Za-z0-9._~%/-]+",
    "whereby": r"https://([a-z0-9-]+\.)?whereby\.com/[a-z0-9-]+",
    "ringcentral": rf"https://[a-z.]+\.ringcentral\.com/(join|j)/\d+(\?pwd?={_Q})?",
    "bluejeans": r"https://([a-z0-9-]+\.)?bluejeans\.com/(\d+(/\d+)?|s/[A-Za-z0-9._~-]+)",
    "slack": r"https://app\.slack\.com/huddle/[A-Z0-9]+/[A-Z0-9]+",
    "zoho": r"https://meeting\.zoho\.[a-z.]+/(meeting/)?join\?key=\d+",
    "lifesize": r"https://call\.lifesizecloud\.com/\d+",
    "dialpad": r"https://meetings\.dialpad\.com/[A-Za-z0-9._-]+",
}
JOIN_SHAPES = {platform: re.compile(shape) for platform, shape in JOIN_SHAPES.items()}

# Fragments that steer random text towards the parser's corners.
URL_BITS = [
    "https://", "http://", "HTTPS://", "zoommtg://", "msteams:/", "://", "zoom.us/", "us02web.zoom.us/j/",
    "zoomgov.com/", "/j/", "/w/", "/my/", "/s/", "/wc/", "join?confno=", "81234567890", "1234567890",
    "meet.google.com/", "abc-defg-hij", "lookup/", "g.co/meet/", "tel.meet/", "teams.microsoft.com/",
    "teams.live.com/meet/", "/l/meetup-join/", "/l/channel/", "19%3ameeting_", "19:meeting_", "%40thread.v2/0",
    "@thread.v2/0", "?context=", "%7b%22Tid%22%3a%22", '{"Tid":"', '","Oid":"', "%22%7d", "}", "{",
    "/dl/launcher/launcher.html?url=", "_#", "webex.com/", ".webex.com/meet/", "/j.php?MTID=", "m0123456789abcdef",
    "globalcallin.php", "gotomeeting.com/join/", "meet.goto.com/", "gotomeet.me/", "chime.aws/", "meet.jit.si/",
    "whereby.com/", "safelinks.protection.outlook.com/?url=", "www.google.com/url?q=", "urldefense.com/v3/__",
    "urldefense.proofpoint.com/v2/url?u=", "https-3A__", "__;", "!!", "$", "*", "**A", "&amp;", "&quot;",
    "&lt;", "&gt;", "&nbsp;", "&#", "<wbr>", "<a href=\"", "\">", "<", ">", "(", ")", "[", "]", "\\n", "\\,",
    "\\", " ", "\n", "\t", "?", "&", "=", "pwd=", "p=", "tk=", "#", "%", "%25", "%3F", "%2F", ".", ",", ";",
    "\u200b", "\u0130", "\ufffd", "\x00", "/u/", "/rec/", "/download", "register/",
    "protect.checkpoint.com/v2/", "r01/", "___", "*2F", "https%3A//", "https:/", "url-protection.com/v1/url?o=",
    "app.chime.aws/meetings/", "/e/j.php?MTID=", "%3C", "%3E", "%3e", "&#x68;", "&#104;", "&#58;", "&#x2f;",
]  # fmt: skip
messy_text = st.lists(st.one_of(st.sampled_from(URL_BITS), st.text(max_size=6)), max_size=40).map(
    "".join
)


@SETTINGS
@given(messy_text)
def test_detection_never_raises_and_returns_only_join_links(text):
    found = detect_meeting_link(text)
    if found is not None:
        assert JOIN_SHAPES[found.platform].fullmatch(found.url), found.url
        assert normalize_meeting_url(found.url) == found.url
    explain_text(text)


@SETTINGS
@given(st.text())
def test_any_unicode_text_is_safe(text):
    found = detect_meeting_link(text)
    assert found is None or JOIN_SHAPES[found.platform].fullmatch(found.url)
    normalize_meeting_url(text)


@SETTINGS
@given(st.binary(max_size=2000))
def test_binary_garbage_is_safe(data):
    for text in (data.decode("latin-1"), data.decode("utf-8", errors="replace")):
        assert detect_meeting_link(text) is None or True
        normalize_meeting_url(text)
        detect_from_google_event({"description": text, "location": text, "hangoutLink": text})
        detect_from_graph_event({"body": {"content": text}, "onlineMeeting": {"joinUrl": text}})


@SETTINGS
@given(messy_text)
def test_normalisation_is_idempotent_on_anything(text):
    once = normalize_meeting_url(text)
    if once is not None:
        assert normalize_meeting_url(once) == once


# --- links that must never be taken for join links ---------------------------------------------

NON_JOIN_URLS = [c["text"] for c in CASES if c["platform"] is None and c["text"].startswith("http")]
NON_JOIN_URLS += [
    "https://zoom.us/",
    "https://us02web.zoom.us/u/abcdef",
    "https://zoom.us/zoomconference",
    "https://acme.zoom.us/rec/share/abc",
    "https://zoom.us/webinar/register/WN_abc",
    "https://support.zoom.us/hc",
    "https://meet.google.com/",
    "https://meet.google.com/new",
    "https://teams.microsoft.com/l/channel/19%3aabc%40thread.tacv2/General",
    "https://teams.microsoft.com/l/team/19%3aabc%40thread.tacv2/conversations",
    "https://teams.microsoft.com/l/chat/0/0?users=a@b.c",
    "https://aka.ms/JoinTeamsMeeting",
    "https://acme.webex.com/acme/globalcallin.php?MTID=m0123456789abcdef",
    "https://help.webex.com/en-us/article/nk7ihfy",
    "https://www.gotomeeting.com/",
    "https://chime.aws/dialinnumbers/",
]
prose = st.text(
    alphabet=st.characters(blacklist_characters=":/.%&\\<>", codec="utf-8"), max_size=60
)
junk_suffix = st.sampled_from(
    ["", "/", "?utm_source=mail", "#top", "&x=1", ".", ")", ">", "?pwd=abc"]
)


@SETTINGS
@given(prose, st.sampled_from(NON_JOIN_URLS), junk_suffix, prose, st.booleans())
def test_non_join_links_are_never_detected(before, url, suffix, after, upper):
    url = url.upper() if upper else url
    assert detect_meeting_link(f"{before} {url}{suffix} {after}") is None


# --- generated join links, disguised, come back to the same normal form -------------------------

digits = st.integers(min_value=100_000_000, max_value=99_999_999_999).map(str)
token = st.from_regex(r"[A-Za-z0-9]{4,30}(\.1)?", fullmatch=True)
letters = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


@st.composite
def join_links(draw) -> tuple[str, str, str]:
    """(link as it might be written, platform, meeting id)"""
    kind = draw(st.sampled_from(["zoom", "meet", "teams", "teams_short", "webex", "goto"]))
    if kind == "zoom":
        host = draw(
            st.sampled_from(["zoom.us", "us02web.zoom.us", "acme.zoom.us", "agency.zoomgov.com"])
        )
        meeting_id = draw(digits)
        pwd = draw(st.none() | token)
        url = f"https://{host}/j/{meeting_id}" + (f"?pwd={pwd}" if pwd else "")
        platform = "zoom"
    elif kind == "meet":
        code = "-".join(
            draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=n, max_size=n))
            for n in (3, 4, 3)
        )
        url, platform, meeting_id = f"https://meet.google.com/{code}", "google_meet", code
    elif kind == "teams":
        tid, oid = str(draw(st.uuids())), str(draw(st.uuids()))
        meeting_id = f"19:meeting_{draw(token).replace('.', '')}@thread.v2"
        context = quote(f'{{"Tid":"{tid}","Oid":"{oid}"}}', safe="")
        url = f"https://teams.microsoft.com/l/meetup-join/{quote(meeting_id, safe='')}/0?context={context}"
        platform = "microsoft_teams"
    elif kind == "teams_short":
        meeting_id = str(draw(st.integers(min_value=10**11, max_value=10**15)))
        url = f"https://teams.microsoft.com/meet/{meeting_id}?p={draw(token)}"
        platform = "microsoft_teams"
    elif kind == "webex":
        site = draw(letters)
        meeting_id = "m" + draw(st.from_regex(r"[0-9a-f]{32}", fullmatch=True))
        url, platform = f"https://{site}x.webex.com/{site}x/j.php?MTID={meeting_id}", "webex"
    else:
        meeting_id = str(draw(st.integers(min_value=100_000_000, max_value=9_999_999_999)))
        url, platform = f"https://meet.goto.com/{meeting_id}", "goto_meeting"

    # Disguises: junk parameters, fragments, case, wrappers, entities, surrounding punctuation.
    if draw(st.booleans()):
        url += ("&" if "?" in url else "?") + draw(
            st.sampled_from(["uname=Dana", "from=addon", "authuser=1", "hs=122"])
        )
    if draw(st.booleans()):
        url += "#" + draw(letters)
    wrapper = draw(
        st.sampled_from(
            [
                "none",
                "safelinks",
                "google",
                "proofpoint_v3",
                "checkpoint_v2",
                "checkpoint_v1",
                "angle",
                "encoded_angle",
                "html",
                "references",
            ]
        )
    )
    if wrapper == "safelinks":
        url = f"https://nam12.safelinks.protection.outlook.com/?url={quote(url, safe='')}&data=05%7C01&reserved=0"
    elif wrapper == "google":
        url = f"https://www.google.com/url?q={quote(url, safe=':/')}&sa=D&source=calendar"
    elif wrapper == "proofpoint_v3" and "#" not in url:
        url = f"https://urldefense.com/v3/__{url}__;!!AbC!xyz$"
    elif wrapper == "checkpoint_v2":
        region = draw(st.sampled_from(["", "r01/", "r05/"]))
        original = url.replace("%", "*")  # how Check Point writes the original's escapes
        url = f"https://protect.checkpoint.com/v2/{region}___{original}___.YzJ1OmFjbWU6YzpvOjE"
    elif wrapper == "checkpoint_v1":
        url = f"https://checkpoint.url-protection.com/v1/url?o={quote(url, safe='/')}&g=NWQ3&h=MTM"
    elif wrapper == "angle":
        url = f"<{url}>"
    elif wrapper == "encoded_angle":
        url = f"%3C{url}%3E"
    elif wrapper == "references":
        scheme_end = url.index("://") + 3
        url = "".join(f"&#x{ord(c):x};" for c in url[:scheme_end]) + url[scheme_end:]
    elif wrapper == "html":
        url = url.replace("&", "&amp;")
    return url, platform, meeting_id


@SETTINGS
@given(join_links(), prose, prose)
def test_disguised_join_links_normalise_to_one_fixed_point(link, before, after):
    url, platform, meeting_id = link
    normal = normalize_meeting_url(url)
    assert normal is not None
    assert normalize_meeting_url(normal) == normal
    assert JOIN_SHAPES[platform].fullmatch(normal)
    found = detect_meeting_link(f"{before} {url} {after}")
    assert (found.platform, found.url, found.meeting_id) == (platform, normal, meeting_id)

"""Link rewriters (mail security gateways, redirectors) and how to get the real link back.

Each unwrapper returns Wrapped(inner URL) or Rejected when the target cannot be recovered
(Mimecast keeps it server-side).
"""

import base64
import binascii
import re
from urllib.parse import unquote

from .url import Rejected, Url, Verdict, Wrapped


def _param_target(u: Url, names: tuple[str, ...], label: str) -> Verdict:
    for name in names:
        value = u.params.get(name)
        if not value:
            continue
        for _ in range(3):
            if "://" in value[:12] or value[:9].lower() == "msteams:/":
                return Wrapped(value.strip(), label)
            value = unquote(value)
    return Rejected(f"{label} link without a readable target")


def safelinks(u: Url) -> Verdict:
    return _param_target(u, ("url",), "Microsoft Safe Links")


def outlook(u: Url) -> Verdict:
    if u.host.endswith(".safelinks.protection.outlook.com"):
        return safelinks(u)
    return Rejected("Outlook page, not a meeting link")


def office_net(u: Url) -> Verdict:
    # Teams wraps links in chat/meeting notes through its own Safe Links page on the CDN.
    if "safelinks" in u.path.lower():
        return safelinks(u)
    return Rejected("Microsoft CDN page, not a meeting link")


def owa_redirect(u: Url) -> Verdict:
    if "redir.aspx" in u.path.lower():
        return _param_target(u, ("url",), "Outlook Web App redirect")
    return Rejected("Outlook page, not a meeting link")


def proofpoint(u: Url) -> Verdict:
    """urldefense.proofpoint.com/v1 and /v2 (also served from urldefense.com)."""
    path = u.path.lower()
    if path.startswith("/v3/"):
        return proofpoint_v3(u)
    value = u.params.get("u")
    if not value:
        return Rejected("Proofpoint URL Defense link without a readable target")
    if path.startswith("/v2/"):
        # v2 encodes "%" as "-" and "/" as "_" before percent-encoding the rest.
        value = unquote(value.replace("-", "%").replace("_", "/"))
    return _checked(value, "Proofpoint URL Defense")


_V3_RUN_CODES = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def proofpoint_v3(u: Url) -> Verdict:
    """urldefense.com/v3/__<url>__;<base64 of replaced chars>!!<tracking>$

    Characters that would break the URL are replaced by "*" (one character) or "**<code>"
    (a run whose length is the code's index + 2); the originals follow the "__;" in base64url.
    """
    raw = u.raw
    start = raw.find("/v3/__")
    end = raw.find("__;", start + 6) if start != -1 else -1
    if start == -1 or end == -1:
        return Rejected("Proofpoint URL Defense v3 link without a readable target")
    body = raw[start + 6 : end]
    stop = raw.find("!", end + 3)
    encoded = raw[end + 3 : stop if stop != -1 else len(raw)]
    try:
        replaced = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (ValueError, binascii.Error):
        replaced = ""
    out: list[str] = []
    pos = used = 0
    while True:
        star = body.find("*", pos)
        if star == -1:
            out.append(body[pos:])
            break
        out.append(body[pos:star])
        if body.startswith("**", star) and star + 2 < len(body):
            run = _V3_RUN_CODES.find(body[star + 2]) + 2
            if run < 2:
                return Rejected("Proofpoint URL Defense v3 link with a malformed target")
            out.append(replaced[used : used + run])
            used += run
            pos = star + 3
        else:
            out.append(replaced[used : used + 1])
            used += 1
            pos = star + 1
    return _checked("".join(out), "Proofpoint URL Defense")


def urldefense_com(u: Url) -> Verdict:
    if u.path.lower().startswith("/v3/"):
        return proofpoint_v3(u)
    return proofpoint(u)


def mimecast(u: Url) -> Verdict:
    domain = u.params.get("domain")
    hint = f" (it points at {domain})" if domain else ""
    return Rejected(f"Mimecast-protected link: the target is only known to Mimecast{hint}")


def barracuda(u: Url) -> Verdict:
    return _param_target(u, ("a", "url"), "Barracuda Link Protection")


def cisco(u: Url) -> Verdict:
    """secure-web.cisco.com/<token>/<percent-encoded target>"""
    if u.host != "secure-web.cisco.com":
        return Rejected("Cisco page, not a meeting link")
    raw = u.raw
    at = raw.lower().find("/http", raw.find(u.host) + len(u.host))
    if at == -1:
        return Rejected("Cisco Secure Email link without a readable target")
    return _checked(unquote(raw[at + 1 :]), "Cisco Secure Email")


def trendmicro(u: Url) -> Verdict:
    return _param_target(u, ("url",), "Trend Micro Email Security")


def sophos(u: Url) -> Verdict:
    value = u.params.get("u", "")
    if value and "://" not in value[:12]:
        try:
            value = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_").decode()
        except (ValueError, binascii.Error):
            return Rejected("Sophos Email link without a readable target")
    return _checked(value, "Sophos Email")


_CHECKPOINT_V1 = re.compile(r"/v1/(?:r\d{1,3}/)?url/?", re.IGNORECASE)
_CHECKPOINT_V2 = re.compile(r"/v2/(?:r\d{1,3}/)?___", re.IGNORECASE)
_STAR_ESCAPE = re.compile(r"\*([0-9A-Fa-f]{2})")
_LOOSE_SCHEME = re.compile(r"(https?)(?::|%3a)/+", re.IGNORECASE)


def checkpoint(u: Url) -> Verdict:
    """Check Point Harmony Email & Collaboration (formerly Avanan) click-time protection.

    v2 (protect.checkpoint.com, url.avanan.click): /v2/[r01/]___<original URL>___<signature>.
    The original is written out, with "%" as "*" ("*2F") and the scheme's "//" sometimes
    collapsed ("https:/host") or encoded ("https%3A//host").
    v1 (<tenant>.url-protection.com): /v1/[r01/]url?o=<percent-encoded original>&g=...&h=...
    """
    label = "Check Point Harmony Email"
    if _CHECKPOINT_V1.fullmatch(u.path):
        return _param_target(u, ("o",), label)
    prefix = _CHECKPOINT_V2.match(u.path)
    if prefix is None or u.host not in ("protect.checkpoint.com", "url.avanan.click"):
        return Rejected("Check Point page, not a meeting link")
    raw = u.raw
    start = raw.find(prefix.group()) + len(prefix.group())
    end = raw.rfind("___")
    if end < start:
        return Rejected(f"{label} link without a readable target")
    target = _STAR_ESCAPE.sub(r"%\1", raw[start:end])
    m = _LOOSE_SCHEME.match(target)
    if m is None:
        return Rejected(f"{label} link without a readable target")
    return _checked(f"{m.group(1)}://{target[m.end() :]}", label)


def fireeye(u: Url) -> Verdict:
    return _param_target(u, ("u",), "FireEye/Trellix Email Security")


def symantec(u: Url) -> Verdict:
    return _param_target(u, ("u",), "Symantec Click-time protection")


def facebook(u: Url) -> Verdict:
    if u.host.startswith("l.") or u.host.startswith("lm."):
        return _param_target(u, ("u",), "Facebook redirect")
    return Rejected("Facebook page, not a meeting link")


def linkedin(u: Url) -> Verdict:
    if "redir" in u.path.lower():
        return _param_target(u, ("url",), "LinkedIn redirect")
    return Rejected("LinkedIn page, not a meeting link")


def slack_redir(u: Url) -> Verdict:
    return _param_target(u, ("url",), "Slack redirect")


def _checked(value: str, label: str) -> Verdict:
    value = value.strip()
    if "://" in value[:12]:
        return Wrapped(value, label)
    return Rejected(f"{label} link without a readable target")

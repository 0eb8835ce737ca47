"""Which handler owns which domain: the one place to add a platform or a link rewriter."""

from . import platforms as p
from . import wrappers as w
from .url import Rejected, Url, Verdict

HANDLERS: dict[str, p.Handler] = {
    # Meeting platforms
    "zoom.us": p.zoom,
    "zoom.com": p.zoom,
    "zoomgov.com": p.zoom,
    "google.com": p.google,
    "g.co": p.g_co,
    "tel.meet": p.tel_meet,
    "microsoft.com": p.microsoft,
    "live.com": p.live_com,
    "microsoft.us": p.microsoft_us,
    "cloud.microsoft": p.teams,
    "microsoftonline.cn": p.teams,
    "webex.com": p.webex,
    "gotomeeting.com": p.gotomeeting,
    "gotomeet.me": p.gotomeet_me,
    "goto.com": p.goto_com,
    "gotowebinar.com": p.gotowebinar,
    "chime.aws": p.chime,
    "jit.si": p.jitsi,
    "8x8.vc": p.eight_by_eight,
    "whereby.com": p.whereby,
    "appear.in": p.appear_in,
    "ringcentral.com": p.ringcentral,
    "bluejeans.com": p.bluejeans,
    "slack.com": p.slack,
    "zoho.com": p.zoho,
    "zoho.eu": p.zoho,
    "zoho.in": p.zoho,
    "zoho.com.au": p.zoho,
    "zoho.jp": p.zoho,
    "zoho.ca": p.zoho,
    "lifesizecloud.com": p.lifesize,
    "dialpad.com": p.dialpad,
    # Link rewriters
    "outlook.com": w.outlook,
    "office365.us": w.safelinks,
    "office.net": w.office_net,
    "proofpoint.com": w.proofpoint,
    "urldefense.com": w.urldefense_com,
    "urldefense.us": w.urldefense_com,
    "office365.com": w.owa_redirect,
    "mimecast.com": w.mimecast,
    "mimecastprotect.com": w.mimecast,
    "cudasvc.com": w.barracuda,
    "cisco.com": w.cisco,
    "trendmicro.com": w.trendmicro,
    "trendmicro.eu": w.trendmicro,
    "sophos.com": w.sophos,
    "checkpoint.com": w.checkpoint,
    "avanan.click": w.checkpoint,
    "url-protection.com": w.checkpoint,
    "fireeye.com": w.fireeye,
    "symantec.com": w.symantec,
    "facebook.com": w.facebook,
    "linkedin.com": w.linkedin,
    "slack-redir.net": w.slack_redir,
}


def handle(u: Url) -> Verdict | None:
    """Run the handler for the URL's domain; None when no handler claims it."""
    host = u.host
    dot = host.rfind(".")
    second = host.rfind(".", 0, dot) if dot > 0 else -1
    handler = HANDLERS.get(host[second + 1 :]) if dot > 0 else None
    if handler is None and second > 0:
        third = host.rfind(".", 0, second)
        handler = HANDLERS.get(host[third + 1 :])
    if handler is None:
        return None
    try:
        return handler(u)
    except Exception:
        # A handler bug must cost one link, never the whole sync.
        return Rejected("unreadable link")

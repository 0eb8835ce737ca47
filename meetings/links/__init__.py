"""Meeting-link detection: find the join link of a calendar event, its platform and invite.

Pure Python, no Django: safe to call from the sync engine, the API serializers and scripts.

Which link wins when several appear (first match wins, in this order; each provider lists its
fields in `link_candidates`, calendars/providers/<name>/links.py):

1. The provider's structured conference field: Google `conferenceData.entryPoints` (video entry
   points, in order), then `hangoutLink`; Graph `onlineMeeting.joinUrl`, then the legacy
   `onlineMeetingUrl`. The organiser's calendar put them there, so they beat anything typed.
2. The location: Google `location`; Graph `location.displayName`/`locationUri`, then each of
   `locations[]`.
3. The first join link in the text, by position: Google `description`, Graph `body.content`
   (or `bodyPreview` when the body is missing); then the title (`summary`/`subject`).

Within a text every URL is considered in order of appearance. A URL may be written with HTML
numeric character references (`&#x68;&#x74;...`, `&#104;...`) and ends before a percent-encoded
`>` (`%3E`, the closing bracket of `<https://...>`). A candidate is first unwrapped (Outlook
Safe Links, Teams' own Safe Links page, OWA redirects, Google redirects, Proofpoint v1/v2/v3,
Check Point Harmony Email/Avanan v1/v2, Barracuda, Cisco, Trend Micro, Sophos, FireEye,
Symantec, social redirects; nested up to six deep; Mimecast keeps the target server-side, so its
links cannot be undone) and then handed to the handler of its domain, which either accepts it as
a join link (normalised URL, meeting id, passcode, invite) or rejects it with a reason (home,
download, support, dial-in, recording, registration pages; Teams channel/chat links; Meet pages
without a code...).
Rejected links never stop the search.

Passcodes come from the URL only (Zoom `pwd`, Teams `p`, RingCentral `pw`, BlueJeans path), never
from prose such as "Passcode: 123456", which often belongs to a dial-in.

Normalised URLs keep the platform's own form (host, including vanity, regional and government
hosts, and path shape) with https, a lower-cased host, and only the parameters that identify the
meeting (Zoom `pwd`, webinar `tk`; Teams `context` reduced to Tid/Oid; Teams short links `p`;
Webex `MTID`); tracking parameters and fragments go. Wrappers and launchers are removed, Zoom
start (/s/), web-client (/wc/) and zoommtg:// links become the /j/ link, Webex join-service pages
become j.php, Chime web-app links (`app.chime.aws/meetings/<id>`) become `chime.aws/<id>`.
`normalize_meeting_url` is idempotent.

`meeting_id` is the id a person would type or the platform's own key: Zoom's number (None for
/my/ personal links), the Meet code (None for lookup/nickname links), the Teams thread id for
meetup-join links or the numeric id of /meet/ links, the Webex MTID or personal room name, the
GoTo meeting id or room name.

Everything runs in linear time (anchor search plus bounded look-behind, no backtracking-prone
regex), text is capped at 4 MB and 1,000 candidates per field, and no function here raises.
"""

from .detect import (
    Candidate,
    Detection,
    analyse_url,
    detect_meeting_link,
    explain_text,
    first_detection,
    invite_fields,
    normalize_meeting_url,
    text_candidates,
    url_candidates,
)
from .events import as_list, detect_from_event, explain_event, field_at
from .platforms import (
    BLUEJEANS,
    CHIME,
    DIALPAD,
    GOOGLE_MEET,
    GOTO_MEETING,
    JITSI,
    LIFESIZE,
    MICROSOFT_TEAMS,
    RINGCENTRAL,
    SLACK,
    WEBEX,
    WHEREBY,
    ZOHO,
    ZOOM,
)

PLATFORMS = (
    ZOOM,
    GOOGLE_MEET,
    MICROSOFT_TEAMS,
    WEBEX,
    GOTO_MEETING,
    CHIME,
    JITSI,
    WHEREBY,
    RINGCENTRAL,
    BLUEJEANS,
    SLACK,
    ZOHO,
    LIFESIZE,
    DIALPAD,
)

# What people call each platform (the admin, the decision trace).
PLATFORM_LABELS = {
    ZOOM: "Zoom",
    GOOGLE_MEET: "Google Meet",
    MICROSOFT_TEAMS: "Microsoft Teams",
    WEBEX: "Webex",
    GOTO_MEETING: "GoTo Meeting",
    CHIME: "Amazon Chime",
    JITSI: "Jitsi Meet",
    WHEREBY: "Whereby",
    RINGCENTRAL: "RingCentral",
    BLUEJEANS: "BlueJeans",
    SLACK: "Slack huddle",
    ZOHO: "Zoho Meeting",
    LIFESIZE: "Lifesize",
    DIALPAD: "Dialpad",
}


def platform_label(platform: str | None) -> str:
    """A meeting platform id as people say it ("microsoft_teams": "Microsoft Teams")."""
    if not platform:
        return "Unknown platform"
    return PLATFORM_LABELS.get(platform, platform.replace("_", " ").capitalize())


__all__ = [
    "PLATFORMS",
    "PLATFORM_LABELS",
    "Candidate",
    "Detection",
    "analyse_url",
    "as_list",
    "detect_from_event",
    "detect_meeting_link",
    "explain_event",
    "explain_text",
    "field_at",
    "first_detection",
    "invite_fields",
    "normalize_meeting_url",
    "platform_label",
    "text_candidates",
    "url_candidates",
]

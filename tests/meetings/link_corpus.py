"""Join-link corpus: invitations shaped the way Zoom, Teams, Webex, GoTo, Google and Outlook render
them, with the link a bot should join (or None).

Each case: id, text (plain text or HTML as found in a description/body/location), and the expected
platform, normalised url, meeting_id and passcode. All ids, codes and tokens are invented.
The benchmark (bench/bench_links.py) runs over the same list.
"""

# --- shared fixtures ---------------------------------------------------------------------------

TID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
THREAD = "19:meeting_NjQ1ZmM0ZDUtYzEyMy00NDU2LWE3ODktYmMwMTIzNDU2Nzg5@thread.v2"
TEAMS_URL = (
    "https://teams.microsoft.com/l/meetup-join/"
    "19%3ameeting_NjQ1ZmM0ZDUtYzEyMy00NDU2LWE3ODktYmMwMTIzNDU2Nzg5%40thread.v2/0"
    "?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c"
    "%22Oid%22%3a%22a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d%22%7d"
)
# What Teams puts in the HTML href: "&" inside attributes is not escaped in the context, but the
# meetingOptions link in the footer has &amp; separators.
TEAMS_OPTIONS = (
    "https://teams.microsoft.com/meetingOptions/?organizerId=a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
    "&amp;tenantId=72f988bf-86f1-41af-91ab-2d7cd011db47&amp;threadId=19_meeting_NjQ1ZmM0ZDUtYzEy"
    "My00NDU2LWE3ODktYmMwMTIzNDU2Nzg5@thread.v2&amp;messageId=0&amp;language=en-US"
)

ZOOM_PWD = "Qm9ndXNQYXNzY29kZUZvclRlc3Rz.1"
ZOOM_URL = f"https://us02web.zoom.us/j/81234567890?pwd={ZOOM_PWD}"

ZOOM_INVITE_TEXT = f"""Sam Ortiz is inviting you to a scheduled Zoom meeting.

Topic: Vendor sync
Time: Jun 3, 2024 10:00 AM Eastern Time (US and Canada)

Join Zoom Meeting
{ZOOM_URL}

Meeting ID: 812 3456 7890
Passcode: 482913

---

One tap mobile
+16465588656,,81234567890#,,,,*482913# US (New York)
+13017158592,,81234567890#,,,,*482913# US (Washington DC)

---

Dial by your location
\u2022 +1 646 558 8656 US (New York)
\u2022 +1 301 715 8592 US (Washington DC)

Meeting ID: 812 3456 7890
Passcode: 482913

Find your local number: https://us02web.zoom.us/u/kdCxYzAbc

---

Join by SIP
\u2022 81234567890@zoomcrc.com

Join by H.323
\u2022 162.255.37.11 (US West)
Meeting ID: 812 3456 7890
Passcode: 482913
"""

# Zoom for Google Workspace writes the invitation into the description as HTML, every link
# through Google's redirector.
ZOOM_GOOGLE_HTML = (
    "Hi there,<br><br>Sam Ortiz is inviting you to a scheduled Zoom meeting.<br><br>"
    "Join Zoom Meeting<br>"
    '<a href="https://www.google.com/url?q=https://us06web.zoom.us/j/87654321098?pwd%3DaBcDeFgHiJkLmNoPqRsTuVwXyZ012.1'
    '&amp;sa=D&amp;source=calendar&amp;ust=1717430000000000&amp;usg=AOvVaw0abcdefghijklmnopqrs" '
    'target="_blank">https://us06web.zoom.us/j/87654321098?pwd=aBcDeFgHiJkLmNoPqRsTuVwXyZ012.1</a>'
    "<br><br>Meeting ID: 876 5432 1098<br>Passcode: 123456<br><br>---<br><br>One tap mobile<br>"
    "+16469313860,,87654321098#,,,,*123456# US<br><br>Dial by your location<br>"
    "\u2022 +1 646 931 3860 US<br><br>Find your local number: "
    '<a href="https://www.google.com/url?q=https://us06web.zoom.us/u/kbGHiJkLm&amp;sa=D&amp;'
    'source=calendar&amp;ust=1717430000000000&amp;usg=AOvVaw1xyz" target="_blank">'
    "https://us06web.zoom.us/u/kbGHiJkLm</a><br><br>"
)

ZOOM_OUTLOOK_HTML = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    '<style type="text/css">p {margin:0}</style></head><body><div>'
    '<p class="MsoNormal">Hi all,</p><p class="MsoNormal">&nbsp;</p>'
    '<p class="MsoNormal">Join Zoom Meeting<br><a href="https://nam12.safelinks.protection.outlook.com/'
    "?url=https%3A%2F%2Facme.zoom.us%2Fj%2F96512345678%3Fpwd%3DcGFzc3dvcmRGb3JBY21lMQ.1&amp;"
    "data=05%7C02%7Cdana%40contoso.com%7C1b2c3d4e5f6a%7C72f988bf86f141af91ab2d7cd011db47%7C0%7C0%7C6385&amp;"
    'sdata=Zm9vYmFyYmF6cXV4%2BZm9vYmFy%3D&amp;reserved=0" originalsrc="https://acme.zoom.us/j/96512345678?'
    'pwd=cGFzc3dvcmRGb3JBY21lMQ.1">https://acme.zoom.us/j/96512345678?pwd=cGFzc3dvcmRGb3JBY21lMQ.1</a></p>'
    '<p class="MsoNormal">Meeting ID: 965 1234 5678<br>Passcode: 771122</p>'
    "</div></body></html>"
)

TEAMS_HTML_2024 = f"""<html><body><div>Agenda: roadmap review.</div><br>
<div style="max-width: 520px; color: #242424; font-family: 'Segoe UI','Helvetica Neue',Helvetica,Arial,sans-serif" class="me-email-text">
<div aria-hidden="true" style="margin-bottom: 24px; overflow: hidden; white-space: nowrap;">________________________________________________________________________________</div>
<div style="margin-bottom: 12px;"><span class="me-email-text" style="font-size: 24px; font-weight: 700; margin-right:12px;">Microsoft Teams</span>
<a id="meet_invite_block.action.help" class="me-email-link" style="font-size: 14px; text-decoration: underline; color: #5B5FC7;" href="https://aka.ms/JoinTeamsMeeting?omkt=en-US">Need help?</a></div>
<div style="margin-bottom: 6px;"><a id="meet_invite_block.action.join_link" title="{TEAMS_URL}" class="me-email-headline" style="font-size: 20px; font-weight:600; text-decoration: underline; color: #5B5FC7;" href="{TEAMS_URL}" target="_blank" rel="noreferrer noopener">Join the meeting now</a></div>
<div style="margin-bottom: 6px;"><span class="me-email-text-secondary" style="font-size: 14px; color: #616161;">Meeting ID: </span><span class="me-email-text" style="font-size: 14px; color: #242424;">244 882 154 391</span></div>
<div style="margin-bottom: 24px;"><span class="me-email-text-secondary" style="font-size: 14px; color: #616161;">Passcode: </span><span class="me-email-text" style="font-size: 14px; color: #242424;">9Ak8oP</span></div>
<div style="margin-bottom: 24px; max-width: 532px;"><hr style="border: 0; background: #D1D1D1; height: 1px;"></div>
<div><span class="me-email-text-secondary" style="font-size: 14px; color: #616161;">Dial in by phone</span></div>
<div style="margin-bottom: 6px;"><a class="me-email-link" style="font-size: 14px; text-decoration: underline; color: #5B5FC7;" href="tel:+12065551234,,123456789#">+1 206-555-1234,,123456789#</a><span style="font-size: 14px; color: #616161;"> United States, Seattle</span></div>
<div style="margin-bottom: 6px;"><a class="me-email-link" style="font-size: 14px; text-decoration: underline; color: #5B5FC7;" href="https://dialin.teams.microsoft.com/8551f4c1-bea3-441a-8738-69aa517a91c5?id=123456789">Find a local number</a></div>
<div style="margin-bottom: 24px;"><span class="me-email-text-secondary" style="font-size: 14px; color: #616161;">Phone conference ID: </span><span class="me-email-text" style="font-size: 14px; color: #242424;">123 456 789#</span></div>
<div style="margin-bottom: 24px; max-width: 532px;"><hr style="border: 0; background: #D1D1D1; height: 1px;"></div>
<div style="margin-bottom: 24px;"><span class="me-email-text-secondary" style="font-size: 14px; color: #616161;">For organizers: </span><a class="me-email-link" style="font-size: 14px; text-decoration: underline; color: #5B5FC7;" href="{TEAMS_OPTIONS}">Meeting options</a><span style="color: #D1D1D1"> | </span><a class="me-email-link" style="font-size: 14px; text-decoration: underline; color: #5B5FC7;" href="https://dialin.teams.microsoft.com/usp/pstnconferencing">Reset dial-in PIN</a></div>
<div aria-hidden="true" style="margin-bottom: 24px; overflow: hidden; white-space: nowrap;">________________________________________________________________________________</div>
</div></body></html>"""

TEAMS_HTML_2021 = f"""<div><br></div><div style="width:100%;height: 20px;"><span style="white-space:nowrap;color:#5F5F5F;opacity:.36;">________________________________________________________________________________</span></div>
<div class="me-email-text" style="color:#252424;font-family:'Segoe UI','Helvetica Neue',Helvetica,Arial,sans-serif;">
<div style="margin-top: 24px; margin-bottom: 20px;"><span style="font-size: 24px; color:#252424">Microsoft Teams meeting</span></div>
<div style="margin-bottom: 20px;"><div style="margin-top: 0px; margin-bottom: 0px; font-weight: bold"><span style="font-size: 14px; color:#252424">Join on your computer, mobile app or room device</span></div>
<a class="me-email-headline" href="{TEAMS_URL}" target="_blank" rel="noreferrer noopener" style="font-size: 14px; font-family:'Segoe UI Semibold','Segoe UI','Helvetica Neue',Helvetica,Arial,sans-serif;text-decoration: underline;color: #6264a7;">Click here to join the meeting</a></div>
<div style="margin-bottom: 20px; margin-top: 20px"><div style="margin-bottom: 4px"><span data-tid="meeting-code" style="font-size: 14px; color:#252424;">Meeting ID: <span style="font-size:16px; color:#252424;">290 273 192 285</span></span><br><span style="font-size: 14px; color:#252424;">Passcode: </span><span style="font-size:16px; color:#252424;">CwEBTS</span>
<div style="font-size: 14px;"><a class="me-email-link" style="font-size: 14px;text-decoration: underline;color: #6264a7;" target="_blank" href="https://www.microsoft.com/en-us/microsoft-teams/download-app" rel="noreferrer noopener">Download Teams</a> | <a class="me-email-link" style="font-size: 14px;text-decoration: underline;color: #6264a7;" target="_blank" href="https://www.microsoft.com/microsoft-teams/join-a-meeting" rel="noreferrer noopener">Join on the web</a></div></div></div>
<div style="margin-bottom: 24px;margin-top: 20px;"><a class="me-email-link" style="font-size: 14px;text-decoration: underline;color: #6264a7;" target="_blank" href="https://aka.ms/JoinTeamsMeeting" rel="noreferrer noopener">Learn More</a> | <a class="me-email-link" style="font-size: 14px;text-decoration: underline;color: #6264a7;" target="_blank" href="{TEAMS_OPTIONS}" rel="noreferrer noopener">Meeting options</a></div>
</div>
<div style="font-size: 14px; margin-bottom: 4px;font-family:'Segoe UI','Helvetica Neue',Helvetica,Arial,sans-serif;"></div>
<div style="font-size: 12px;"></div><div></div>
<div style="width:100%;height: 20px;"><span style="white-space:nowrap;color:#5F5F5F;opacity:.36;">________________________________________________________________________________</span></div>"""

TEAMS_PLAIN_TEXT = f"""Agenda below.

________________________________________________________________________________
Microsoft Teams meeting
Join on your computer, mobile app or room device
Click here to join the meeting<{TEAMS_URL}>
Meeting ID: 290 273 192 285
Passcode: CwEBTS
Download Teams<https://www.microsoft.com/en-us/microsoft-teams/download-app> | Join on the web<https://www.microsoft.com/microsoft-teams/join-a-meeting>
Or call in (audio only)
+1 206-555-1234,,123456789#<tel:+12065551234,,123456789#>   United States, Seattle
Phone Conference ID: 123 456 789#
Find a local number<https://dialin.teams.microsoft.com/8551f4c1-bea3-441a-8738-69aa517a91c5?id=123456789> | Reset PIN<https://dialin.teams.microsoft.com/usp/pstnconferencing>
Learn More<https://aka.ms/JoinTeamsMeeting> | Meeting options<{TEAMS_OPTIONS.replace("&amp;", "&")}>
________________________________________________________________________________
"""

# A Teams footer where only the help/options/dial-in links survived (join link deleted by hand).
TEAMS_FOOTER_WITHOUT_JOIN = TEAMS_PLAIN_TEXT.replace(
    f"Click here to join the meeting<{TEAMS_URL}>\n", ""
)

WEBEX_MTID = "m8c3b7e0f0d1a2b3c4d5e6f708192a3b4"
WEBEX_INVITE_TEXT = f"""When it's time, join the Webex meeting here.

Meeting number (access code): 2634 123 4567
Meeting password: Xy7mQ2Pd3

Join meeting
https://acme.webex.com/acme/j.php?MTID={WEBEX_MTID}

Tap to join from a mobile device (attendees only)
+1-650-479-3208,,26341234567## Call-in toll number (US/Canada)

Join by phone
+1-650-479-3208 Call-in toll number (US/Canada)
Global call-in numbers: https://acme.webex.com/acme/globalcallin.php?MTID=m3f1a2b3c4d5e6f708192a3b4c5d6e7f8

Join from a video system or application
Dial 26341234567@acme.webex.com
You can also dial 173.243.2.68 and enter your meeting number.

Join using Microsoft Lync or Microsoft Skype for Business
Dial 26341234567.acme@lync.webex.com

If you are a host, click here to view host information.
Need help? Go to https://help.webex.com
"""

WEBEX_INVITE_HTML = f"""<table><tr><td style="font-size:24px">Quarterly business review</td></tr>
<tr><td>Hosted by Priya Natarajan</td></tr>
<tr><td><a href="https://acme.webex.com/acme/j.php?MTID={WEBEX_MTID}&amp;from=outlook" style="background:#00823b;color:#fff">Join meeting</a></td></tr>
<tr><td>More ways to join:<br>Join from the meeting link<br><a href="https://acme.webex.com/acme/j.php?MTID={WEBEX_MTID}">https://acme.webex.com/acme/j.php?MTID={WEBEX_MTID}</a></td></tr>
<tr><td>Join by meeting number<br>Meeting number (access code): 2634 123 4567<br>Meeting password: Xy7mQ2Pd3 (99762723 from phones and video systems)</td></tr>
<tr><td>Join by phone<br><a href="tel:%2B1-650-479-3208,,*01*26341234567%23%23*01*">+1-650-479-3208,,26341234567##</a> United States Toll<br>
<a href="https://acme.webex.com/acme/globalcallin.php?MTID=m3f1a2b3c4d5e6f708192a3b4c5d6e7f8">Global call-in numbers</a></td></tr>
<tr><td>Join from a video system or application<br>Dial <a href="sip:26341234567@acme.webex.com">26341234567@acme.webex.com</a></td></tr>
<tr><td>If you are a host, <a href="https://acme.webex.com/acme/j.php?MTID=m0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c">click here</a> to view host information.</td></tr>
<tr><td>Need help? Go to <a href="https://help.webex.com">https://help.webex.com</a></td></tr></table>"""

WEBEX_PERSONAL_ROOM_TEXT = """Join my Webex Personal Room.

Join from the meeting link
https://acme.webex.com/meet/jdoe

Join by meeting number
Meeting number (access code): 2550 123 4567

Join by phone
+1-415-655-0001 US Toll
Access code: 2550 123 4567
"""

GOTO_INVITE_TEXT = """Weekly sync
Tue, Jun 4, 2024 10:00 AM - 11:00 AM (EDT)

Please join my meeting from your computer, tablet or smartphone.
https://meet.goto.com/123456789

You can also dial in using your phone.
Access Code: 123-456-789
United States: +1 (571) 317-3122

Get the app now and be ready when your first meeting starts:
https://meet.goto.com/install
"""

GOTO_CLASSIC_TEXT = """Please join my meeting from your computer, tablet or smartphone.
https://global.gotomeeting.com/join/987654321

You can also dial in using your phone.
United States: +1 (872) 240-3212

Access Code: 987-654-321

New to GoToMeeting? Get the app now and be ready when your first meeting starts: https://global.gotomeeting.com/install/987654321
"""

CHIME_INVITE_TEXT = """Amazon Chime Meeting Invitation

Click to join the meeting: https://chime.aws/1234567890
Meeting ID: 1234 56 7890
A headset is recommended or you may use your computer's microphone and speakers.

Call in using your phone:
United States Toll-Free (1): +1 855-552-4463
Meeting ID: 1234 56 7890
One-click Mobile Dial-in (United States (1)): +1 206-462-5569,,,1234567890#

International: https://chime.aws/dialinnumbers/
"""

MEET_DESCRIPTION = """Quarterly planning, see agenda doc: https://docs.google.com/document/d/1AbCdEfGh/edit

-::~:~::~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~::~:~::-
Join with Google Meet: https://meet.google.com/qxv-hmbt-rzk
Or dial: (US) +1 414-555-0123 PIN: 731598246#
More phone numbers: https://tel.meet/qxv-hmbt-rzk?pin=4417290385516

Learn more about Meet at: https://support.google.com/a/users/answer/9282720

Please do not edit this section.
-::~:~::~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~::~:~::-
"""

# The same Meet block as Outlook shows a Google-sent invitation (ICS description, escaped).
MEET_ICS_ESCAPED = (
    "-::~:~::~:~:~:~:~:~:~:~:~:~:~:~::~:~::-\\nJoin with Google Meet: "
    "https://meet.google.com/wdn-kpqa-frt\\nOr dial: (US) +1 414-555-0188 PIN: 123456789#\\n"
    "More phone numbers: https://tel.meet/wdn-kpqa-frt?pin=1234567890123\\n\\n"
    "Learn more about Meet at: https://support.google.com/a/users/answer/9282720\\n\\n"
    "Please do not edit this section.\\n-::~:~::~:~:~:~:~:~:~:~:~:~:~:~::~:~::-"
)

NEWSLETTER_HTML = """<p>This week at Acme: read the <a href="https://blog.acme.example/posts/q3">Q3 update</a>,
watch last week's all-hands recording at <a href="https://acme.zoom.us/rec/share/AbCdEfGh.IjKlMn">Zoom</a>,
and download the new client from <a href="https://zoom.us/download">zoom.us/download</a>.
Questions? <a href="mailto:it@acme.example">it@acme.example</a> or <a href="https://support.zoom.us/hc/en-us">Zoom support</a>.
Our Teams channel: <a href="https://teams.microsoft.com/l/channel/19%3a1a2b3c4d5e6f%40thread.tacv2/General?groupId=0f1e2d3c-4b5a-6978-8091-a2b3c4d5e6f7&amp;tenantId=72f988bf-86f1-41af-91ab-2d7cd011db47">General</a>.</p>"""


def case(
    id: str,
    text: str,
    platform: str | None = None,
    url: str | None = None,
    meeting_id: str | None = None,
    passcode: str | None = None,
) -> dict:
    return {
        "id": id,
        "text": text,
        "platform": platform,
        "url": url,
        "meeting_id": meeting_id,
        "passcode": passcode,
    }


def negative(id: str, text: str) -> dict:
    return case(id, text)


# --- Zoom ---------------------------------------------------------------------------------------

ZOOM = [
    case(
        "zoom-plain",
        "https://zoom.us/j/123456789",
        "zoom",
        "https://zoom.us/j/123456789",
        "123456789",
    ),
    case("zoom-pwd", ZOOM_URL, "zoom", ZOOM_URL, "81234567890", ZOOM_PWD),
    case("zoom-invite-text", ZOOM_INVITE_TEXT, "zoom", ZOOM_URL, "81234567890", ZOOM_PWD),
    case(
        "zoom-google-addon-html",
        ZOOM_GOOGLE_HTML,
        "zoom",
        "https://us06web.zoom.us/j/87654321098?pwd=aBcDeFgHiJkLmNoPqRsTuVwXyZ012.1",
        "87654321098",
        "aBcDeFgHiJkLmNoPqRsTuVwXyZ012.1",
    ),
    case(
        "zoom-outlook-safelinks-html",
        ZOOM_OUTLOOK_HTML,
        "zoom",
        "https://acme.zoom.us/j/96512345678?pwd=cGFzc3dvcmRGb3JBY21lMQ.1",
        "96512345678",
        "cGFzc3dvcmRGb3JBY21lMQ.1",
    ),
    case(
        "zoom-vanity-subdomain",
        "Join: https://acme.zoom.us/j/96512345678",
        "zoom",
        "https://acme.zoom.us/j/96512345678",
        "96512345678",
    ),
    case(
        "zoom-regional-us05web",
        "https://us05web.zoom.us/j/85512345678?pwd=QWxwaGFCZXRh.1",
        "zoom",
        "https://us05web.zoom.us/j/85512345678?pwd=QWxwaGFCZXRh.1",
        "85512345678",
        "QWxwaGFCZXRh.1",
    ),
    case(
        "zoomgov",
        "ZoomGov meeting: https://agency.zoomgov.com/j/1612345678?pwd=R292UGFzcw.1",
        "zoom",
        "https://agency.zoomgov.com/j/1612345678?pwd=R292UGFzcw.1",
        "1612345678",
        "R292UGFzcw.1",
    ),
    case(
        "zoomgov-bare-domain",
        "https://www.zoomgov.com/j/1601234567",
        "zoom",
        "https://www.zoomgov.com/j/1601234567",
        "1601234567",
    ),
    case(
        "zoom-webinar-tk",
        "Join the webinar: https://us06web.zoom.us/w/84412345678?tk=Ab12Cd34Ef56.DQMAAAAT0123abc&pwd=V2ViaW5hcg.1",
        "zoom",
        "https://us06web.zoom.us/w/84412345678?pwd=V2ViaW5hcg.1&tk=Ab12Cd34Ef56.DQMAAAAT0123abc",
        "84412345678",
        "V2ViaW5hcg.1",
    ),
    case(
        "zoom-personal-link",
        "My room: https://acme.zoom.us/my/jane.doe?pwd=UGVyc29uYWw.1",
        "zoom",
        "https://acme.zoom.us/my/jane.doe?pwd=UGVyc29uYWw.1",
        None,
        "UGVyc29uYWw.1",
    ),
    case(
        "zoom-start-link-becomes-join",
        "Host: https://us02web.zoom.us/s/81234567890?zak=eyJ0eXAiOiJKV1QiLCJzdiI6IjAwMDAwMSJ9.abc",
        "zoom",
        "https://us02web.zoom.us/j/81234567890",
        "81234567890",
    ),
    case(
        "zoom-web-client-join",
        "Browser: https://zoom.us/wc/join/81234567890?pwd=" + ZOOM_PWD,
        "zoom",
        f"https://zoom.us/j/81234567890?pwd={ZOOM_PWD}",
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "zoom-web-client-app",
        "https://app.zoom.us/wc/81234567890/join?fromPWA=1&pwd=" + ZOOM_PWD,
        "zoom",
        f"https://app.zoom.us/j/81234567890?pwd={ZOOM_PWD}",
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "zoom-deeplink-zoommtg",
        "zoommtg://zoom.us/join?action=join&confno=81234567890&pwd=" + ZOOM_PWD,
        "zoom",
        f"https://zoom.us/j/81234567890?pwd={ZOOM_PWD}",
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "zoom-join-confno",
        "https://zoom.us/join?confno=81234567890",
        "zoom",
        "https://zoom.us/j/81234567890",
        "81234567890",
    ),
    case(
        "zoom-uppercase",
        "JOIN: HTTPS://US02WEB.ZOOM.US/J/81234567890",
        "zoom",
        "https://us02web.zoom.us/j/81234567890",
        "81234567890",
    ),
    case(
        "zoom-tracking-params-and-fragment",
        f"{ZOOM_URL}&uname=Dana%20Lee&from=addon#success",
        "zoom",
        ZOOM_URL,
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "zoom-trailing-period",
        f"The link is {ZOOM_URL}.",
        "zoom",
        ZOOM_URL,
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "zoom-in-parentheses",
        f"Zoom ({ZOOM_URL}) or phone",
        "zoom",
        ZOOM_URL,
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "zoom-angle-brackets",
        f"Join Zoom Meeting<{ZOOM_URL}>",
        "zoom",
        ZOOM_URL,
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "zoom-markdown",
        f"[Join Zoom]({ZOOM_URL})",
        "zoom",
        ZOOM_URL,
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "zoom-html-entities",
        '<a href="https://us02web.zoom.us/j/81234567890?pwd=abcDEF123.1&amp;uname=Dana">Join</a>',
        "zoom",
        "https://us02web.zoom.us/j/81234567890?pwd=abcDEF123.1",
        "81234567890",
        "abcDEF123.1",
    ),
    case(
        "zoom-ics-escaped",
        "Join Zoom Meeting\\nhttps://us02web.zoom.us/j/81234567890\\, Meeting ID: 812 3456 7890\\;",
        "zoom",
        "https://us02web.zoom.us/j/81234567890",
        "81234567890",
    ),
    case(
        "zoom-scheme-less",
        "Dial-in or join at zoom.us/j/5551234567 (no password)",
        "zoom",
        "https://zoom.us/j/5551234567",
        "5551234567",
    ),
    case(
        "zoom-location-field-style",
        "Zoom: https://acme.zoom.us/j/96512345678?pwd=cGFzc3dvcmQ.1; Room 4B",
        "zoom",
        "https://acme.zoom.us/j/96512345678?pwd=cGFzc3dvcmQ.1",
        "96512345678",
        "cGFzc3dvcmQ.1",
    ),
    case(
        "zoom-google-redirect-only",
        "https://www.google.com/url?q=https%3A%2F%2Fzoom.us%2Fj%2F98765432101%3Fpwd%3DZm9v.1&sa=D&source=calendar&usg=AOvVaw3",
        "zoom",
        "https://zoom.us/j/98765432101?pwd=Zm9v.1",
        "98765432101",
        "Zm9v.1",
    ),
    case(
        "zoom-encoded-query",
        "https://us02web.zoom.us/j/81234567890%3Fpwd%3DZm9vYmFy.1",
        "zoom",
        "https://us02web.zoom.us/j/81234567890?pwd=Zm9vYmFy.1",
        "81234567890",
        "Zm9vYmFy.1",
    ),
    case(
        "zoom-dial-in-first-then-join",
        "Find your local number: https://zoom.us/u/abcDEF\nJoin: https://zoom.us/j/91234567890",
        "zoom",
        "https://zoom.us/j/91234567890",
        "91234567890",
    ),
    case(
        "zoom-registration-then-join",
        "Register first: https://acme.zoom.us/webinar/register/WN_AbCdEfGhIjKl\n"
        "Panelists: https://acme.zoom.us/j/94412345678",
        "zoom",
        "https://acme.zoom.us/j/94412345678",
        "94412345678",
    ),
    negative("zoom-download-page", "Get the client at https://zoom.us/download"),
    negative(
        "zoom-support",
        "Help: https://support.zoom.us/hc/en-us/articles/201362193-Joining-a-meeting",
    ),
    negative("zoom-dial-in-page", "Find your local number: https://us02web.zoom.us/u/kdCxYzAbc"),
    negative(
        "zoom-conference-numbers", "International numbers: https://zoom.us/zoomconference?m=abc123"
    ),
    negative(
        "zoom-recording",
        "Recording: https://acme.zoom.us/rec/share/Xy_Z123AbC.DeFgHiJkL?startTime=1717430000000",
    ),
    negative("zoom-recording-play", "https://acme.zoom.us/rec/play/AbCdEf-GhIj"),
    negative(
        "zoom-webinar-registration", "https://acme.zoom.us/webinar/register/WN_AbCdEfGhIjKlMnOp"
    ),
    negative(
        "zoom-meeting-registration", "https://us06web.zoom.us/meeting/register/tZ0kf-2hrz4oHtM"
    ),
    negative("zoom-home", "We use https://zoom.us for calls"),
    negative("zoom-join-without-id", "https://zoom.us/j/"),
    negative("zoom-join-word", "https://zoom.us/j/test"),
    negative("zoom-short-id", "https://zoom.us/j/1234"),
    negative("zoom-test-page", "Test your audio first: https://zoom.us/test"),
    negative(
        "zoom-tel-only",
        "One tap mobile\n+16465588656,,81234567890#,,,,*482913# US\ntel:+16465588656,,81234567890#",
    ),
    negative("zoom-id-only-prose", "Meeting ID: 812 3456 7890\nPasscode: 482913"),
    negative("zoom-events", "Zoom Events: https://events.zoom.us/ev/AbCdEf123"),
    negative("zoom-lookalike-host", "https://zoom.us.evil.example/j/81234567890"),
    negative("zoom-userinfo-trick", "https://zoom.us@evil.example/j/81234567890"),
    negative("zoom-mailto", "Contact <mailto:events@zoom.us> for help"),
]

# --- Google Meet -------------------------------------------------------------------------------

MEET = [
    case(
        "meet-plain",
        "https://meet.google.com/abc-defg-hij",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "meet-description-block",
        MEET_DESCRIPTION,
        "google_meet",
        "https://meet.google.com/qxv-hmbt-rzk",
        "qxv-hmbt-rzk",
    ),
    case(
        "meet-ics-escaped",
        MEET_ICS_ESCAPED,
        "google_meet",
        "https://meet.google.com/wdn-kpqa-frt",
        "wdn-kpqa-frt",
    ),
    case(
        "meet-authuser-hs",
        "https://meet.google.com/abc-defg-hij?authuser=1&hs=122&pli=1",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "meet-uppercase",
        "MEET.GOOGLE.COM/ABC-DEFG-HIJ",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "meet-scheme-less",
        "Video call: meet.google.com/kzp-wqtr-mnb",
        "google_meet",
        "https://meet.google.com/kzp-wqtr-mnb",
        "kzp-wqtr-mnb",
    ),
    case(
        "meet-http",
        "http://meet.google.com/abc-defg-hij",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "meet-no-dashes",
        "https://meet.google.com/abcdefghij",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "meet-pwa-prefix",
        "https://meet.google.com/_meet/abc-defg-hij?authuser=0",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "meet-lookup",
        "Class link: https://meet.google.com/lookup/bx4kj2q7xd?authuser=0&hs=179",
        "google_meet",
        "https://meet.google.com/lookup/bx4kj2q7xd",
        None,
    ),
    case(
        "meet-gco",
        "Join: g.co/meet/abc-defg-hij",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "meet-gco-nickname",
        "https://g.co/meet/team-standup",
        "google_meet",
        "https://g.co/meet/team-standup",
        None,
    ),
    case(
        "meet-html-anchor",
        '<p>Join with Google Meet: <a href="https://meet.google.com/qxv-hmbt-rzk?hs=224">meet.google.com/qxv-hmbt-rzk</a></p>',
        "google_meet",
        "https://meet.google.com/qxv-hmbt-rzk",
        "qxv-hmbt-rzk",
    ),
    case(
        "meet-google-redirect",
        '<a href="https://www.google.com/url?q=https://meet.google.com/qxv-hmbt-rzk&amp;sa=D&amp;source=calendar&amp;usg=AOvVaw2">Join</a>',
        "google_meet",
        "https://meet.google.com/qxv-hmbt-rzk",
        "qxv-hmbt-rzk",
    ),
    case(
        "meet-after-docs-link",
        "Agenda https://docs.google.com/document/d/1AbC/edit then https://meet.google.com/abc-defg-hij",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    negative("meet-landing", "Start a call at https://meet.google.com/"),
    negative("meet-new", "https://meet.google.com/new"),
    negative("meet-landing-page", "https://meet.google.com/landing?authuser=0"),
    negative("meet-tel", "More phone numbers: https://tel.meet/qxv-hmbt-rzk?pin=4417290385516"),
    negative(
        "meet-help", "Learn more about Meet at: https://support.google.com/a/users/answer/9282720"
    ),
    negative("meet-not-a-code", "https://meet.google.com/calendar-event-test"),
    negative("meet-incomplete-code", "https://meet.google.com/abc-defg"),
    negative(
        "meet-livestream",
        "Watch: https://stream.meet.google.com/stream/8c1f2e3d-4a5b-6c7d-8e9f-0a1b2c3d4e5f",
    ),
    negative(
        "meet-calendar-link", "https://calendar.google.com/calendar/event?action=TEMPLATE&tmeid=abc"
    ),
    negative("meet-hangouts-legacy", "https://hangouts.google.com/hangouts/_/acme.com/weekly"),
]

# --- Microsoft Teams ---------------------------------------------------------------------------

TEAMS_DOUBLE_ENCODED = TEAMS_URL.replace("%", "%25")
TEAMS_RAW_JSON = (
    "https://teams.microsoft.com/l/meetup-join/19:meeting_NjQ1ZmM0ZDUtYzEyMy00NDU2LWE3ODktYmMwMTIzNDU2Nzg5@thread.v2/0"
    f'?context={{"Tid":"{TID}","Oid":"{OID}"}}'
)
TEAMS_LAUNCHER = (
    "https://teams.microsoft.com/dl/launcher/launcher.html?url=%2F_%23%2Fl%2Fmeetup-join%2F19%3A"
    "meeting_NjQ1ZmM0ZDUtYzEyMy00NDU2LWE3ODktYmMwMTIzNDU2Nzg5%40thread.v2%2F0%3Fcontext%3D%257b%2522"
    "Tid%2522%253a%252272f988bf-86f1-41af-91ab-2d7cd011db47%2522%252c%2522Oid%2522%253a%2522a1b2c3d4-"
    "e5f6-4a7b-8c9d-0e1f2a3b4c5d%2522%257d%26anon%3Dtrue&type=meetup-join&deeplinkId=5f0e6d7c-8b9a&"
    "directDl=true&msLaunch=true&enableMobilePage=true&suppressPrompt=true"
)
CHANNEL_THREAD_URL = (
    "https://teams.microsoft.com/l/meetup-join/19%3a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c%40thread.tacv2/1717430000123"
    "?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d%22%2c%22MessageId%22%3a%221717430000123%22%7d"
)
CHANNEL_THREAD_EXPECTED = (
    "https://teams.microsoft.com/l/meetup-join/19%3a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c%40thread.tacv2/1717430000123"
    "?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d%22%7d"
)
GOV_TEAMS_URL = TEAMS_URL.replace("https://teams.microsoft.com/", "https://gov.teams.microsoft.us/")
DOD_TEAMS_URL = TEAMS_URL.replace("https://teams.microsoft.com/", "https://dod.teams.microsoft.us/")
LIGHT_MEETING = (
    "https://teams.microsoft.com/light-meetings/launch?anon=true&agent=web&version=23112000000&coords="
    # base64 of {"conversationId":"19:meeting_ZmZm@thread.v2","tenantId":TID,"organizerId":OID,"messageId":"0"}
    "eyJjb252ZXJzYXRpb25JZCI6IjE5Om1lZXRpbmdfWm1abUB0aHJlYWQudjIiLCJ0ZW5hbnRJZCI6IjcyZjk4OGJmLTg2ZjEtNDFhZi05MWFiLTJkN2NkMDExZGI0NyIsIm9yZ2FuaXplcklkIjoiYTFiMmMzZDQtZTVmNi00YTdiLThjOWQtMGUxZjJhM2I0YzVkIiwibWVzc2FnZUlkIjoiMCJ9"
)
LIGHT_MEETING_EXPECTED = (
    "https://teams.microsoft.com/l/meetup-join/19%3ameeting_ZmZm%40thread.v2/0"
    "?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d%22%7d"
)
TEAMS_INVITE = {"thread": THREAD}

TEAMS = [
    case("teams-meetup-join", TEAMS_URL, "microsoft_teams", TEAMS_URL, THREAD),
    case("teams-html-2024-footer", TEAMS_HTML_2024, "microsoft_teams", TEAMS_URL, THREAD),
    case("teams-html-2021-footer", TEAMS_HTML_2021, "microsoft_teams", TEAMS_URL, THREAD),
    case("teams-outlook-plain-text", TEAMS_PLAIN_TEXT, "microsoft_teams", TEAMS_URL, THREAD),
    case("teams-double-encoded", TEAMS_DOUBLE_ENCODED, "microsoft_teams", TEAMS_URL, THREAD),
    case("teams-raw-json-context", f"Join: {TEAMS_RAW_JSON}", "microsoft_teams", TEAMS_URL, THREAD),
    case(
        "teams-raw-json-context-html-escaped",
        TEAMS_RAW_JSON.replace('"', "&quot;"),
        "microsoft_teams",
        TEAMS_URL,
        THREAD,
    ),
    case("teams-launcher", TEAMS_LAUNCHER, "microsoft_teams", TEAMS_URL, THREAD),
    case(
        "teams-hash-route",
        TEAMS_URL.replace("https://teams.microsoft.com/", "https://teams.microsoft.com/_#/"),
        "microsoft_teams",
        TEAMS_URL,
        THREAD,
    ),
    case(
        "teams-v2-meetingjoin",
        TEAMS_URL.replace(
            "https://teams.microsoft.com/", "https://teams.microsoft.com/v2/?meetingjoin=true#/"
        ),
        "microsoft_teams",
        TEAMS_URL,
        THREAD,
    ),
    case(
        "teams-extra-params",
        TEAMS_URL + "&anon=true&deeplinkId=abc",
        "microsoft_teams",
        TEAMS_URL,
        THREAD,
    ),
    case(
        "teams-channel-meeting",
        CHANNEL_THREAD_URL,
        "microsoft_teams",
        CHANNEL_THREAD_EXPECTED,
        "19:4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c@thread.tacv2",
    ),
    case("teams-gcc-high", f"Join: {GOV_TEAMS_URL}", "microsoft_teams", GOV_TEAMS_URL, THREAD),
    case("teams-dod", DOD_TEAMS_URL, "microsoft_teams", DOD_TEAMS_URL, THREAD),
    case(
        "teams-short-meet-link",
        "Join the meeting now: https://teams.microsoft.com/meet/2169458392745?p=kC3hG7zGz5pBQxEjxG",
        "microsoft_teams",
        "https://teams.microsoft.com/meet/2169458392745?p=kC3hG7zGz5pBQxEjxG",
        "2169458392745",
        "kC3hG7zGz5pBQxEjxG",
    ),
    case(
        "teams-live-personal",
        "Microsoft Teams (free): https://teams.live.com/meet/9381234567890?p=AbCdEfGh12",
        "microsoft_teams",
        "https://teams.live.com/meet/9381234567890?p=AbCdEfGh12",
        "9381234567890",
        "AbCdEfGh12",
    ),
    case(
        "teams-live-without-passcode",
        "https://teams.live.com/meet/9471234567890",
        "microsoft_teams",
        "https://teams.live.com/meet/9471234567890",
        "9471234567890",
    ),
    case(
        "teams-cloud-microsoft",
        "https://teams.cloud.microsoft/meet/2169458392745?p=kC3hG7zGz5pBQx",
        "microsoft_teams",
        "https://teams.cloud.microsoft/meet/2169458392745?p=kC3hG7zGz5pBQx",
        "2169458392745",
        "kC3hG7zGz5pBQx",
    ),
    case(
        "teams-msteams-scheme",
        TEAMS_URL.replace("https://teams.microsoft.com/", "msteams:/"),
        "microsoft_teams",
        TEAMS_URL,
        THREAD,
    ),
    case(
        "teams-light-meetings",
        LIGHT_MEETING,
        "microsoft_teams",
        LIGHT_MEETING_EXPECTED,
        "19:meeting_ZmZm@thread.v2",
    ),
    case(
        "teams-safelinks",
        "https://eur02.safelinks.protection.outlook.com/?url="
        + TEAMS_URL.replace("%", "%25")
        .replace("?", "%3F")
        .replace("=", "%3D")
        .replace("/", "%2F")
        .replace(":", "%3A")
        + "&data=05%7C02%7Cx%40contoso.com%7C0&sdata=AbC%3D&reserved=0",
        "microsoft_teams",
        TEAMS_URL,
        THREAD,
    ),
    case(
        "teams-statics-safelinks",
        "https://statics.teams.cdn.office.net/evergreen-assets/safelinks/1/atp-safelinks.html?url="
        + TEAMS_URL.replace("%", "%25").replace("?", "%3F").replace("=", "%3D").replace("&", "%26")
        + "&locale=en-us",
        "microsoft_teams",
        TEAMS_URL,
        THREAD,
    ),
    case(
        "teams-uppercase-guids",
        TEAMS_URL.replace(TID, TID.upper()),
        "microsoft_teams",
        TEAMS_URL.replace(TID, TID.upper()),
        THREAD,
    ),
    case(
        "teams-wbr-broken",
        TEAMS_URL[:70] + "<wbr>" + TEAMS_URL[70:140] + "<wbr>" + TEAMS_URL[140:],
        "microsoft_teams",
        TEAMS_URL,
        THREAD,
    ),
    negative(
        "teams-channel",
        "https://teams.microsoft.com/l/channel/19%3a1a2b3c4d5e6f%40thread.tacv2/General?groupId=0f1e2d3c&tenantId="
        + TID,
    ),
    negative(
        "teams-team",
        "https://teams.microsoft.com/l/team/19%3a1a2b3c4d5e6f%40thread.tacv2/conversations?groupId=0f1e2d3c&tenantId="
        + TID,
    ),
    negative(
        "teams-chat", "Ping me: https://teams.microsoft.com/l/chat/0/0?users=dana@contoso.com"
    ),
    negative(
        "teams-message",
        "https://teams.microsoft.com/l/message/19:abc@thread.tacv2/1717430000123?tenantId=" + TID,
    ),
    negative("teams-app", "https://teams.microsoft.com/l/app/2a527703-1f6f-4559-a332-d8a7d288cd88"),
    negative("teams-meeting-options", TEAMS_OPTIONS),
    negative("teams-footer-without-join", TEAMS_FOOTER_WITHOUT_JOIN),
    negative("teams-help", "Need help? https://aka.ms/JoinTeamsMeeting?omkt=en-US"),
    negative(
        "teams-dialin",
        "Find a local number: https://dialin.teams.microsoft.com/8551f4c1-bea3-441a-8738-69aa517a91c5?id=123456789",
    ),
    negative(
        "teams-meetup-join-without-context",
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjQ1ZmM0ZDUt%40thread.v2/0",
    ),
    negative(
        "teams-meetup-join-without-oid",
        f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjQ1ZmM0ZDUt%40thread.v2/0?context=%7b%22Tid%22%3a%22{TID}%22%7d",
    ),
    negative("teams-new-meeting", "https://teams.microsoft.com/l/meeting/new?subject=Sync"),
    negative("teams-home", "Open https://teams.microsoft.com to chat"),
    negative("teams-short-link-without-id", "https://teams.microsoft.com/meet/?p=abc"),
    negative(
        "teams-download",
        "Download Teams<https://www.microsoft.com/en-us/microsoft-teams/download-app>",
    ),
    negative(
        "teams-webinar-registration",
        "Register: https://events.teams.microsoft.com/event/3f1a2b3c-4d5e@72f988bf-86f1-41af-91ab-2d7cd011db47",
    ),
]

# --- Webex -------------------------------------------------------------------------------------

WEBEX_J = f"https://acme.webex.com/acme/j.php?MTID={WEBEX_MTID}"


def webex_case(id: str, text: str, url: str, meeting_id: str) -> dict:
    return case(id, text, "webex", url, meeting_id)


WEBEX = [
    webex_case("webex-j-php", WEBEX_J, WEBEX_J, WEBEX_MTID),
    webex_case("webex-invite-text", WEBEX_INVITE_TEXT, WEBEX_J, WEBEX_MTID),
    webex_case("webex-invite-html", WEBEX_INVITE_HTML, WEBEX_J, WEBEX_MTID),
    webex_case(
        "webex-lowercase-mtid-key",
        f"https://acme.webex.com/acme/j.php?mtid={WEBEX_MTID}",
        WEBEX_J,
        WEBEX_MTID,
    ),
    webex_case(
        "webex-personal-room", WEBEX_PERSONAL_ROOM_TEXT, "https://acme.webex.com/meet/jdoe", "jdoe"
    ),
    webex_case(
        "webex-personal-room-join",
        "https://acme.webex.com/join/jane.doe",
        "https://acme.webex.com/join/jane.doe",
        "jane.doe",
    ),
    webex_case(
        "webex-my-site",
        "Personal room: https://acme.my.webex.com/meet/j.doe",
        "https://acme.my.webex.com/meet/j.doe",
        "j.doe",
    ),
    webex_case(
        "webex-joinservice",
        f"https://acme.webex.com/wbxmjs/joinservice/sites/acme/meeting/download/4f2d7c9e0a1b4c3d8e6f5a4b3c2d1e0f?siteurl=acme&MTID={WEBEX_MTID}",
        WEBEX_J,
        WEBEX_MTID,
    ),
    webex_case(
        "webex-webappng",
        f"https://acme.webex.com/webappng/sites/acme/meeting/download/4f2d7c9e0a1b4c3d8e6f5a4b3c2d1e0f?siteurl=acme&MTID={WEBEX_MTID}",
        WEBEX_J,
        WEBEX_MTID,
    ),
    webex_case(
        "webex-eu-site",
        "https://acme-eu.webex.com/acme-eu/j.php?MTID=mf00dfeed00dfeed00dfeed00dfeed00d",
        "https://acme-eu.webex.com/acme-eu/j.php?MTID=mf00dfeed00dfeed00dfeed00dfeed00d",
        "mf00dfeed00dfeed00dfeed00dfeed00d",
    ),
    webex_case(
        "webex-safelinks",
        "https://nam04.safelinks.protection.outlook.com/?url=https%3A%2F%2Facme.webex.com%2Facme%2Fj.php%3FMTID%3D"
        + WEBEX_MTID
        + "&data=05%7C01%7C&sdata=x&reserved=0",
        WEBEX_J,
        WEBEX_MTID,
    ),
    negative(
        "webex-global-callin",
        "Global call-in numbers: https://acme.webex.com/acme/globalcallin.php?MTID=m3f1a2b3c4d5e6f708192a3b4c5d6e7f8",
    ),
    negative(
        "webex-recording",
        "https://acme.webex.com/acme/ldr.php?RCID=0123456789abcdef0123456789abcdef",
    ),
    negative(
        "webex-recording-service",
        "https://acme.webex.com/recordingservice/sites/acme/recording/playback/0123456789abcdef",
    ),
    negative("webex-help", "Need help? Go to https://help.webex.com"),
    negative("webex-home", "https://www.webex.com/downloads.html"),
    negative("webex-site-home", "https://acme.webex.com/"),
    negative(
        "webex-dashboard", "https://acme.webex.com/webappng/sites/acme/dashboard?siteurl=acme"
    ),
    negative("webex-j-without-mtid", "https://acme.webex.com/acme/j.php"),
    negative("webex-sip-address", "Dial 26341234567@acme.webex.com from a video system"),
]

# --- GoTo --------------------------------------------------------------------------------------

GOTO = [
    case(
        "goto-meet-goto",
        GOTO_INVITE_TEXT,
        "goto_meeting",
        "https://meet.goto.com/123456789",
        "123456789",
    ),
    case(
        "goto-classic",
        GOTO_CLASSIC_TEXT,
        "goto_meeting",
        "https://global.gotomeeting.com/join/987654321",
        "987654321",
    ),
    case(
        "goto-room-name",
        "https://gotomeet.me/AcmeSales",
        "goto_meeting",
        "https://gotomeet.me/AcmeSales",
        "AcmeSales",
    ),
    case(
        "goto-room-www",
        "Room: https://www.gotomeet.me/jdoe-standup",
        "goto_meeting",
        "https://gotomeet.me/jdoe-standup",
        "jdoe-standup",
    ),
    case(
        "goto-app-meeting-id",
        "https://app.gotomeeting.com/?meetingId=555123456",
        "goto_meeting",
        "https://app.gotomeeting.com/?meetingId=555123456",
        "555123456",
    ),
    case(
        "goto-join-dashed",
        "https://global.gotomeeting.com/join/555-123-456",
        "goto_meeting",
        "https://global.gotomeeting.com/join/555123456",
        "555123456",
    ),
    case(
        "goto-join-room-name",
        "https://global.gotomeeting.com/join/acme-board",
        "goto_meeting",
        "https://global.gotomeeting.com/join/acme-board",
        "acme-board",
    ),
    negative("goto-install-page", "Get the app: https://meet.goto.com/install"),
    negative("goto-home", "https://www.goto.com/meeting"),
    negative("goto-support", "https://support.goto.com/meeting/help/join-a-meeting"),
    negative(
        "goto-webinar-registration",
        "Register: https://attendee.gotowebinar.com/register/4992149326305460236",
    ),
]

# --- Chime and others --------------------------------------------------------------------------

OTHERS = [
    case("chime-invite", CHIME_INVITE_TEXT, "chime", "https://chime.aws/1234567890", "1234567890"),
    case(
        "chime-app",
        "https://app.chime.aws/meetings/?meetingId=9876543210",
        "chime",
        "https://chime.aws/9876543210",
        "9876543210",
    ),
    case(
        "chime-personalized",
        "https://chime.aws/acmesupport",
        "chime",
        "https://chime.aws/acmesupport",
        "acmesupport",
    ),
    negative("chime-dialin", "International: https://chime.aws/dialinnumbers/"),
    negative("chime-download", "https://chime.aws/download"),
    case(
        "jitsi",
        "Let's use https://meet.jit.si/AcmeWeeklyStandup",
        "jitsi",
        "https://meet.jit.si/AcmeWeeklyStandup",
        "AcmeWeeklyStandup",
    ),
    case(
        "jitsi-config-fragment",
        "https://meet.jit.si/AcmeRetro#config.startWithAudioMuted=true",
        "jitsi",
        "https://meet.jit.si/AcmeRetro",
        "AcmeRetro",
    ),
    case(
        "jitsi-8x8",
        "https://8x8.vc/vpaas-magic-cookie-1a2b3c4d/AcmeRoom",
        "jitsi",
        "https://8x8.vc/vpaas-magic-cookie-1a2b3c4d/AcmeRoom",
        "AcmeRoom",
    ),
    negative("jitsi-home", "https://meet.jit.si/"),
    negative("jitsi-api-script", '<script src="https://meet.jit.si/external_api.js"></script>'),
    case(
        "whereby",
        "https://whereby.com/acme-design",
        "whereby",
        "https://whereby.com/acme-design",
        "acme-design",
    ),
    case(
        "whereby-team",
        "https://acme.whereby.com/weekly-sync",
        "whereby",
        "https://acme.whereby.com/weekly-sync",
        "weekly-sync",
    ),
    negative("whereby-pricing", "https://whereby.com/information/pricing"),
    negative("whereby-user", "https://whereby.com/user"),
    case(
        "ringcentral-video",
        "Join: https://v.ringcentral.com/join/123456789?pw=0123456789abcdef0123456789abcdef",
        "ringcentral",
        "https://v.ringcentral.com/join/123456789?pw=0123456789abcdef0123456789abcdef",
        "123456789",
        "0123456789abcdef0123456789abcdef",
    ),
    case(
        "ringcentral-meetings",
        "https://meetings.ringcentral.com/j/1491234567",
        "ringcentral",
        "https://meetings.ringcentral.com/j/1491234567",
        "1491234567",
    ),
    negative("ringcentral-teleconference", "https://v.ringcentral.com/teleconference/"),
    case(
        "bluejeans",
        "https://bluejeans.com/123456789",
        "bluejeans",
        "https://bluejeans.com/123456789",
        "123456789",
    ),
    case(
        "bluejeans-passcode",
        "https://bluejeans.com/123456789/4321?src=calendarLink",
        "bluejeans",
        "https://bluejeans.com/123456789/4321",
        "123456789",
        "4321",
    ),
    case(
        "bluejeans-company",
        "https://acme.bluejeans.com/987654321/webrtc",
        "bluejeans",
        "https://acme.bluejeans.com/987654321",
        "987654321",
    ),
    negative("bluejeans-support", "https://support.bluejeans.com/s/article/Joining-a-meeting"),
    case(
        "slack-huddle",
        "Huddle: https://app.slack.com/huddle/T01ABCDEFGH/C02BCDEFGHI",
        "slack",
        "https://app.slack.com/huddle/T01ABCDEFGH/C02BCDEFGHI",
        "C02BCDEFGHI",
    ),
    negative("slack-channel", "https://acme.slack.com/archives/C02BCDEFGHI/p1717430000123"),
    case(
        "zoho",
        "https://meeting.zoho.com/join?key=1234567890",
        "zoho",
        "https://meeting.zoho.com/join?key=1234567890",
        "1234567890",
    ),
    case(
        "zoho-eu",
        "https://meeting.zoho.eu/meeting/join?key=987654321&x=1",
        "zoho",
        "https://meeting.zoho.eu/meeting/join?key=987654321",
        "987654321",
    ),
    case(
        "lifesize",
        "https://call.lifesizecloud.com/1234567",
        "lifesize",
        "https://call.lifesizecloud.com/1234567",
        "1234567",
    ),
]

# --- Wrappers ----------------------------------------------------------------------------------

WRAPPERS = [
    case(
        "proofpoint-v2-zoom",
        "https://urldefense.proofpoint.com/v2/url?u=https-3A__us02web.zoom.us_j_81234567890-3Fpwd-3DQm9ndXNQYXNzY29kZUZvclRlc3Rz.1&d=DwMFaQ&c=euGZstcaTDllvimEN8b7jXrwqOf-v5A_CdpgnVfiiMM&r=abc&m=def&s=ghi&e=",
        "zoom",
        ZOOM_URL,
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "proofpoint-v2-teams",
        "https://urldefense.proofpoint.com/v2/url?u=https-3A__teams.microsoft.com_l_meetup-2Djoin_19-253ameeting-5FNjQ1ZmM0ZDUtYzEyMy00NDU2LWE3ODktYmMwMTIzNDU2Nzg5-2540thread.v2_0-3Fcontext-3D-257b-2522Tid-2522-253a-252272f988bf-2D86f1-2D41af-2D91ab-2D2d7cd011db47-2522-252c-2522Oid-2522-253a-2522a1b2c3d4-2De5f6-2D4a7b-2D8c9d-2D0e1f2a3b4c5d-2522-257d&d=DwMGaQ&c=x&r=y&m=z&s=w&e=",
        "microsoft_teams",
        TEAMS_URL,
        THREAD,
    ),
    case(
        "proofpoint-v1",
        "https://urldefense.proofpoint.com/v1/url?u=https%3A%2F%2Fzoom.us%2Fj%2F91234567890&k=abc%3D%0A&r=x&m=y&s=z",
        "zoom",
        "https://zoom.us/j/91234567890",
        "91234567890",
    ),
    case(
        "proofpoint-v3-zoom",
        "https://urldefense.com/v3/__https://us02web.zoom.us/j/81234567890?pwd=Qm9ndXNQYXNzY29kZUZvclRlc3Rz.1__;!!ACWV5N9M2RV99hQ!Ks0mOq3z$",
        "zoom",
        ZOOM_URL,
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "proofpoint-v3-with-replaced-chars",
        # "#success" and "&uname" came out as "*" markers; the replaced characters ("&" then "#") are "JiM" in base64url.
        "https://urldefense.com/v3/__https://zoom.us/j/91234567890?pwd=Zm9v.1*uname=Dana*success__;JiM!!ABC!xyz$",
        "zoom",
        "https://zoom.us/j/91234567890?pwd=Zm9v.1",
        "91234567890",
        "Zm9v.1",
    ),
    case(
        "proofpoint-v3-run-length",
        # "%7b%22" style runs: "**A" is a run of 2 replaced characters ("?p" here).
        "https://urldefense.com/v3/__https://teams.microsoft.com/meet/2169458392745**A=kC3hG7zGz5pBQx__;P3A!!ABC!xyz$",
        "microsoft_teams",
        "https://teams.microsoft.com/meet/2169458392745?p=kC3hG7zGz5pBQx",
        "2169458392745",
        "kC3hG7zGz5pBQx",
    ),
    case(
        "safelinks-wrapping-proofpoint",
        "https://nam11.safelinks.protection.outlook.com/?url=https%3A%2F%2Furldefense.com%2Fv3%2F__https%3A%2F%2Fmeet.google.com%2Fabc-defg-hij__%3B!!ABC!xyz%24&data=05%7C01&reserved=0",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "safelinks-gcc",
        "https://gcc02.safelinks.protection.office365.us/?url=https%3A%2F%2Fagency.zoomgov.com%2Fj%2F1612345678&data=04%7C01&reserved=0",
        "zoom",
        "https://agency.zoomgov.com/j/1612345678",
        "1612345678",
    ),
    case(
        "barracuda",
        "https://linkprotect.cudasvc.com/url?a=https%3a%2f%2fus02web.zoom.us%2fj%2f81234567890&c=E,1,AbCdEf&typo=1",
        "zoom",
        "https://us02web.zoom.us/j/81234567890",
        "81234567890",
    ),
    case(
        "cisco-secure-email",
        "https://secure-web.cisco.com/1AbCdEfGhIjKlMnOp_QrStUvWxYz/https%3A%2F%2Facme.webex.com%2Facme%2Fj.php%3FMTID%3D"
        + WEBEX_MTID,
        "webex",
        WEBEX_J,
        WEBEX_MTID,
    ),
    case(
        "trendmicro",
        "https://imsva91-ctp.trendmicro.com:443/wis/clicktime/v1/query?url=https%3a%2f%2fmeet.google.com%2fabc-defg-hij&umid=1a2b3c&auth=abc",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "sophos",
        # u = base64("https://zoom.us/j/91234567890")
        "https://us-west-2.protection.sophos.com?d=zoom.us&u=aHR0cHM6Ly96b29tLnVzL2ovOTEyMzQ1Njc4OTA=&i=abc&t=def&h=ghi&s=1",
        "zoom",
        "https://zoom.us/j/91234567890",
        "91234567890",
    ),
    case(
        "fireeye",
        "https://protect2.fireeye.com/v1/url?k=1a2b3c4d-5e6f&q=1&e=abc&u=https%3A%2F%2Fchime.aws%2F1234567890",
        "chime",
        "https://chime.aws/1234567890",
        "1234567890",
    ),
    case(
        "google-meet-linkredirect",
        "https://meet.google.com/linkredirect?authuser=0&dest=https%3A%2F%2Fzoom.us%2Fj%2F91234567890",
        "zoom",
        "https://zoom.us/j/91234567890",
        "91234567890",
    ),
    negative("mimecast", "https://protect-us.mimecast.com/s/AbCdEfGhIjKlMnOp?domain=zoom.us"),
    negative(
        "safelinks-to-non-meeting",
        "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.acme.example%2Fagenda&data=05&reserved=0",
    ),
    negative(
        "google-redirect-to-download", "https://www.google.com/url?q=https://zoom.us/download&sa=D"
    ),
]

# --- Selection among several links, and mixed invitations --------------------------------------

MULTI = [
    case(
        "zoom-then-teams",
        f"Primary: {ZOOM_URL}\nBackup: {TEAMS_URL}",
        "zoom",
        ZOOM_URL,
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "teams-then-zoom",
        f"Join on Teams<{TEAMS_URL}> (or Zoom {ZOOM_URL})",
        "microsoft_teams",
        TEAMS_URL,
        THREAD,
    ),
    case(
        "newsletter-then-meet",
        NEWSLETTER_HTML + "<p>Town hall: https://meet.google.com/abc-defg-hij</p>",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    negative("newsletter-only", NEWSLETTER_HTML),
    case(
        "forwarded-zoom-inside-teams-footer",
        "---------- Forwarded message ---------\nFrom: Sam\nJoin Zoom Meeting https://zoom.us/j/91234567890\n"
        + TEAMS_FOOTER_WITHOUT_JOIN,
        "zoom",
        "https://zoom.us/j/91234567890",
        "91234567890",
    ),
    case(
        "meet-help-before-code",
        "Learn more about Meet at: https://support.google.com/a/users/answer/9282720\nhttps://meet.google.com/abc-defg-hij",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "webex-after-recording",
        "Last week's recording: https://acme.webex.com/acme/ldr.php?RCID=0123456789abcdef\n"
        f"This week: {WEBEX_J}",
        "webex",
        WEBEX_J,
        WEBEX_MTID,
    ),
    case(
        "same-link-href-and-text",
        f'<a href="{ZOOM_URL}">{ZOOM_URL}</a>',
        "zoom",
        ZOOM_URL,
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "link-glued-to-word",
        "Join:https://meet.google.com/abc-defg-hij.",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "nbsp-and-zero-width",
        "Join&nbsp;https://meet.google.com/abc-defg-hij&nbsp;now \u200bhttps://zoom.us/j/91234567890",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "unicode-punctuation",
        "\u4f1a\u8bae\u94fe\u63a5\uff1ahttps://zoom.us/j/91234567890\u3002\u5bc6\u7801\uff1a123456",
        "zoom",
        "https://zoom.us/j/91234567890",
        "91234567890",
    ),
]

# --- More real-world shapes ----------------------------------------------------------------------

TEAMS_BROADCAST = (
    "https://teams.microsoft.com/l/meetup-join/19%3ameeting_TGl2ZUV2ZW50%40thread.v2/0"
    "?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22"
    "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d%22%2c%22IsBroadcastMeeting%22%3atrue%7d"
)
# Outlook invitation as Google Calendar shows it to a Gmail guest: text, links through Google.
TEAMS_IN_GOOGLE_DESCRIPTION = (
    "________________________________________________________________________________<br>"
    "<b>Microsoft Teams meeting</b><br><b>Join on your computer, mobile app or room device</b><br>"
    '<a href="https://www.google.com/url?q=https://teams.microsoft.com/l/meetup-join/'
    "19%253ameeting_NjQ1ZmM0ZDUtYzEyMy00NDU2LWE3ODktYmMwMTIzNDU2Nzg5%2540thread.v2/0?context%3D"
    "%257b%2522Tid%2522%253a%252272f988bf-86f1-41af-91ab-2d7cd011db47%2522%252c%2522Oid%2522%253a"
    '%2522a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d%2522%257d&amp;sa=D&amp;source=calendar&amp;usd=2&amp;usg=AOvVaw1a">'
    "Click here to join the meeting</a><br>Meeting ID: 290 273 192 285<br>Passcode: CwEBTS<br>"
    '<a href="https://www.google.com/url?q=https://www.microsoft.com/en-us/microsoft-teams/download-app'
    '&amp;sa=D&amp;source=calendar">Download Teams</a>'
)

MORE = [
    case(
        "teams-live-event-broadcast",
        TEAMS_BROADCAST,
        "microsoft_teams",
        TEAMS_BROADCAST,
        "19:meeting_TGl2ZUV2ZW50@thread.v2",
    ),
    case(
        "teams-in-google-description",
        TEAMS_IN_GOOGLE_DESCRIPTION,
        "microsoft_teams",
        TEAMS_URL,
        THREAD,
    ),
    case(
        "proofpoint-us-government",
        "https://urldefense.us/v3/__https://agency.zoomgov.com/j/1612345678?pwd=R292UGFzcw.1__;!!BClRuOV5cvtbuNI!abc$",
        "zoom",
        "https://agency.zoomgov.com/j/1612345678?pwd=R292UGFzcw.1",
        "1612345678",
        "R292UGFzcw.1",
    ),
    case(
        "owa-redirect",
        "https://outlook.office365.com/owa/redir.aspx?REF=AbC123&URL=https%3a%2f%2fmeet.google.com%2fabc-defg-hij",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "webex-events-onstage",
        "Join the event: https://acme.webex.com/acme/onstage/g.php?MTID=e1a2b3c4d5e6f708192a3b4c5d6e7f809&RG=1",
        "webex",
        "https://acme.webex.com/acme/onstage/g.php?MTID=e1a2b3c4d5e6f708192a3b4c5d6e7f809",
        "e1a2b3c4d5e6f708192a3b4c5d6e7f809",
    ),
    case(
        "webex-free-site",
        "https://meetingsamer12.webex.com/meetingsamer12/j.php?MTID=m0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "webex",
        "https://meetingsamer12.webex.com/meetingsamer12/j.php?MTID=m0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "m0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    ),
    case(
        "zoom-with-port",
        "https://us02web.zoom.us:443/j/81234567890?pwd=" + ZOOM_PWD,
        "zoom",
        ZOOM_URL,
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "zoomus-scheme",
        "zoomus://zoom.us/join?confno=91234567890",
        "zoom",
        "https://zoom.us/j/91234567890",
        "91234567890",
    ),
    case(
        "meet-in-location-parentheses",
        "HQ-4-Atlas (meet.google.com/qxv-hmbt-rzk)",
        "google_meet",
        "https://meet.google.com/qxv-hmbt-rzk",
        "qxv-hmbt-rzk",
    ),
    case(
        "slack-formatted-link",
        "<https://zoom.us/j/91234567890|Join Zoom>",
        "zoom",
        "https://zoom.us/j/91234567890",
        "91234567890",
    ),
    case(
        "teams-short-link-in-html",
        '<a href="https://teams.microsoft.com/meet/2169458392745?p=kC3hG7zGz5pBQx&amp;anon=true">Join the meeting now</a>',
        "microsoft_teams",
        "https://teams.microsoft.com/meet/2169458392745?p=kC3hG7zGz5pBQx",
        "2169458392745",
        "kC3hG7zGz5pBQx",
    ),
    case(
        "gov-teams-short-link",
        "https://gov.teams.microsoft.us/meet/2169458392745?p=AbCd1234",
        "microsoft_teams",
        "https://gov.teams.microsoft.us/meet/2169458392745?p=AbCd1234",
        "2169458392745",
        "AbCd1234",
    ),
    negative(
        "teams-meetup-join-bad-message",
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/abc?context=%7b%22Tid%22%3a%22"
        + TID
        + "%22%2c%22Oid%22%3a%22"
        + OID
        + "%22%7d",
    ),
    negative("zoom-in-email-address", "Write to meetings@acme.zoom.us/j/81234567890 please"),
    negative(
        "google-redirect-to-recording",
        "https://www.google.com/url?q=https://acme.zoom.us/rec/share/AbC&sa=D",
    ),
    negative(
        "webex-registration",
        "https://acme.webex.com/weblink/register/r0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    ),
]

MISC_NEGATIVE = [
    negative("empty", ""),
    negative("whitespace", "   \n\t  "),
    negative("lunch", "Lunch with Priya at the usual place"),
    negative("in-person-address", "Conference room 4B, 1 Main St, Springfield"),
    negative("calendly", "Booked via https://calendly.com/acme/30min"),
    negative("docs-only", "Agenda: https://docs.google.com/document/d/1AbCdEfGh/edit?usp=sharing"),
    negative("youtube", "Watch live on https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    negative("tel-line", "Call tel:+1-555-010-0147 PIN 731598246#"),
    negative("word-zoom", "Let's zoom out and discuss the teams strategy, then meet at noon."),
    negative("ftp-scheme", "ftp://zoom.us/j/91234567890"),
    negative("javascript-scheme", "javascript:alert('https')"),
    negative("teams-word", "Microsoft Teams Meeting"),
]

# --- Formats users still paste (issue 13) ------------------------------------------------------

WEBEX_TRAINING_MTID = "t4c2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a"
WEBEX_EVENT_MTID = "e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a"
# A Webex invitation as the Outlook add-in writes it (2024 layout): j.php link first, then the
# app download, help and call-in pages on webex.com.
WEBEX_INVITE_HTML_2024 = f"""<div style="font-family:Arial">
<p><b>Product roadmap sync</b><br>Hosted by Priya Natarajan</p>
<p><a href="https://www.webex.com/downloads.html">Download the Webex app</a></p>
<p><a href="https://acme.webex.com/acme/j.php?MTID={WEBEX_MTID}&amp;from=addin">Join meeting</a></p>
<p>Meeting number: 2634 123 4567<br>Password: Xy7mQ2Pd3</p>
<p><a href="https://acme.webex.com/acme/globalcallin.php?MTID=m3f1a2b3c4d5e6f708192a3b4c5d6e7f8">Global call-in numbers</a>
| <a href="https://help.webex.com/en-us/article/nzvb0yh/Join-a-Webex-meeting">Need help?</a></p>
</div>"""

CHIME_APP_INVITE_TEXT = """Amazon Chime Meeting Invitation

Click to join the meeting: https://app.chime.aws/meetings/2842567391
Meeting ID: 2842 56 7391
Download Amazon Chime: https://aws.amazon.com/chime/download-chime/

Call in using your phone:
United States Toll (1): +1 206-462-5569
Meeting ID: 2842 56 7391

International: https://chime.aws/dialinnumbers/
"""

CHECKPOINT_SIG = (
    ".YzJ1OmFjbWVjb3JwOmM6bzo0ZjFhMmIzYzRkNWU2ZjcwODE5MmEzYjRjNWQ2ZTdmODo2OmE5Mjg6cDpUOkY"
)
CHECKPOINT_ZOOM = (
    f"https://protect.checkpoint.com/v2/r01/___https://us02web.zoom.us/j/81234567890?pwd={ZOOM_PWD}___"
    + CHECKPOINT_SIG
)
# Check Point writes "%" in the original URL as "*".
CHECKPOINT_TEAMS = (
    "https://protect.checkpoint.com/v2/r02/___"
    + TEAMS_URL.replace("%", "*")
    + "___"
    + CHECKPOINT_SIG
)
CHECKPOINT_OUTLOOK_HTML = (
    '<p class="MsoNormal">Join Zoom Meeting<br><a href="'
    + CHECKPOINT_ZOOM.replace(".1___", ".1&amp;uname=Dana___")
    + '">Click here to join</a></p><p>Meeting ID: 812 3456 7890<br>Passcode: 482913</p>'
)


def references(text: str, hexadecimal: bool = False) -> str:
    """Every character as an HTML numeric character reference, as link-hiding senders write."""
    return "".join(f"&#x{ord(c):x};" if hexadecimal else f"&#{ord(c)};" for c in text)


PASTED = [
    # Webex j.php links, on site subdomains, including /e/j.php and training-centre paths.
    webex_case(
        "webex-e-j-php",
        f"Join the event: https://acme.webex.com/acme/e/j.php?MTID={WEBEX_EVENT_MTID}",
        f"https://acme.webex.com/acme/e/j.php?MTID={WEBEX_EVENT_MTID}",
        WEBEX_EVENT_MTID,
    ),
    webex_case(
        "webex-e-j-php-site-root",
        f"https://globex.webex.com/e/j.php?MTID={WEBEX_MTID}&amp;from=calendar",
        f"https://globex.webex.com/e/j.php?MTID={WEBEX_MTID}",
        WEBEX_MTID,
    ),
    webex_case(
        "webex-j-php-site-root",
        f"Webex: https://acme.webex.com/j.php?MTID={WEBEX_MTID}",
        f"https://acme.webex.com/j.php?MTID={WEBEX_MTID}",
        WEBEX_MTID,
    ),
    webex_case(
        "webex-training-k2-j-php",
        f"https://acme.webex.com/acme/k2/j.php?MTID={WEBEX_TRAINING_MTID}",
        f"https://acme.webex.com/acme/k2/j.php?MTID={WEBEX_TRAINING_MTID}",
        WEBEX_TRAINING_MTID,
    ),
    webex_case(
        "webex-j-php-my-subdomain",
        f"https://acme-sales.my.webex.com/acme-sales.my/j.php?MTID={WEBEX_MTID}",
        f"https://acme-sales.my.webex.com/acme-sales.my/j.php?MTID={WEBEX_MTID}",
        WEBEX_MTID,
    ),
    webex_case(
        "webex-j-php-without-scheme",
        f"Location: acme.webex.com/acme/j.php?MTID={WEBEX_MTID}",
        WEBEX_J,
        WEBEX_MTID,
    ),
    webex_case("webex-invite-html-2024", WEBEX_INVITE_HTML_2024, WEBEX_J, WEBEX_MTID),
    negative(
        "webex-help-article", "https://help.webex.com/en-us/article/nzvb0yh/Join-a-Webex-meeting"
    ),
    negative("webex-help-j-php", f"https://help.webex.com/j.php?MTID={WEBEX_MTID}"),
    negative("webex-support-site", "https://support.webex.com/en-us/knowledge-base"),
    negative("webex-status-page", "https://status.webex.com/"),
    negative("webex-e-j-php-without-mtid", "https://acme.webex.com/acme/e/j.php?from=calendar"),
    negative("webex-j-php-short-mtid", "https://acme.webex.com/acme/j.php?MTID=m1"),
    # Amazon Chime web-app links.
    case(
        "chime-app-meetings-path",
        "https://app.chime.aws/meetings/1234567890",
        "chime",
        "https://chime.aws/1234567890",
        "1234567890",
    ),
    case(
        "chime-app-meetings-path-trailing-slash",
        "Join: https://app.chime.aws/meetings/1234567890/",
        "chime",
        "https://chime.aws/1234567890",
        "1234567890",
    ),
    case(
        "chime-app-invite",
        CHIME_APP_INVITE_TEXT,
        "chime",
        "https://chime.aws/2842567391",
        "2842567391",
    ),
    case(
        "chime-app-personalized",
        "https://app.chime.aws/meetings/acmesupport",
        "chime",
        "https://chime.aws/acmesupport",
        "acmesupport",
    ),
    case(
        "chime-app-without-scheme",
        "Chime: app.chime.aws/meetings/1234567890",
        "chime",
        "https://chime.aws/1234567890",
        "1234567890",
    ),
    negative("chime-app-meetings-list", "https://app.chime.aws/meetings/"),
    negative("chime-app-home", "https://app.chime.aws/"),
    negative("chime-app-download", "https://app.chime.aws/meetings/download"),
    negative("chime-app-join-page", "https://app.chime.aws/meetings/join"),
    negative("chime-app-extra-segment", "https://app.chime.aws/meetings/1234567890/recordings"),
    negative("chime-aws-download", "https://aws.amazon.com/chime/download-chime/"),
    negative("chime-answers", "https://answers.chime.aws/articles/1234/joining-a-meeting.html"),
    # Check Point Harmony Email (and Avanan) click-time protection.
    case("checkpoint-v2-zoom", CHECKPOINT_ZOOM, "zoom", ZOOM_URL, "81234567890", ZOOM_PWD),
    case(
        "checkpoint-v2-teams-star-escapes", CHECKPOINT_TEAMS, "microsoft_teams", TEAMS_URL, THREAD
    ),
    case(
        "checkpoint-v2-collapsed-slash",
        "https://protect.checkpoint.com/v2/___https:/meet.google.com/abc-defg-hij___"
        + CHECKPOINT_SIG,
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    webex_case(
        "checkpoint-v2-encoded-scheme",
        f"https://protect.checkpoint.com/v2/r05/___https%3A//acme.webex.com/acme/j.php?MTID={WEBEX_MTID}___"
        + CHECKPOINT_SIG,
        WEBEX_J,
        WEBEX_MTID,
    ),
    case(
        "checkpoint-v2-outlook-html",
        CHECKPOINT_OUTLOOK_HTML,
        "zoom",
        ZOOM_URL,
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "checkpoint-v1-url-protection",
        "https://checkpoint.url-protection.com/v1/url?o=https%3A//zoom.us/j/91234567890%3Fpwd%3DZm9v.1"
        "&g=NWQ3N2JlOTQwYmM3NDU0YQ==&h=MTMxNmM2YWRl&p=YzJlOmFjbWU",
        "zoom",
        "https://zoom.us/j/91234567890?pwd=Zm9v.1",
        "91234567890",
        "Zm9v.1",
    ),
    case(
        "checkpoint-v1-regional",
        "https://avanan.url-protection.com/v1/r01/url?o=https%3A//meet.google.com/abc-defg-hij&g=YWQ2ODVk",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "avanan-v2",
        "https://url.avanan.click/v2/___https://chime.aws/1234567890___.YXAzOmFjbWU6YTpvOjEyMzQ",
        "chime",
        "https://chime.aws/1234567890",
        "1234567890",
    ),
    case(
        "safelinks-wrapping-checkpoint",
        "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fprotect.checkpoint.com%2Fv2%2F"
        "___https%3A%2F%2Fzoom.us%2Fj%2F91234567890___.YzJ1OmFj&data=05%7C02&reserved=0",
        "zoom",
        "https://zoom.us/j/91234567890",
        "91234567890",
    ),
    negative(
        "checkpoint-v2-zoom-download",
        "https://protect.checkpoint.com/v2/___https://zoom.us/download___" + CHECKPOINT_SIG,
    ),
    negative(
        "checkpoint-v2-webex-help",
        "https://protect.checkpoint.com/v2/r01/___https://help.webex.com/en-us/article/nzvb0yh___"
        + CHECKPOINT_SIG,
    ),
    negative(
        "checkpoint-v2-non-meeting",
        "https://protect.checkpoint.com/v2/___https://www.acme.example/agenda___" + CHECKPOINT_SIG,
    ),
    negative(
        "checkpoint-v2-unterminated", "https://protect.checkpoint.com/v2/___https://zoom.us/j/"
    ),
    negative("checkpoint-home", "https://www.checkpoint.com/harmony/email-security/"),
    negative("checkpoint-support", "https://support.checkpoint.com/results/sk/sk172426"),
    negative("checkpoint-v1-without-target", "https://checkpoint.url-protection.com/v1/url?g=NWQ3"),
    # URLs written with HTML numeric character references.
    case(
        "html-hex-references-scheme",
        # The references run into the host: read back from ".us/", it would be "02web.zoom.us".
        '<a href="&#x68;&#x74;&#x74;&#x70;&#x73;&#x3a;&#x2f;&#x2f;&#x75;&#x73;02web.zoom.us/j/81234567890?pwd='
        + ZOOM_PWD
        + '">Join Zoom Meeting</a>',
        "zoom",
        ZOOM_URL,
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "html-decimal-references-scheme",
        "Join: &#104;&#116;&#116;&#112;&#115;://meet.google.com/abc-defg-hij",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "html-decimal-references-whole-url",
        f'<a href="{references(TEAMS_URL)}">Join the meeting now</a>',
        "microsoft_teams",
        TEAMS_URL,
        THREAD,
    ),
    webex_case(
        "html-hex-references-whole-url",
        "Join meeting: " + references(WEBEX_J, hexadecimal=True).upper().replace("&#X", "&#x"),
        WEBEX_J,
        WEBEX_MTID,
    ),
    case(
        "html-references-without-semicolons",
        "&#104&#116&#116&#112&#115&#58&#47&#47zoom.us/j/91234567890",
        "zoom",
        "https://zoom.us/j/91234567890",
        "91234567890",
    ),
    negative(
        "html-references-zoom-download",
        "&#x68;&#x74;&#x74;&#x70;&#x73;&#x3a;&#x2f;&#x2f;zoom.us/download",
    ),
    negative("html-references-zoom-support", references("https://support.zoom.us/hc/en-us")),
    # A URL followed by a percent-encoded ">" (and maybe preceded by "%3C").
    case(
        "encoded-angle-zoom",
        "Join Zoom Meeting%3Chttps://us02web.zoom.us/j/81234567890%3E",
        "zoom",
        "https://us02web.zoom.us/j/81234567890",
        "81234567890",
    ),
    case(
        "encoded-angle-zoom-passcode",
        f"Join Zoom Meeting%3C{ZOOM_URL}%3E",
        "zoom",
        ZOOM_URL,
        "81234567890",
        ZOOM_PWD,
    ),
    case(
        "encoded-angle-meet",
        "Google Meet: https://meet.google.com/abc-defg-hij%3E",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "encoded-angle-teams-short-link",
        "Join the meeting now%3Chttps://teams.microsoft.com/meet/2169458392745?p=kC3hG7zGz5pBQx%3E",
        "microsoft_teams",
        "https://teams.microsoft.com/meet/2169458392745?p=kC3hG7zGz5pBQx",
        "2169458392745",
        "kC3hG7zGz5pBQx",
    ),
    case(
        "encoded-angle-teams-meetup-join",
        f"Microsoft Teams meeting: {TEAMS_URL}%3e",
        "microsoft_teams",
        TEAMS_URL,
        THREAD,
    ),
    webex_case("encoded-angle-webex", f"Join: {WEBEX_J}%3E%20from%20Webex", WEBEX_J, WEBEX_MTID),
    case(
        "encoded-angle-inside-google-redirect",
        "https://www.google.com/url?q=https://meet.google.com/abc-defg-hij%3E&sa=D&source=calendar",
        "google_meet",
        "https://meet.google.com/abc-defg-hij",
        "abc-defg-hij",
    ),
    case(
        "encoded-angle-without-scheme",
        "Zoom: %3Czoom.us/j/91234567890%3E",
        "zoom",
        "https://zoom.us/j/91234567890",
        "91234567890",
    ),
    case(
        "encoded-angle-then-another-link",
        "Agenda%3Chttps://acme.example/agenda%3E%3Chttps://zoom.us/j/91234567890%3E",
        "zoom",
        "https://zoom.us/j/91234567890",
        "91234567890",
    ),
    negative("encoded-angle-zoom-download", "Get Zoom%3Chttps://zoom.us/download%3E"),
    # Read back from ".us/", the host would be "40acme.zoom.us": "%40" is an encoded "@".
    negative("zoom-in-encoded-email-address", "mailto:meetings%40acme.zoom.us/j/81234567890"),
    negative("encoded-angle-meet-help", "%3Chttps://support.google.com/meet%3E"),
]

CASES = (
    ZOOM + MEET + TEAMS + WEBEX + GOTO + OTHERS + WRAPPERS + MULTI + MORE + PASTED + MISC_NEGATIVE
)

"""FakeMicrosoft exercised with msal (identity platform) and requests (Graph)."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import msal
import pytest
import requests

from tests.fakes import Attendee, Conference, Person, Recurrence

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
DANA = "dana@contoso.com"
REDIRECT = "https://calsync.test/oauth/microsoft/callback"
GRAPH_SCOPES = [
    "https://graph.microsoft.com/Calendars.Read",
    "https://graph.microsoft.com/User.Read",
]
JUNE = "startDateTime=2024-06-01T00:00:00Z&endDateTime=2024-07-01T00:00:00Z"


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 6, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def ms(fake_microsoft):
    fake_microsoft.add_account(DANA, name="Dana Lee")
    return fake_microsoft


@pytest.fixture
def graph(settings, ms):
    """A requests session as production code would use it: bearer token, base URL from settings."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ms.issue_access_token(DANA)}"
    session.base = settings.MICROSOFT_GRAPH_URL
    return session


def msal_app(settings, ms, **kwargs):
    # A fresh app per call: msal caches HTTP 400 answers for 60 s inside one instance.
    return msal.ConfidentialClientApplication(
        ms.client_id,
        client_credential=ms.client_secret,
        authority=f"{settings.MICROSOFT_AUTHORITY_HOST}/common",
        instance_discovery=False,
        **kwargs,
    )


def delta_round(graph, url, page_size=2, **headers):
    """Follow nextLinks to the deltaLink; returns (pages, values, deltaLink)."""
    headers = {"Prefer": f"odata.maxpagesize={page_size}", **headers}
    pages = []
    while True:
        response = graph.get(url, headers=headers, timeout=5)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if "@odata.nextLink" in pages[-1]:
            url = pages[-1]["@odata.nextLink"]
            continue
        return pages, [v for page in pages for v in page["value"]], pages[-1]["@odata.deltaLink"]


# --- identity platform -----------------------------------------------------------------------


def test_msal_code_flow_then_refresh_rotation(settings, ms):
    app = msal_app(settings, ms)
    code = ms.issue_code(DANA, redirect_uri=REDIRECT)
    result = app.acquire_token_by_authorization_code(code, GRAPH_SCOPES, redirect_uri=REDIRECT)
    assert "error" not in result, result
    assert result["token_type"] == "Bearer"
    assert result["id_token_claims"]["preferred_username"] == DANA
    assert result["scope"].split() == GRAPH_SCOPES
    first_refresh = result["refresh_token"]

    refreshed = app.acquire_token_by_refresh_token(first_refresh, GRAPH_SCOPES)
    assert "error" not in refreshed, refreshed
    assert refreshed["refresh_token"] != first_refresh
    use = ms.refresh_uses[-1]
    assert (use.used, use.issued) == (first_refresh, refreshed["refresh_token"])
    assert ms.current_refresh_token(DANA) == refreshed["refresh_token"]

    # Like Entra ID, the replaced token still works unless told otherwise
    assert "access_token" in msal_app(settings, ms).acquire_token_by_refresh_token(
        first_refresh, GRAPH_SCOPES
    )
    replay = msal_app(settings, ms).acquire_token_by_authorization_code(
        code, GRAPH_SCOPES, redirect_uri=REDIRECT
    )
    assert (replay["error"], replay["error_codes"]) == ("invalid_grant", [54005])


def test_rotated_refresh_tokens_can_be_invalidated(settings, ms):
    ms.invalidate_rotated_refresh_tokens = True
    old = ms.grant(DANA)
    assert "access_token" in msal_app(settings, ms).acquire_token_by_refresh_token(
        old, GRAPH_SCOPES
    )
    again = msal_app(settings, ms).acquire_token_by_refresh_token(old, GRAPH_SCOPES)
    assert (again["error"], again["error_codes"]) == ("invalid_grant", [70000])


@pytest.mark.parametrize("code", [50173, 700082, 70000])
def test_dead_grants_answer_invalid_grant_with_aadsts_codes(settings, ms, code):
    refresh_token = ms.grant(DANA)
    ms.revoke_grant(DANA, error_code=code)
    result = msal_app(settings, ms).acquire_token_by_refresh_token(refresh_token, GRAPH_SCOPES)
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [code]
    assert result["error_description"].startswith(f"AADSTS{code}:")


def test_wrong_client_secret(settings, ms):
    app = msal.ConfidentialClientApplication(
        ms.client_id,
        client_credential="wrong",
        authority=f"{settings.MICROSOFT_AUTHORITY_HOST}/common",
        instance_discovery=False,
    )
    result = app.acquire_token_by_refresh_token(ms.grant(DANA), GRAPH_SCOPES)
    assert (result["error"], result["error_codes"]) == ("invalid_client", [7000215])


def test_instance_discovery_endpoint_is_served(settings, ms):
    app = msal.ConfidentialClientApplication(
        ms.client_id,
        client_credential=ms.client_secret,
        authority=f"{ms.url}/organizations",
        instance_discovery=f"{ms.url}/common/discovery/instance",
    )
    result = app.acquire_token_by_refresh_token(ms.grant(DANA), GRAPH_SCOPES)
    assert "access_token" in result
    assert ms.count(route="oidc.instance") == 1


def test_authorize_endpoint_consents_and_redirects(settings, ms):
    flow = msal_app(settings, ms).initiate_auth_code_flow(GRAPH_SCOPES, redirect_uri=REDIRECT)
    response = requests.get(flow["auth_uri"], allow_redirects=False, timeout=5)
    assert response.status_code == 302
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}
    result = msal_app(settings, ms).acquire_token_by_auth_code_flow(flow, query)
    assert "access_token" in result, result
    assert "refresh_token" in result

    ms.deny_consent = True
    response = requests.get(flow["auth_uri"], allow_redirects=False, timeout=5)
    assert "error=access_denied" in response.headers["Location"]


# --- Graph -----------------------------------------------------------------------------------


def test_me_and_calendars(ms, graph):
    shared = ms.add_calendar(
        DANA, name="Team OOO", owner_name="Priya", owner_email="priya@contoso.com"
    )
    me = graph.get(graph.base + "me", timeout=5).json()
    assert (me["mail"], me["userPrincipalName"], me["displayName"]) == (DANA, DANA, "Dana Lee")
    calendars = graph.get(graph.base + "me/calendars", timeout=5).json()["value"]
    assert [c["isDefaultCalendar"] for c in calendars] == [True, False]
    assert calendars[1]["id"] == shared
    assert calendars[1]["owner"]["address"] == "priya@contoso.com"


def test_calendar_view_delta_rounds(ms, graph):
    teams = ms.add_event(
        DANA,
        summary="Quarterly planning",
        start=at(3, 18),
        end=at(3, 19),
        organizer=Person("priya@contoso.com", "Priya Natarajan"),
        attendees=(Attendee(DANA, "Dana Lee", "accepted"), Attendee("lee@contoso.com")),
        conference=Conference("teams", "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x"),
    )
    single = ms.add_event(DANA, summary="Zoom call", start=at(4, 15), end=at(4, 16))
    standup = ms.add_event(
        DANA,
        summary="Standup",
        start=dt.datetime(2024, 6, 5, 10, tzinfo=NY),
        end=dt.datetime(2024, 6, 5, 10, 15, tzinfo=NY),
        time_zone="America/New_York",
        recurrence=Recurrence("DAILY", count=3),
    )
    offsite = ms.add_event(
        DANA, summary="Offsite", start=dt.date(2024, 6, 7), end=dt.date(2024, 6, 8)
    )

    pages, values, delta_link = delta_round(graph, f"{graph.base}me/calendarView/delta?{JUNE}")
    assert len(pages) == 3
    assert all("@odata.deltaLink" not in page for page in pages[:-1])
    assert delta_link.startswith(graph.base + "me/calendarView/delta?$deltatoken=")
    by_subject = {}
    for value in values:
        by_subject.setdefault(value["subject"], []).append(value)
    assert {v["type"] for v in by_subject["Standup"]} == {"occurrence"}
    assert {v["seriesMasterId"] for v in by_subject["Standup"]} == {standup}
    meeting = by_subject["Quarterly planning"][0]
    assert meeting["isOnlineMeeting"] is True
    assert meeting["onlineMeetingProvider"] == "teamsForBusiness"
    assert meeting["onlineMeeting"]["joinUrl"].startswith("https://teams.microsoft.com/")
    assert meeting["isOrganizer"] is False
    assert meeting["responseStatus"]["response"] == "accepted"
    assert meeting["start"] == {"dateTime": "2024-06-03T18:00:00.0000000", "timeZone": "UTC"}
    all_day = by_subject["Offsite"][0]
    assert all_day["isAllDay"] is True
    assert all_day["end"]["dateTime"] == "2024-06-08T00:00:00.0000000"

    ms.update_event(teams, summary="Quarterly planning (v2)")
    ms.delete_event(single)
    cancelled = ms.cancel_instance(standup, dt.datetime(2024, 6, 6, 10, tzinfo=NY))
    ms.move_event(offsite, dt.date(2024, 8, 7), dt.date(2024, 8, 8))  # out of the window
    ms.add_event(
        DANA, summary="far away", start=at(3, 9).replace(month=9), end=at(3, 10).replace(month=9)
    )

    _, changes, delta_link = delta_round(graph, delta_link, page_size=10)
    updated = [v for v in changes if "@removed" not in v]
    removed = {v["id"] for v in changes if "@removed" in v}
    assert [v["subject"] for v in updated] == ["Quarterly planning (v2)"]
    assert {single, cancelled, offsite} <= removed
    assert len(removed) == 4  # + the out-of-window newcomer: Graph-style noise to filter
    assert all(v["@removed"] == {"reason": "deleted"} for v in changes if "@removed" in v)

    _, nothing, _ = delta_round(graph, delta_link)
    assert nothing == []


def test_delta_prefer_timezone_and_calendar_specific_path(ms, graph):
    other = ms.add_calendar(DANA, name="Side")
    ms.add_event(
        DANA, summary="in side calendar", start=at(3, 18), end=at(3, 19), calendar_id=other
    )
    headers = {"Prefer": 'outlook.timezone="Pacific Standard Time"'}
    response = graph.get(
        f"{graph.base}me/calendars/{other}/calendarView/delta?{JUNE}", headers=headers, timeout=5
    )
    (value,) = response.json()["value"]
    assert value["start"] == {
        "dateTime": "2024-06-03T11:00:00.0000000",
        "timeZone": "Pacific Standard Time",
    }
    assert 'outlook.timezone="Pacific Standard Time"' in response.headers["Preference-Applied"]
    default = graph.get(f"{graph.base}me/calendarView/delta?{JUNE}", timeout=5).json()
    assert default["value"] == []


def test_delta_requires_a_window_and_expired_tokens_are_410(ms, graph):
    missing = graph.get(graph.base + "me/calendarView/delta", timeout=5)
    assert missing.status_code == 400
    _, _, delta_link = delta_round(graph, f"{graph.base}me/calendarView/delta?{JUNE}")
    ms.invalidate_delta_tokens(DANA)
    gone = graph.get(delta_link, timeout=5)
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "SyncStateNotFound"
    assert "request-id" in gone.json()["error"]["innerError"]


@pytest.mark.parametrize("status,code", [(429, "TooManyRequests"), (503, "serviceNotAvailable")])
def test_throttling_with_retry_after(ms, graph, status, code):
    ms.fail_next(1, status, retry_after=7)
    response = graph.get(graph.base + "me/calendars", timeout=5)
    assert response.status_code == status
    assert response.headers["Retry-After"] == "7"
    assert response.json()["error"]["code"] == code
    assert graph.get(graph.base + "me/calendars", timeout=5).status_code == 200


def test_expired_access_token_is_401(ms, graph):
    ms.expire_access_tokens(DANA)
    response = graph.get(graph.base + "me", timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert (
        response.json()["error"]["message"] == "Lifetime validation failed, the token is expired."
    )
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_attendee_copy_of_a_cancelled_meeting_lingers(ms, graph):
    meeting = ms.add_event(
        DANA,
        summary="Vendor call",
        start=at(3, 18),
        end=at(3, 19),
        organizer=Person("x@vendor.example"),
    )
    ms.cancel_event(meeting)
    (value,) = graph.get(f"{graph.base}me/calendarView?{JUNE}", timeout=5).json()["value"]
    assert (value["subject"], value["isCancelled"]) == ("Canceled: Vendor call", True)


# --- subscriptions ---------------------------------------------------------------------------


def subscribe(ms, graph, receiver, **overrides):
    body = {
        "changeType": "created,updated,deleted",
        "notificationUrl": f"{receiver.url}/notify",
        "lifecycleNotificationUrl": f"{receiver.url}/lifecycle",
        "resource": "/me/events",
        "expirationDateTime": (ms.now() + dt.timedelta(days=2)).isoformat(),
        "clientState": "v1.acct_42.9d2e4b7c1f",
        **overrides,
    }
    return graph.post(graph.base + "subscriptions", json=body, timeout=15)


def test_subscription_handshake_notifications_and_lifecycle(ms, graph, webhook_receiver):
    ms.synchronous_delivery = True
    created = subscribe(ms, graph, webhook_receiver)
    assert created.status_code == 201, created.text
    subscription = created.json()
    handshakes = [r for r in webhook_receiver.requests if "validationToken" in r.query]
    assert [r.path for r in handshakes] == ["/notify", "/lifecycle"]
    assert handshakes[0].query["validationToken"][0].startswith("Validation: Testing client")

    event_id = ms.add_event(DANA, summary="new", start=at(3, 18), end=at(3, 19))
    (notification,) = webhook_receiver.received("/notify")
    (item,) = notification.json()["value"]
    assert item["subscriptionId"] == subscription["id"]
    assert item["clientState"] == "v1.acct_42.9d2e4b7c1f"
    assert item["changeType"] == "created"
    assert item["resourceData"]["id"] == event_id
    assert item["resource"].endswith(f"/Events/{event_id}")

    renewed_until = (ms.now() + dt.timedelta(days=2, hours=1)).replace(microsecond=0)
    renewed = graph.patch(
        f"{graph.base}subscriptions/{subscription['id']}",
        json={"expirationDateTime": renewed_until.isoformat()},
        timeout=5,
    )
    assert renewed.status_code == 200
    assert renewed.json()["expirationDateTime"] == renewed_until.strftime("%Y-%m-%dT%H:%M:%SZ")

    ms.send_lifecycle_event(subscription["id"], "reauthorizationRequired")
    reauthorized = graph.post(
        f"{graph.base}subscriptions/{subscription['id']}/reauthorize", timeout=5
    )
    assert reauthorized.status_code == 204
    ms.send_lifecycle_event(subscription["id"], "missed")
    (first, second) = webhook_receiver.received("/lifecycle")
    assert first.json()["value"][0]["lifecycleEvent"] == "reauthorizationRequired"
    assert second.json()["value"][0]["lifecycleEvent"] == "missed"

    deleted = graph.delete(f"{graph.base}subscriptions/{subscription['id']}", timeout=5)
    assert deleted.status_code == 204
    ms.update_event(event_id, summary="after delete")
    assert len(webhook_receiver.received("/notify")) == 1
    assert (
        graph.get(f"{graph.base}subscriptions/{subscription['id']}", timeout=5).status_code == 404
    )


def test_subscription_removed_lifecycle_deletes_it(ms, graph, webhook_receiver):
    ms.synchronous_delivery = True
    subscription = subscribe(ms, graph, webhook_receiver).json()
    ms.send_lifecycle_event(subscription["id"], "subscriptionRemoved")
    assert ms.active_subscriptions() == []
    ms.add_event(DANA, summary="unseen", start=at(3, 18), end=at(3, 19))
    assert webhook_receiver.received("/notify") == []


@pytest.mark.parametrize(
    "behaviour,message",
    [
        ({"validation": "wrong"}, "must exactly match"),
        ({"validation": "json"}, "text/plain"),
        ({"validation": "ignore", "status": 500}, "200 OK"),
    ],
)
def test_subscription_validation_failures(ms, graph, webhook_receiver, behaviour, message):
    webhook_receiver.behave("/lifecycle", **behaviour)
    response = subscribe(ms, graph, webhook_receiver)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ValidationError"
    assert message in response.json()["error"]["message"]
    assert ms.subscriptions == []


def test_subscription_validation_timeout(ms, graph, webhook_receiver):
    ms.validation_timeout = 0.3
    webhook_receiver.behave("/notify", delay=1.0)
    response = subscribe(ms, graph, webhook_receiver)
    assert response.status_code == 400
    assert "timed out" in response.json()["error"]["message"]


def test_subscription_expiration_limit(ms, graph, webhook_receiver):
    too_long = (ms.now() + dt.timedelta(minutes=4231)).isoformat()
    response = subscribe(ms, graph, webhook_receiver, expirationDateTime=too_long)
    assert response.status_code == 400
    assert "4230 minutes" in response.json()["error"]["message"]


def test_plain_calendar_view_paging_and_event_get(ms, graph):
    series = ms.add_event(
        DANA,
        summary="Daily",
        start=at(3, 9),
        end=at(3, 9, 15),
        recurrence=Recurrence("DAILY", count=5),
    )
    pages, url = [], f"{graph.base}me/calendarView?{JUNE}&$top=2"
    while url:
        pages.append(graph.get(url, timeout=5).json())
        url = pages[-1].get("@odata.nextLink")
    assert [len(page["value"]) for page in pages] == [2, 2, 1]
    occurrence = pages[0]["value"][1]
    assert occurrence["type"] == "occurrence"
    assert occurrence["originalStart"] == "2024-06-04T09:00:00Z"
    fetched = graph.get(f"{graph.base}me/events/{occurrence['id']}", timeout=5).json()
    assert fetched["id"] == occurrence["id"]
    master = graph.get(f"{graph.base}me/events/{series}", timeout=5).json()
    assert master["type"] == "seriesMaster"
    assert master["recurrence"]["range"] == {
        "type": "numbered",
        "startDate": "2024-06-03",
        "endDate": "0001-01-01",
        "recurrenceTimeZone": "UTC",
        "numberOfOccurrences": 5,
    }
    assert graph.get(f"{graph.base}me/events/nope", timeout=5).status_code == 404


def test_delta_switches_duplicates_and_no_noise(ms, graph):
    ms.add_event(DANA, summary="a", start=at(3, 9), end=at(3, 10))
    ms.duplicate_delta_items = True
    _, values, delta_link = delta_round(graph, f"{graph.base}me/calendarView/delta?{JUNE}", 10)
    assert [v["subject"] for v in values] == ["a", "a"]
    ms.duplicate_delta_items = False
    ms.removed_noise = False
    ms.add_event(
        DANA, summary="outside", start=at(3, 9).replace(month=9), end=at(3, 10).replace(month=9)
    )
    _, values, _ = delta_round(graph, delta_link)
    assert values == []

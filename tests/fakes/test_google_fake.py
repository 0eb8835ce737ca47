"""FakeGoogle exercised with the real client libraries (googleapiclient, google-auth, requests)."""

import datetime as dt
import time
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import jwt
import pytest
import requests
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request as AuthRequest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from tests.fakes import Attendee, Conference, Person, Recurrence
from tests.fakes.generators import populate

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
DANA = "dana.lee@example.com"
REDIRECT = "https://calsync.test/oauth/google/callback"
JUNE_3 = dt.datetime(2024, 6, 3, 14, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 6, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def google(fake_google):
    fake_google.add_account(DANA, name="Dana Lee", time_zone="America/New_York")
    return fake_google


def calendar_service(settings, google, refresh_token):
    credentials = Credentials(
        None,
        refresh_token=refresh_token,
        token_uri=settings.GOOGLE_OAUTH_TOKEN_URL,
        client_id=google.client_id,
        client_secret=google.client_secret,
    )
    return build(
        "calendar",
        "v3",
        credentials=credentials,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": settings.GOOGLE_CALENDAR_API_URL},
    )


@pytest.fixture
def service(settings, google):
    return calendar_service(settings, google, google.grant(DANA))


def list_all(service, **params):
    """Full listing via list_next; returns (pages, items)."""
    pages, request = [], service.events().list(calendarId="primary", **params)
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = service.events().list_next(request, page)
    return pages, [item for page in pages for item in page["items"]]


# --- OAuth -----------------------------------------------------------------------------------


def authorize(settings, google, **params):
    query = {
        "client_id": google.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid email https://www.googleapis.com/auth/calendar.readonly",
        "state": "st4te",
        **params,
    }
    response = requests.get(
        settings.GOOGLE_OAUTH_AUTHORIZE_URL, params=query, allow_redirects=False, timeout=5
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(settings, google, code, **overrides):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": google.client_id,
        "client_secret": google.client_secret,
        "redirect_uri": REDIRECT,
        **overrides,
    }
    return requests.post(settings.GOOGLE_OAUTH_TOKEN_URL, data=form, timeout=5)


def test_consent_redirect_then_single_use_code_exchange(settings, google):
    redirect = authorize(settings, google, access_type="offline", prompt="consent")
    assert redirect["state"] == "st4te"

    response = exchange(settings, google, redirect["code"])
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3599
    assert tokens["refresh_token"].startswith("1//")
    assert "https://www.googleapis.com/auth/calendar.readonly" in tokens["scope"].split()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["email"] == DANA
    assert claims["aud"] == google.client_id

    replay = exchange(settings, google, redirect["code"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


def test_refresh_token_only_on_first_offline_consent_or_prompt_consent(settings, google):
    first = exchange(settings, google, authorize(settings, google, access_type="offline")["code"])
    again = exchange(settings, google, authorize(settings, google, access_type="offline")["code"])
    forced = exchange(
        settings,
        google,
        authorize(settings, google, access_type="offline", prompt="consent")["code"],
    )
    assert "refresh_token" in first.json()
    assert "refresh_token" not in again.json()
    assert "refresh_token" in forced.json()


def test_code_exchange_checks_client_redirect_and_can_omit_refresh_token(settings, google):
    bad_secret = exchange(settings, google, google.issue_code(DANA), client_secret="nope")
    assert (bad_secret.status_code, bad_secret.json()["error"]) == (401, "invalid_client")

    code = google.issue_code(DANA, redirect_uri=REDIRECT)
    mismatch = exchange(settings, google, code, redirect_uri="https://evil.test/cb")
    assert (mismatch.status_code, mismatch.json()["error"]) == (400, "redirect_uri_mismatch")

    no_refresh = exchange(settings, google, google.issue_code(DANA, refresh_token=False))
    assert no_refresh.status_code == 200
    assert "refresh_token" not in no_refresh.json()

    narrow = exchange(settings, google, google.issue_code(DANA, scopes="openid email"))
    assert narrow.json()["scope"] == "openid https://www.googleapis.com/auth/userinfo.email"


def test_google_auth_refresh_and_revoked_grant(settings, google):
    credentials = Credentials(
        None,
        refresh_token=google.grant(DANA),
        token_uri=settings.GOOGLE_OAUTH_TOKEN_URL,
        client_id=google.client_id,
        client_secret=google.client_secret,
    )
    credentials.refresh(AuthRequest())
    assert credentials.token.startswith("ya29.")
    assert google.refresh_uses[-1].email == DANA

    google.revoke_grant(DANA)
    with pytest.raises(RefreshError) as excinfo:
        credentials.refresh(AuthRequest())
    assert excinfo.value.args[1] == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    assert excinfo.value.retryable is False


def test_userinfo_needs_a_valid_bearer_token(settings, google):
    token = google.issue_access_token(DANA)
    info = requests.get(
        settings.GOOGLE_USERINFO_URL, headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).json()
    assert info["email"] == DANA
    assert info["email_verified"] is True
    assert info["sub"].isdigit()

    legacy = requests.get(
        f"{google.url}/oauth2/v2/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).json()
    assert legacy["verified_email"] is True

    google.expire_access_tokens(DANA)
    denied = requests.get(
        settings.GOOGLE_USERINFO_URL, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert denied.status_code == 401
    assert denied.json()["error"] == "invalid_request"


# --- Calendar API ----------------------------------------------------------------------------


def test_calendar_list_has_primary_and_secondary(google, service):
    team = google.add_calendar(DANA, summary="Team OOO", access_role="reader")
    result = service.calendarList().list().execute()
    entries = {entry["id"]: entry for entry in result["items"]}
    assert entries[DANA]["primary"] is True
    assert entries[DANA]["accessRole"] == "owner"
    assert entries[team]["accessRole"] == "reader"
    assert "primary" not in entries[team]
    assert result["nextSyncToken"]


def test_full_sync_pages_then_incremental_changes(google, service):
    zoom = google.add_event(
        DANA,
        summary="Vendor sync (Zoom)",
        start=at(3, 14),
        end=at(3, 14, 30),
        location="https://us02web.zoom.us/j/81234567890",
        organizer=Person("sam@vendor.example", "Sam Ortiz"),
        attendees=(Attendee("sam@vendor.example", "Sam Ortiz", "accepted"), Attendee(DANA)),
    )
    design = google.add_event(
        DANA,
        summary="Design review",
        start=at(3, 17),
        end=at(3, 18),
        conference=Conference("meet", "https://meet.google.com/qxv-hmbt-rzk"),
    )
    standup = google.add_event(
        DANA,
        summary="Team standup",
        start=dt.datetime(2024, 6, 4, 10, tzinfo=NY),
        end=dt.datetime(2024, 6, 4, 10, 15, tzinfo=NY),
        time_zone="America/New_York",
        recurrence=Recurrence("DAILY", count=4),
    )
    google.add_event(DANA, summary="Offsite", start=dt.date(2024, 6, 7), end=dt.date(2024, 6, 8))

    pages, items = list_all(
        service, singleEvents=True, showDeleted=True, maxResults=3, timeMin="2024-06-01T00:00:00Z"
    )
    assert len(items) == 7
    assert all("nextPageToken" in p and "nextSyncToken" not in p for p in pages[:-1])
    assert "nextSyncToken" in pages[-1] and "nextPageToken" not in pages[-1]
    by_id = {item["id"]: item for item in items}
    assert by_id[design]["hangoutLink"] == "https://meet.google.com/qxv-hmbt-rzk"
    assert by_id[design]["conferenceData"]["conferenceSolution"]["key"]["type"] == "hangoutsMeet"
    assert by_id[zoom]["organizer"] == {"email": "sam@vendor.example", "displayName": "Sam Ortiz"}
    assert {a.get("self") for a in by_id[zoom]["attendees"]} == {None, True}

    google.update_event(design, summary="Design review (moved)", start=at(3, 19), end=at(3, 20))
    google.delete_event(zoom)
    google.cancel_instance(standup, dt.datetime(2024, 6, 5, 10, tzinfo=NY))
    sync_token = pages[-1]["nextSyncToken"]

    changes = (
        service.events()
        .list(calendarId="primary", singleEvents=True, showDeleted=True, syncToken=sync_token)
        .execute()
    )
    by_id = {item["id"]: item for item in changes["items"]}
    assert set(by_id) == {design, zoom, f"{standup}_20240605T140000Z"}
    assert by_id[design]["summary"] == "Design review (moved)"
    assert by_id[design]["sequence"] == 1
    assert by_id[zoom] == {
        "kind": "calendar#event",
        "etag": by_id[zoom]["etag"],
        "id": zoom,
        "status": "cancelled",
    }
    cancelled = by_id[f"{standup}_20240605T140000Z"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["recurringEventId"] == standup
    assert cancelled["originalStartTime"] == {
        "dateTime": "2024-06-05T10:00:00-04:00",
        "timeZone": "America/New_York",
    }

    quiet = (
        service.events()
        .list(calendarId="primary", singleEvents=True, syncToken=changes["nextSyncToken"])
        .execute()
    )
    assert quiet["items"] == []
    assert quiet["nextSyncToken"] != changes["nextSyncToken"]


def test_recurring_series_expands_with_moved_and_cancelled_instances(google, service):
    standup = google.add_event(
        DANA,
        summary="Standup",
        start=dt.datetime(2024, 6, 3, 9, 30, tzinfo=NY),
        end=dt.datetime(2024, 6, 3, 9, 45, tzinfo=NY),
        time_zone="America/New_York",
        recurrence=Recurrence("WEEKLY", by_day=("MO", "WE"), count=4),
    )
    moved_id = google.move_instance(
        standup,
        dt.datetime(2024, 6, 5, 9, 30, tzinfo=NY),
        dt.datetime(2024, 6, 5, 11, 0, tzinfo=NY),
        dt.datetime(2024, 6, 5, 11, 15, tzinfo=NY),
    )
    google.cancel_instance(standup, dt.datetime(2024, 6, 10, 9, 30, tzinfo=NY))

    _, items = list_all(service, singleEvents=True, timeMin="2024-06-01T00:00:00Z")
    assert [item["id"] for item in items] == [
        f"{standup}_20240603T133000Z",
        f"{standup}_20240605T133000Z",
        f"{standup}_20240612T133000Z",
    ]
    moved = items[1]
    assert moved["id"] == moved_id
    assert moved["start"]["dateTime"] == "2024-06-05T11:00:00-04:00"
    assert moved["originalStartTime"]["dateTime"] == "2024-06-05T09:30:00-04:00"
    assert all(item["recurringEventId"] == standup for item in items)
    assert len({item["iCalUID"] for item in items}) == 1

    _, with_deleted = list_all(service, singleEvents=True, showDeleted=True)
    assert [item["status"] for item in with_deleted].count("cancelled") == 1

    _, masters = list_all(service)
    assert [item["id"] for item in masters] == [standup, moved_id, f"{standup}_20240610T133000Z"]
    assert masters[0]["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=MO,WE"]

    instance = service.events().get(calendarId="primary", eventId=moved_id).execute()
    assert instance["start"]["dateTime"] == "2024-06-05T11:00:00-04:00"


def test_time_window_is_end_after_min_and_start_before_max(google, service):
    google.add_event(DANA, summary="ends at min", start=at(3, 9), end=at(3, 10))
    google.add_event(DANA, summary="inside", start=at(3, 10), end=at(3, 11))
    google.add_event(DANA, summary="starts at max", start=at(3, 12), end=at(3, 13))
    _, items = list_all(
        service, singleEvents=True, timeMin="2024-06-03T10:00:00Z", timeMax="2024-06-03T12:00:00Z"
    )
    assert [item["summary"] for item in items] == ["inside"]

    with pytest.raises(HttpError) as excinfo:
        list_all(service, timeMin="2024-06-03T12:00:00Z", timeMax="2024-06-03T10:00:00Z")
    assert excinfo.value.error_details[0]["reason"] == "timeRangeEmpty"


def test_sync_token_rules_and_full_sync_required(google, service):
    google.add_event(DANA, summary="one", start=JUNE_3, end=JUNE_3 + dt.timedelta(hours=1))
    pages, _ = list_all(service, singleEvents=True)
    token = pages[-1]["nextSyncToken"]

    with pytest.raises(HttpError) as excinfo:
        list_all(service, singleEvents=True, syncToken=token, timeMin="2024-06-01T00:00:00Z")
    assert excinfo.value.status_code == 400

    google.invalidate_sync_tokens(DANA)
    with pytest.raises(HttpError) as excinfo:
        list_all(service, singleEvents=True, syncToken=token)
    assert excinfo.value.status_code == 410
    assert excinfo.value.error_details[0]["reason"] == "fullSyncRequired"
    assert excinfo.value.error_details[0]["domain"] == "calendar"


def test_max_results_is_capped_at_2500(google, service):
    populate(
        google,
        DANA,
        seed=3,
        n=2600,
        series_ratio=0,
        window_start=dt.datetime(2024, 6, 1, tzinfo=UTC),
        window_end=dt.datetime(2024, 7, 1, tzinfo=UTC),
    )
    page = service.events().list(calendarId="primary", singleEvents=True, maxResults=5000).execute()
    assert len(page["items"]) == 2500
    assert "nextPageToken" in page


@pytest.mark.parametrize(
    "status,reason",
    [(429, "rateLimitExceeded"), (403, "rateLimitExceeded"), (403, "userRateLimitExceeded")],
)
def test_injected_rate_limits_carry_retry_after(google, service, status, reason):
    google.fail_next(1, status, retry_after=3, reason=reason)
    with pytest.raises(HttpError) as excinfo:
        service.events().list(calendarId="primary").execute()
    assert excinfo.value.status_code == status
    assert excinfo.value.resp["retry-after"] == "3"
    assert excinfo.value.error_details[0]["reason"] == reason
    assert excinfo.value.error_details[0]["domain"] == "usageLimits"
    assert service.events().list(calendarId="primary").execute()["items"] == []


@pytest.mark.parametrize("status", [500, 503])
def test_injected_server_errors(google, service, status):
    google.fail_next(1, status)
    with pytest.raises(HttpError) as excinfo:
        service.calendarList().list().execute()
    assert excinfo.value.status_code == status
    assert excinfo.value.error_details[0]["reason"] == "backendError"


def test_expired_access_token_is_refreshed_by_the_client(google, service):
    service.calendarList().list().execute()
    google.expire_access_tokens(DANA)
    service.calendarList().list().execute()
    assert google.count(route="oauth.token") == 2
    assert [r.status for r in google.requests if r.route == "calendarList.list"] == [200, 401, 200]


def test_insufficient_scope_is_403(settings, google):
    service = calendar_service(settings, google, google.grant(DANA, scopes="openid email"))
    with pytest.raises(HttpError) as excinfo:
        service.events().list(calendarId="primary").execute()
    assert excinfo.value.status_code == 403
    assert excinfo.value.error_details[0]["reason"] == "insufficientPermissions"


# --- push ------------------------------------------------------------------------------------


def test_watch_sends_sync_then_exists_until_stopped(google, service, webhook_receiver):
    google.synchronous_delivery = True
    address = f"{webhook_receiver.url}/hooks/google"
    channel = (
        service.events()
        .watch(
            calendarId="primary",
            body={"id": "chan-1", "type": "web_hook", "address": address, "token": "acct-42"},
        )
        .execute()
    )
    assert channel["kind"] == "api#channel"
    assert channel["resourceUri"].endswith("/calendar/v3/calendars/primary/events?alt=json")
    assert int(channel["expiration"]) > time.time() * 1000

    (sync,) = webhook_receiver.received()
    assert sync.body == b""
    assert sync.header("X-Goog-Resource-State") == "sync"
    assert sync.header("X-Goog-Message-Number") == "1"
    assert sync.header("X-Goog-Channel-ID") == "chan-1"
    assert sync.header("X-Goog-Channel-Token") == "acct-42"
    assert sync.header("X-Goog-Resource-ID") == channel["resourceId"]
    assert sync.header("X-Goog-Resource-URI") == channel["resourceUri"]
    assert sync.header("X-Goog-Channel-Expiration").endswith(" GMT")

    google.add_event(DANA, summary="new", start=JUNE_3, end=JUNE_3 + dt.timedelta(hours=1))
    _, change = webhook_receiver.received()
    assert change.header("X-Goog-Resource-State") == "exists"
    assert int(change.header("X-Goog-Message-Number")) > 1

    service.channels().stop(body={"id": "chan-1", "resourceId": channel["resourceId"]}).execute()
    google.add_event(DANA, summary="unseen", start=JUNE_3, end=JUNE_3 + dt.timedelta(hours=1))
    assert len(webhook_receiver.received()) == 2

    with pytest.raises(HttpError) as excinfo:
        service.channels().stop(body={"id": "chan-1", "resourceId": "other"}).execute()
    assert excinfo.value.status_code == 404


def test_background_delivery_records_failures(google, service, webhook_receiver):
    webhook_receiver.behave("/broken", status=500)
    for channel_id, address in (
        ("a", f"{webhook_receiver.url}/broken"),
        ("b", "http://127.0.0.1:9/nobody-listens"),
    ):
        body = {"id": channel_id, "type": "web_hook", "address": address}
        service.events().watch(calendarId="primary", body=body).execute()
    deliveries = google.wait_for_deliveries()
    assert {d.url: (d.ok, d.status) for d in deliveries} == {
        f"{webhook_receiver.url}/broken": (False, 500),
        "http://127.0.0.1:9/nobody-listens": (False, None),
    }
    assert all(d.error for d in deliveries)


def test_channel_stops_notifying_after_expiration(fake_clock, google, service, webhook_receiver):
    google.now = fake_clock
    google.synchronous_delivery = True
    body = {"id": "c", "type": "web_hook", "address": webhook_receiver.url, "params": {"ttl": "60"}}
    service.events().watch(calendarId="primary", body=body).execute()
    fake_clock.advance(minutes=2)
    google.add_event(DANA, summary="late", start=JUNE_3, end=JUNE_3 + dt.timedelta(hours=1))
    assert [r.header("X-Goog-Resource-State") for r in webhook_receiver.received()] == ["sync"]


# --- scale -----------------------------------------------------------------------------------


def test_ten_thousand_events_in_pages_of_2500(google, service):
    populate(
        google,
        DANA,
        seed=11,
        n=10_000,
        series_ratio=0,
        window_start=dt.datetime(2024, 6, 1, tzinfo=UTC),
        window_end=dt.datetime(2024, 9, 1, tzinfo=UTC),
    )
    google.prerender()
    started = time.perf_counter()
    pages, items = list_all(service, singleEvents=True, maxResults=2500)
    elapsed = time.perf_counter() - started
    assert [len(page["items"]) for page in pages] == [2500, 2500, 2500, 2500]
    assert len({item["id"] for item in items}) == 10_000
    # generous bound: a shared CI box; locally each page is served in a few tens of ms
    assert elapsed < 10


# --- less common switches --------------------------------------------------------------------


def test_irregular_pages_still_end_with_a_sync_token(google, service):
    for hour in range(9, 16):
        google.add_event(DANA, summary=f"e{hour}", start=at(3, hour), end=at(3, hour, 30))
    google.irregular_pages = True
    pages, items = list_all(service, singleEvents=True, maxResults=4)
    assert [len(page["items"]) for page in pages] == [0, 2, 2, 2, 1]
    assert len(items) == 7
    assert "nextSyncToken" in pages[-1]


def test_updated_min_and_order_by(fake_clock, google, service):
    google.now = fake_clock
    old = google.add_event(DANA, summary="old", start=at(4, 9), end=at(4, 10))
    gone = google.add_event(DANA, summary="gone", start=at(5, 9), end=at(5, 10))
    fake_clock.advance(hours=1)
    cutoff = fake_clock().isoformat()
    fresh = google.add_event(DANA, summary="fresh", start=at(3, 9), end=at(3, 10))
    google.delete_event(gone)
    _, items = list_all(service, singleEvents=True, updatedMin=cutoff)
    assert {item["id"]: item["status"] for item in items} == {fresh: "confirmed", gone: "cancelled"}
    _, ordered = list_all(service, singleEvents=True, orderBy="startTime")
    assert [item["id"] for item in ordered] == [fresh, old]
    with pytest.raises(HttpError):
        list_all(service, orderBy="startTime")  # needs singleEvents=true


def test_calendar_list_incremental(google, service):
    first = service.calendarList().list().execute()
    team = google.add_calendar(DANA, summary="Team")
    google.remove_calendar(DANA, team)
    changes = service.calendarList().list(syncToken=first["nextSyncToken"]).execute()
    assert [(c["id"], c.get("deleted")) for c in changes["items"]] == [(team, True)]

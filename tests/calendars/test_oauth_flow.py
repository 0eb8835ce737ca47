"""The hosted OAuth connect flow, run once per provider against faked token/userinfo endpoints."""

import json
import time
from urllib.parse import parse_qs, quote, urlsplit

import jwt
import pytest
import requests
import responses
from django.conf import settings

from bots.models import Bot
from calendars import tokens
from calendars.models import Calendar
from tests.factories import BotFactory, MeetingFactory, OAuthAppFactory

GOOGLE_SCOPES = (
    "https://www.googleapis.com/auth/calendar.events.readonly "
    "https://www.googleapis.com/auth/userinfo.email openid"
)


class GoogleScript:
    platform = "google"
    callback = "/api/v1/calendar/google_oauth_callback/"
    redirect_key = "google_oauth_redirect_url"

    def token_url(self):
        return settings.GOOGLE_OAUTH_TOKEN_URL

    def setup(
        self,
        rsps,
        *,
        refresh_token="1//google-refresh",
        scope=GOOGLE_SCOPES,
        status=200,
        error=None,
        email="alice@acme.com",
    ):
        if error:
            rsps.add(
                responses.POST,
                self.token_url(),
                status=status,
                json={"error": error, "error_description": "Bad Request"},
            )
            return
        if status >= 500:
            rsps.add(responses.POST, self.token_url(), status=status, body="upstream down")
            return
        body = {
            "access_token": "ya29.access",
            "expires_in": 3599,
            "scope": scope,
            "token_type": "Bearer",
        }
        if refresh_token:
            body["refresh_token"] = refresh_token
        rsps.add(responses.POST, self.token_url(), json=body)
        rsps.add(
            responses.GET,
            settings.GOOGLE_USERINFO_URL,
            json={"sub": "1", "email": email, "email_verified": True},
        )

    def token_requests(self, rsps):
        return [c for c in rsps.calls if c.request.url == self.token_url()]


class MicrosoftScript:
    platform = "microsoft"
    callback = "/api/v1/calendar/ms_oauth_callback/"
    redirect_key = "ms_oauth_redirect_url"
    authority = "https://login.microsoftonline.com/common"

    def token_url(self):
        return self.authority + "/oauth2/v2.0/token"

    def setup(
        self,
        rsps,
        *,
        refresh_token="M.R3_refresh",
        scope=None,
        status=200,
        error=None,
        email="alice@acme.com",
    ):
        rsps.add(
            responses.GET,
            self.authority + "/v2.0/.well-known/openid-configuration",
            json={
                "authorization_endpoint": self.authority + "/oauth2/v2.0/authorize",
                "token_endpoint": self.token_url(),
                "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
            },
        )
        if error:
            rsps.add(
                responses.POST,
                self.token_url(),
                status=status,
                json={
                    "error": error,
                    "error_description": "AADSTS70000: The provided grant is invalid.",
                    "error_codes": [70000],
                },
            )
            return
        if status >= 500:
            rsps.add(responses.POST, self.token_url(), status=status, body="upstream down")
            return
        now = int(time.time())
        id_token = jwt.encode(
            {
                "aud": "client-id",
                "iss": "https://login.microsoftonline.com/t/v2.0",
                "iat": now,
                "exp": now + 3600,
                "sub": "s",
                "tid": "t",
                "oid": "o",
                "preferred_username": email,
            },
            "unused-signing-key-of-the-fake-idp",
            algorithm="HS256",
        )
        body = {
            "token_type": "Bearer",
            "expires_in": 3600,
            "access_token": "eyJ.access",
            "id_token": id_token,
            "scope": scope
            or "https://graph.microsoft.com/Calendars.Read https://graph.microsoft.com/User.Read",
        }
        if refresh_token:
            body["refresh_token"] = refresh_token
        rsps.add(responses.POST, self.token_url(), json=body)

    def token_requests(self, rsps):
        return [c for c in rsps.calls if c.request.url == self.token_url()]


@pytest.fixture(params=[GoogleScript(), MicrosoftScript()], ids=["google", "microsoft"])
def script(request):
    return request.param


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def app(acme, script):
    acme.project.allowed_redirect_origins = ["https://app.acme.com"]
    acme.project.save()
    return OAuthAppFactory(
        project=acme.project,
        platform=script.platform,
        client_id="client-id",
        client_secret="client-secret",
    )


def state_for(script, calendar_user, **extra) -> str:
    state = {
        "recall_calendar_auth_token": tokens.mint(calendar_user),
        script.redirect_key: f"http://localhost:8000{script.callback}",
        **extra,
    }
    return json.dumps(state)


def callback(client, script, state, **params):
    return client.get(script.callback, {"state": state, "code": "4/auth-code", **params})


def assert_error_redirect(response, expected_code, base="https://app.acme.com/err"):
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(base)
    query = parse_qs(urlsplit(location).query)
    assert query["error"] == [expected_code]
    assert query["error_description"][0].startswith("Calendar connection failed!")
    return query


def test_success_redirects_and_connects(client, script, app, alice, rsps):
    script.setup(rsps)
    state = state_for(
        script,
        alice,
        success_url="https://app.acme.com/done?oauth_success=true&provider=x",
        error_url="https://app.acme.com/err",
        recall_calendar_preference="kept-by-client",
    )
    response = callback(client, script, state)
    assert response.status_code == 302
    assert response["Location"] == "https://app.acme.com/done?oauth_success=true&provider=x"

    calendar = Calendar.objects.get(calendar_user=alice)
    assert calendar.platform == script.platform
    assert calendar.state == Calendar.State.CONNECTED
    assert calendar.email == "alice@acme.com"
    assert calendar.refresh_token in ("1//google-refresh", "M.R3_refresh")
    assert calendar.sync_due_at is not None
    (token_call,) = script.token_requests(rsps)
    sent = parse_qs(token_call.request.body)
    assert sent["code"] == ["4/auth-code"]
    assert sent["redirect_uri"] == [f"http://localhost:8000{script.callback}"]
    assert sent["client_secret"] == ["client-secret"]


def test_success_without_success_url_renders_page(client, script, app, alice, rsps):
    script.setup(rsps)
    response = callback(client, script, state_for(script, alice))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Calendar connected" in html
    assert "close this window" in html
    assert "<script" not in html and "http" not in html.split("</style>")[1]


def test_url_encoded_state_is_accepted(client, script, app, alice, rsps):
    script.setup(rsps)
    state = quote(state_for(script, alice))  # encoded once more than the query string needs
    assert callback(client, script, state).status_code == 200
    assert Calendar.objects.filter(calendar_user=alice).exists()


def test_missing_refresh_token(client, script, app, alice, rsps):
    script.setup(rsps, refresh_token=None)
    state = state_for(script, alice, error_url="https://app.acme.com/err?ctx=1")
    response = callback(client, script, state)
    query = assert_error_redirect(response, "refresh_token_missing")
    assert query["ctx"] == ["1"]
    assert query["error_description"] == [
        "Calendar connection failed! (reason: refresh_token missing from oAuth response)"
    ]
    assert not Calendar.objects.exists()

    page = callback(client, script, state_for(script, alice))
    assert page.status_code == 400
    assert "refresh_token missing from oAuth response" in page.content.decode()


def test_no_calendar_scope(client, script, app, alice, rsps):
    script.setup(rsps, scope="openid email https://www.googleapis.com/auth/userinfo.email")
    response = callback(
        client, script, state_for(script, alice, error_url="https://app.acme.com/err")
    )
    query = assert_error_redirect(response, "invalid_scope")
    assert "None of the supported calendar scopes" in query["error_description"][0]
    assert not Calendar.objects.exists()


def test_denied_consent(client, script, app, alice, rsps):
    script.setup(rsps)
    state = state_for(script, alice, error_url="https://app.acme.com/err")
    response = client.get(script.callback, {"state": state, "error": "access_denied"})
    assert_error_redirect(response, "access_denied")
    assert script.token_requests(rsps) == []
    assert not Calendar.objects.exists()


@pytest.mark.parametrize(
    "state",
    [None, "", "not json", "[1, 2]", '{"google_oauth_redirect_url": "https://x"}', "{" * 10000],
)
def test_bad_state_renders_error_page(client, script, app, rsps, state):
    params = {"code": "c"} if state is None else {"code": "c", "state": state}
    response = client.get(script.callback, params)
    assert response.status_code == 400
    assert "Calendar connection failed!" in response.content.decode()
    assert script.token_requests(rsps) == []


def test_state_without_redirect_url(client, script, app, alice, rsps):
    state = json.dumps({"recall_calendar_auth_token": tokens.mint(alice)})
    response = callback(client, script, state)
    assert response.status_code == 400
    assert script.redirect_key in response.content.decode()


def test_expired_or_invalid_token(client, script, app, alice, rsps, settings):
    settings.CALENDAR_TOKEN_LIFETIME_SECONDS = 60
    state = state_for(script, alice, error_url="https://app.acme.com/err")
    settings.CALENDAR_TOKEN_SIGNING_KEYS = {"rotated-away": "r" * 40}
    response = callback(client, script, state)
    # No trusted project, so no redirect to the (unverified) error_url.
    assert response.status_code == 401
    assert (
        "Calendar connection failed! (Invalid &#x27;recall_calendar_auth_token&#x27; supplied)"
        in (response.content.decode())
    )
    assert script.token_requests(rsps) == []


def test_project_without_oauth_app(client, script, globex, rsps):
    from calendars.models import CalendarUser

    bob = CalendarUser.objects.create(project=globex.project, external_id="bob")
    response = callback(client, script, state_for(script, bob))
    assert response.status_code == 400
    assert "OAuth app configured" in response.content.decode()
    assert script.token_requests(rsps) == []


def test_other_projects_app_is_never_used(client, script, app, globex, rsps):
    """A user of another project cannot borrow this project's OAuth app or redirect origins."""
    from calendars.models import CalendarUser

    script.setup(rsps)
    bob = CalendarUser.objects.create(project=globex.project, external_id="bob")
    state = state_for(script, bob, success_url="https://app.acme.com/done")
    response = callback(client, script, state)
    assert response.status_code == 400
    assert "redirect_not_allowed" in response.content.decode()
    assert not Calendar.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/steal",
        "https://app.acme.com.evil.example/x",
        "https://user@app.acme.com/x",
        "http://app.acme.com/x",
        "javascript:alert(1)",
    ],
)
def test_redirect_origin_rejection(client, script, app, alice, rsps, url):
    script.setup(rsps)
    for key in ("success_url", "error_url"):
        response = callback(client, script, state_for(script, alice, **{key: url}))
        assert response.status_code == 400
        assert "Location" not in response
    assert script.token_requests(rsps) == []
    assert not Calendar.objects.exists()


def test_default_redirect_policy_without_allowed_origins(
    client, script, app, alice, rsps, settings
):
    app.project.allowed_redirect_origins = []
    app.project.save()
    script.setup(rsps)
    refused = callback(
        client, script, state_for(script, alice, success_url="https://app.acme.com/")
    )
    assert refused.status_code == 400
    own = callback(client, script, state_for(script, alice, success_url="http://localhost:8000/ok"))
    assert own.status_code == 302


def test_reconnect_replaces_previous_calendar(client, script, app, alice, rsps):
    script.setup(rsps)
    assert callback(client, script, state_for(script, alice)).status_code == 200
    first = Calendar.objects.get(calendar_user=alice)
    meeting = MeetingFactory(calendar=first)
    bot = BotFactory(project=alice.project)
    bot.meetings.add(meeting)

    rsps.reset()
    script.setup(rsps, refresh_token="second-refresh", email="alice2@acme.com")
    response = client.get(script.callback, {"state": state_for(script, alice), "code": "4/other"})
    assert response.status_code == 200
    (calendar,) = Calendar.objects.filter(calendar_user=alice)
    assert calendar.pk != first.pk
    assert (calendar.refresh_token, calendar.email) == ("second-refresh", "alice2@acme.com")
    bot.refresh_from_db()
    assert bot.status == Bot.Status.CANCELLED
    assert not type(meeting).objects.filter(pk=meeting.pk).exists()


def test_replayed_code(client, script, app, alice, rsps):
    script.setup(rsps)
    state = state_for(script, alice, success_url="https://app.acme.com/done")
    assert callback(client, script, state).status_code == 302
    # The browser reloads the callback: same code, no second exchange, same calendar.
    assert callback(client, script, state).status_code == 302
    assert len(script.token_requests(rsps)) == 1
    assert Calendar.objects.filter(calendar_user=alice).count() == 1


def test_code_rejected_by_provider(client, script, app, alice, rsps):
    script.setup(rsps, status=400, error="invalid_grant")
    response = callback(
        client, script, state_for(script, alice, error_url="https://app.acme.com/err")
    )
    assert_error_redirect(response, "invalid_grant")
    assert not Calendar.objects.exists()


def test_provider_outage(client, script, app, alice, rsps):
    script.setup(rsps, status=503)
    response = callback(
        client, script, state_for(script, alice, error_url="https://app.acme.com/err")
    )
    assert_error_redirect(response, "provider_unavailable")
    page = callback(client, script, state_for(script, alice))
    assert page.status_code == 502
    assert not Calendar.objects.exists()


def test_provider_unreachable(client, script, app, alice, rsps):
    script.setup(rsps)
    rsps.replace(
        responses.POST, script.token_url(), body=requests.exceptions.ConnectionError("refused")
    )
    response = callback(client, script, state_for(script, alice))
    assert response.status_code == 502
    assert not Calendar.objects.exists()


def test_oauth_url_helper(script, app, alice):
    from .conftest import token_client

    response = token_client(alice).get(
        "/api/v1/calendar/oauth_url/",
        {"platform": script.platform, "success_url": "https://app.acme.com/ok"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    url = urlsplit(body["url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == "client-id"
    assert (
        query["redirect_uri"] == body["redirect_uri"] == f"http://localhost:8000{script.callback}"
    )
    assert query["response_type"] == "code"
    state = json.loads(query["state"])
    assert state[script.redirect_key] == body["redirect_uri"]
    assert state["success_url"] == "https://app.acme.com/ok"
    assert tokens.verify(state["recall_calendar_auth_token"]) == alice
    if script.platform == "google":
        assert url.netloc == "accounts.google.com"
        assert query["access_type"] == "offline" and query["prompt"] == "consent"
        assert "calendar.events.readonly" in query["scope"]
    else:
        assert url.path == "/common/oauth2/v2.0/authorize"
        assert query["response_mode"] == "query"
        assert "offline_access" in query["scope"].split()
        assert "https://graph.microsoft.com/Calendars.Read" in query["scope"].split()


def test_oauth_url_full_round_trip(client, script, app, alice, rsps):
    from .conftest import token_client

    body = (
        token_client(alice).get("/api/v1/calendar/oauth_url", {"platform": script.platform}).json()
    )
    script.setup(rsps)
    response = client.get(script.callback, {"state": body["state"], "code": "4/abc"})
    assert response.status_code == 200
    assert Calendar.objects.filter(calendar_user=alice, platform=script.platform).exists()


@pytest.mark.parametrize(
    "params,code",
    [
        ({"platform": "yahoo"}, "invalid_request_data"),
        ({"platform": "google", "success_url": "https://evil.example/"}, "redirect_not_allowed"),
        ({}, "invalid_request_data"),
    ],
)
def test_oauth_url_helper_errors(app, alice, params, code):
    from .conftest import token_client

    response = token_client(alice).get("/api/v1/calendar/oauth_url/", params)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_oauth_url_without_app(alice):
    from .conftest import token_client

    response = token_client(alice).get("/api/v1/calendar/oauth_url/", {"platform": "microsoft"})
    assert response.status_code == 400
    assert response.json()["code"] == "oauth_app_not_configured"


def test_unexpected_failure_still_renders_a_page(client, script, app, alice, rsps, monkeypatch):
    from calendars import services

    def boom(**kwargs):
        raise RuntimeError("database on fire")

    script.setup(rsps)
    monkeypatch.setattr(services, "calendar_connect", boom)
    response = callback(client, script, state_for(script, alice))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "database on fire" not in response.content.decode()
    assert not Calendar.objects.exists()

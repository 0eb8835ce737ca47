"""External ids are taken exactly as sent and are addressable whatever they contain; Microsoft
OAuth app tenants are checked before they reach an authority URL."""

from urllib.parse import quote, urlsplit

import pytest

from calendars.models import CalendarUser, OAuthApp
from calendars.providers import get_provider
from calendars.providers.base import OAuthClient
from tests.admin_forms import admin_form
from tests.config.test_errors import assert_envelope

AUTHENTICATE = "/api/v1/calendar/authenticate/"


def authenticate(tenant, user_id):
    return tenant.client.post(AUTHENTICATE, {"user_id": user_id}, format="json")


@pytest.mark.parametrize("user_id", ["  alice  ", "alice ", "\talice", "alice\n", "\u00a0alice"])
def test_surrounding_whitespace_is_refused_not_merged(acme, user_id):
    assert authenticate(acme, "alice").status_code == 200
    body = assert_envelope(authenticate(acme, user_id), 400, "invalid_request_data")
    assert "whitespace" in body["errors"]["user_id"][0]
    assert list(CalendarUser.objects.values_list("external_id", flat=True)) == ["alice"]


@pytest.mark.parametrize("user_id", ["al\x07ice", "a\x1bb", "line\nbreak"])
def test_control_characters_are_refused(acme, user_id):
    body = assert_envelope(authenticate(acme, user_id), 400, "invalid_request_data")
    assert "user_id" in body["errors"]
    assert not CalendarUser.objects.exists()


def test_ids_are_matched_exactly(acme):
    for user_id in ("alice", "Alice", "alice.smith@example.com", "org/1", "a b"):
        assert authenticate(acme, user_id).status_code == 200
    assert authenticate(acme, "alice").status_code == 200  # the same user again
    assert sorted(CalendarUser.objects.values_list("external_id", flat=True)) == sorted(
        ["alice", "Alice", "alice.smith@example.com", "org/1", "a b"]
    )


def test_the_same_rule_for_a_changed_id_and_server_api_calendars(acme):
    from tests.calendars.conftest import token_client

    alice = CalendarUser.objects.create(project=acme.project, external_id="alice")
    response = token_client(alice).patch(
        "/api/v1/calendar/user/", {"external_id": " alice2"}, format="json"
    )
    assert "external_id" in assert_envelope(response, 400, "invalid_request_data")["errors"]
    response = acme.client.post(
        "/api/v1/calendars/",
        {
            "platform": "google",
            "client_id": "c",
            "client_secret": "s",
            "refresh_token": "r",
            "external_id": "bob ",
        },
        format="json",
    )
    assert "external_id" in assert_envelope(response, 400, "invalid_request_data")["errors"]
    assert list(CalendarUser.objects.values_list("external_id", flat=True)) == ["alice"]


@pytest.mark.parametrize(
    "external_id", ["org/1", "a/b/c", "org/", "alice.smith@example.com", "50%", "a b", "x?y#z"]
)
def test_every_external_id_is_addressable(acme, globex, external_id):
    user = CalendarUser.objects.create(project=acme.project, external_id=external_id)
    CalendarUser.objects.create(project=globex.project, external_id=external_id)
    path = f"/api/v1/calendar_users/{quote(external_id, safe='')}/"
    response = acme.client.get(path)
    assert response.status_code == 200, path
    assert response.json()["id"] == str(user.pk)
    if not external_id.endswith("/"):
        assert acme.client.get(path.rstrip("/")).json()["id"] == str(user.pk)
    assert acme.client.delete(path).status_code == 204
    assert not CalendarUser.objects.filter(pk=user.pk).exists()
    assert CalendarUser.objects.filter(project=globex.project).count() == 1
    assert_envelope(acme.client.get(path), 404, "not_found")


def test_a_prefix_of_an_id_with_a_slash_is_another_user(acme):
    CalendarUser.objects.create(project=acme.project, external_id="org/1")
    assert_envelope(acme.client.get("/api/v1/calendar_users/org/"), 404, "not_found")
    assert_envelope(acme.client.get("/api/v1/calendar_users/org%2F1%2F2/"), 404, "not_found")


def test_admin_refuses_what_the_api_refuses(acme):
    form = admin_form(
        CalendarUser(project=acme.project), external_id=" alice", project=acme.project
    )
    assert not form.is_valid()
    assert "whitespace" in form.errors["external_id"][0]


# --- Microsoft tenants -------------------------------------------------------------------------

OAUTH_APP = "/api/v1/project/oauth_apps/microsoft/"


@pytest.mark.parametrize(
    "tenant",
    [
        "",
        "common",
        "organizations",
        "consumers",
        "Common",
        "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "contoso.onmicrosoft.com",
        "login.contoso.co.uk",
        "xn--bcher-kva.example",
    ],
)
def test_valid_tenants(acme, tenant):
    response = acme.client.put(
        OAUTH_APP, {"client_id": "app", "client_secret": "s", "tenant": tenant}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert OAuthApp.objects.get(project=acme.project).tenant == tenant


@pytest.mark.parametrize(
    "tenant",
    [
        "../../evil/path?x=1#",
        "common/../x",
        "contoso",
        "evil.example/x",
        "72f988bf-86f1-41af-91ab",
        "-bad.example.com",
        "a..b.com",
        "contoso.com.",
        "ten ant.com",
        "%2e%2e",
    ],
)
def test_invalid_tenants_are_refused(acme, tenant):
    response = acme.client.put(
        OAUTH_APP, {"client_id": "app", "client_secret": "s", "tenant": tenant}, format="json"
    )
    body = assert_envelope(response, 400, "invalid_request_data")
    assert "tenant" in body["errors"]
    assert not OAuthApp.objects.exists()


def test_google_apps_take_no_tenant(acme):
    response = acme.client.put(
        "/api/v1/project/oauth_apps/google/",
        {"client_id": "app", "client_secret": "s", "tenant": "common"},
        format="json",
    )
    assert "tenant" in assert_envelope(response, 400, "invalid_request_data")["errors"]


def test_admin_refuses_a_bad_tenant(acme):
    app = OAuthApp(project=acme.project, platform="microsoft", client_id="a", client_secret="s")
    form = admin_form(app, project=acme.project, tenant="../../evil/path?x=1#")
    assert not form.is_valid()
    assert "tenant" in form.errors


def test_a_stored_bad_tenant_stays_one_path_segment_of_the_authority(settings):
    # Rows written before the check: whatever they hold cannot leave the authority's path.
    provider = get_provider("microsoft")
    url = provider.authorization_url(
        client=OAuthClient("app", "s", tenant="../../evil/path?x=1#"),
        redirect_uri="https://calsync.example/cb/",
        state="{}",
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == settings.MICROSOFT_AUTHORITY_HOST
    assert parts.path.startswith("/..%2F..%2Fevil%2Fpath%3Fx%3D1%23/oauth2/v2.0/authorize")
    assert parts.fragment == ""


def test_admin_calendar_metadata_is_an_object_within_limits(acme):
    from tests.factories import CalendarFactory

    calendar = CalendarFactory(project=acme.project, calendar_user=None)
    for bad in ("x", ["a"], {"big": "x" * 9000}, {"nul": "a\x00b"}):
        form = admin_form(calendar, metadata=bad)
        assert not form.is_valid() and "metadata" in form.errors, bad
    form = admin_form(calendar, metadata={"crm": "D-1"})
    assert form.is_valid(), form.errors

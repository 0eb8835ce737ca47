"""Key lifecycle: the API never revokes a project's last active key, and revoking a key ends the
calendar auth tokens minted with it."""

import json
import threading
from datetime import timedelta

import jwt
import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from calendars import tokens
from calendars.models import CalendarUser
from projects.models import ApiKey
from projects.services import LastActiveKey, api_key_revoke
from tests.config.test_errors import assert_envelope

KEYS_URL = "/api/v1/api_keys/"
USER_URL = "/api/v1/calendar/user/"


def test_the_last_active_key_cannot_revoke_itself(acme):
    response = acme.client.delete(f"{KEYS_URL}{acme.api_key.pk}/")
    body = assert_envelope(response, 409, "last_active_key")
    assert "create another one first" in body["message"]
    assert ApiKey.objects.get(pk=acme.api_key.pk).is_active
    assert acme.client.get("/api/v1/project/").status_code == 200


def test_revoked_keys_do_not_count_as_active(acme):
    old, _ = ApiKey.issue(project=acme.project, name="old")
    old.revoke()
    assert_envelope(acme.client.delete(f"{KEYS_URL}{acme.api_key.pk}/"), 409, "last_active_key")


def test_another_projects_keys_do_not_count(acme, globex):
    assert_envelope(acme.client.delete(f"{KEYS_URL}{acme.api_key.pk}/"), 409, "last_active_key")


def test_a_key_can_revoke_itself_when_another_is_active(acme, anon):
    other, raw_other = ApiKey.issue(project=acme.project, name="new")
    assert acme.client.delete(f"{KEYS_URL}{acme.api_key.pk}/").status_code == 204
    assert acme.client.get("/api/v1/project/").status_code == 401
    anon.credentials(HTTP_AUTHORIZATION=f"Token {raw_other}")
    # ...and now `other` is the last one.
    assert_envelope(anon.delete(f"{KEYS_URL}{other.pk}/"), 409, "last_active_key")
    # Revoking an already revoked key is still a 204 and changes nothing.
    assert anon.delete(f"{KEYS_URL}{acme.api_key.pk}/").status_code == 204


def test_staff_can_revoke_the_last_key(acme, client, django_user_model):
    staff = django_user_model.objects.create_superuser("staff", "s@example.com", "pw-123456")
    client.force_login(staff)
    response = client.post(
        "/admin/projects/apikey/",
        {"action": "revoke", "_selected_action": [acme.api_key.pk]},
    )
    assert response.status_code == 302
    assert not ApiKey.objects.get(pk=acme.api_key.pk).is_active
    with pytest.raises(LastActiveKey):
        other, _ = ApiKey.issue(project=acme.project)
        api_key_revoke(api_key=other)


@pytest.mark.django_db(transaction=True)
def test_two_keys_revoked_at_once_leave_one(db):
    # Each of two requests revokes one of a project's last two keys: one must be refused.
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    from tests.factories import ProjectFactory

    project = ProjectFactory()
    keys = [ApiKey.issue(project=project)[0] for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def revoke(api_key):
        try:
            barrier.wait()
            api_key_revoke(api_key=api_key)
            outcomes.append("revoked")
        except LastActiveKey:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=revoke, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "revoked"]
    assert ApiKey.objects.filter(project=project).active().count() == 1


# --- tokens die with the key that minted them ---------------------------------------------------


def authenticate(client, user_id="alice") -> str:
    response = client.post("/api/v1/calendar/authenticate/", {"user_id": user_id}, format="json")
    assert response.status_code == 200
    return response.json()["token"]


def call(anon, token):
    return anon.get(USER_URL, HTTP_X_RECALLCALENDARAUTHTOKEN=token)


def test_token_names_the_key_that_minted_it(acme):
    claims = jwt.decode(authenticate(acme.client), options={"verify_signature": False})
    assert claims["akid"] == str(acme.api_key.pk)


def test_revoking_a_key_ends_its_tokens_at_once(acme, anon):
    _, raw_other = ApiKey.issue(project=acme.project, name="spare")
    leaked = authenticate(acme.client)
    anon.credentials(HTTP_AUTHORIZATION=f"Token {raw_other}")
    kept = authenticate(anon)
    anon.credentials()
    assert call(anon, leaked).status_code == 200

    assert acme.client.delete(f"{KEYS_URL}{acme.api_key.pk}/").status_code == 204
    refused = call(anon, leaked)
    body = assert_envelope(refused, 401, "authentication_failed")
    assert "API key this calendar auth token was minted with has been revoked" in body["message"]
    assert call(anon, kept).status_code == 200


def test_the_oauth_state_token_is_bound_to_the_same_key(acme, anon):
    from tests.factories import OAuthAppFactory

    OAuthAppFactory(project=acme.project, platform="google")
    ApiKey.issue(project=acme.project, name="spare")
    token = authenticate(acme.client)
    response = anon.get(
        "/api/v1/calendar/oauth_url/", {"platform": "google"}, HTTP_X_RECALLCALENDARAUTHTOKEN=token
    )
    state_token = json.loads(response.json()["state"])["recall_calendar_auth_token"]
    claims = jwt.decode(state_token, options={"verify_signature": False})
    assert claims["akid"] == str(acme.api_key.pk)
    api_key_revoke(api_key=acme.api_key)
    with pytest.raises(tokens.InvalidCalendarToken):
        tokens.verify(state_token)


def test_a_token_without_key_dies_with_any_key_revoked_after_it(acme, anon):
    alice = CalendarUser.objects.create(project=acme.project, external_id="alice")
    other, _ = ApiKey.issue(project=acme.project, name="spare")
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        old_revoked, _ = ApiKey.issue(project=acme.project, name="gone")
        old_revoked.revoke()  # before the token: no effect on it
    unbound = tokens.mint(alice)
    assert call(anon, unbound).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        api_key_revoke(api_key=other)
        assert call(anon, unbound).status_code == 401
    # `iat` has whole seconds: a token minted in the second of a revocation dies too.
    with time_machine.travel(timezone.now() + timedelta(seconds=4)):
        assert call(anon, tokens.mint(alice)).status_code == 200  # minted after: fine


def test_checking_the_key_costs_no_extra_query(acme, anon, django_assert_max_num_queries):
    token = authenticate(acme.client)
    with django_assert_max_num_queries(1):
        tokens.verify(token)


# --- Authorization schemes ----------------------------------------------------------------------


def test_bearer_with_an_api_key_is_accepted(anon, acme):
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {acme.raw_key}")
    response = anon.get("/api/v1/project/")
    assert response.status_code == 200
    assert response.json()["id"] == str(acme.project.pk)


def test_bearer_with_anything_else_says_which_scheme(anon, acme):
    alice = CalendarUser.objects.create(project=acme.project, external_id="alice")
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.mint(alice)}")
    body = assert_envelope(anon.get("/api/v1/project/"), 401, "authentication_failed")
    assert "Authorization: Token <API key>" in body["message"]


def test_an_api_key_on_a_token_route_says_what_is_expected(anon, acme):
    body = assert_envelope(
        anon.get(USER_URL, HTTP_AUTHORIZATION=f"Bearer {acme.raw_key}"),
        401,
        "authentication_failed",
    )
    assert "This is an API key" in body["message"]

import hashlib

import pytest

from projects.models import ApiKey

PROJECT_URL = "/api/v1/project/"


def test_missing_key_is_401_with_challenge(anon, db):
    response = anon.get(PROJECT_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_wrong_key_is_401(anon, acme):
    anon.credentials(HTTP_AUTHORIZATION="Token csk_not-a-real-key")
    response = anon.get(PROJECT_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.parametrize("scheme", ["Token", "token", "TOKEN", "ToKeN"])
def test_scheme_is_case_insensitive(anon, acme, scheme):
    anon.credentials(HTTP_AUTHORIZATION=f"{scheme} {acme.raw_key}")
    response = anon.get(PROJECT_URL)
    assert response.status_code == 200
    assert response.json()["id"] == str(acme.project.id)


@pytest.mark.parametrize("header", ["Token", "Token a b", "Bearer", "Basic {key}", "{key}"])
def test_malformed_or_foreign_scheme_is_401(anon, acme, header):
    anon.credentials(HTTP_AUTHORIZATION=header.format(key=acme.raw_key))
    assert anon.get(PROJECT_URL).status_code == 401


def test_revoked_key_is_401(acme):
    acme.api_key.revoke()
    response = acme.client.get(PROJECT_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_key_is_stored_as_digest_with_visible_prefix(acme):
    stored = ApiKey.objects.get(pk=acme.api_key.pk)
    assert stored.key_hash == hashlib.sha256(acme.raw_key.encode()).hexdigest()
    assert acme.raw_key.startswith(stored.prefix)
    assert acme.raw_key not in {str(value) for value in vars(stored).values()}


def test_use_is_recorded(acme):
    assert ApiKey.objects.get(pk=acme.api_key.pk).last_used_at is None
    acme.client.get(PROJECT_URL)
    assert ApiKey.objects.get(pk=acme.api_key.pk).last_used_at is not None


def test_create_shows_key_once_and_it_works(acme, anon):
    response = acme.client.post("/api/v1/api_keys/", {"name": "ci"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["key"].startswith(body["prefix"])
    assert body["name"] == "ci"

    listed = acme.client.get("/api/v1/api_keys/").json()
    assert {item["id"] for item in listed} == {str(acme.api_key.id), body["id"]}
    assert all("key" not in item and "key_hash" not in item for item in listed)
    assert acme.client.get(f"/api/v1/api_keys/{body['id']}/").json().get("key") is None

    anon.credentials(HTTP_AUTHORIZATION=f"Token {body['key']}")
    assert anon.get(PROJECT_URL).status_code == 200


def test_delete_revokes(acme, anon):
    api_key, raw_key = ApiKey.issue(project=acme.project, name="temp")
    response = acme.client.delete(f"/api/v1/api_keys/{api_key.id}")
    assert response.status_code == 204
    anon.credentials(HTTP_AUTHORIZATION=f"Token {raw_key}")
    assert anon.get(PROJECT_URL).status_code == 401
    assert acme.client.get(f"/api/v1/api_keys/{api_key.id}/").json()["revoked_at"] is not None


def test_other_projects_keys_are_invisible(acme, globex):
    listed = globex.client.get("/api/v1/api_keys/").json()
    assert [item["id"] for item in listed] == [str(globex.api_key.id)]

    url = f"/api/v1/api_keys/{acme.api_key.id}/"
    assert globex.client.get(url).status_code == 404
    response = globex.client.delete(url)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert ApiKey.objects.get(pk=acme.api_key.pk).revoked_at is None


def test_each_key_sees_its_own_project(acme, globex):
    assert acme.client.get(PROJECT_URL).json()["name"] == "Acme"
    assert globex.client.get(PROJECT_URL).json()["name"] == "Globex"


def test_bad_id_is_404_not_500(acme):
    assert acme.client.get("/api/v1/api_keys/not-a-uuid/").status_code == 404

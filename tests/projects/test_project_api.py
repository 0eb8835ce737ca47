import json

from calendars.models import OAuthApp

PROJECT_URL = "/api/v1/project/"


def test_patch_normalizes_origins_and_ignores_read_only_fields(acme):
    response = acme.client.patch(
        PROJECT_URL,
        {
            "allowed_redirect_origins": ["https://App.Example.com/", "http://localhost:3000"],
            "bot_name": "Acme Notes",
            "id": "00000000-0000-0000-0000-000000000000",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["allowed_redirect_origins"] == ["http://localhost:3000", "https://app.example.com"]
    assert body["bot_name"] == "Acme Notes"
    assert body["id"] == str(acme.project.id)


def test_patch_rejects_bad_origin_without_partial_write(acme):
    response = acme.client.patch(
        PROJECT_URL,
        {"bot_name": "Changed", "allowed_redirect_origins": ["https://ok.example", "javascript:x"]},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_request_data"
    assert "allowed_redirect_origins" in body["errors"]
    acme.project.refresh_from_db()
    assert acme.project.bot_name == "Meeting Notetaker"


def test_oauth_app_secret_is_write_only(acme):
    url = "/api/v1/project/oauth_apps/google/"
    response = acme.client.put(
        url, {"client_id": "gid.apps", "client_secret": "TOP-SECRET-VALUE"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "platform": "google",
        "client_id": "gid.apps",
        "client_secret_set": True,
        "tenant": "",
        "updated_at": response.json()["updated_at"],
    }
    for path in (url, "/api/v1/project/oauth_apps/", PROJECT_URL):
        assert "TOP-SECRET-VALUE" not in acme.client.get(path).content.decode()

    # Updating without a secret keeps the stored one.
    response = acme.client.put(url, {"client_id": "gid2.apps"}, format="json")
    assert response.status_code == 200
    app = OAuthApp.objects.get(project=acme.project, platform="google")
    assert (app.client_id, app.client_secret) == ("gid2.apps", "TOP-SECRET-VALUE")


def test_new_oauth_app_needs_secret(acme):
    response = acme.client.put(
        "/api/v1/project/oauth_apps/microsoft", {"client_id": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "client_secret" in response.json()["errors"]
    assert not OAuthApp.objects.exists()


def test_unknown_platform_is_404(acme):
    response = acme.client.put(
        "/api/v1/project/oauth_apps/yahoo/", {"client_id": "x", "client_secret": "y"}
    )
    assert response.status_code == 404


def test_oauth_apps_are_scoped_to_the_project(acme, globex):
    acme.client.put(
        "/api/v1/project/oauth_apps/google/",
        {"client_id": "acme-id", "client_secret": "acme-secret"},
        format="json",
    )
    assert globex.client.get("/api/v1/project/oauth_apps/").json() == []
    assert globex.client.get("/api/v1/project/oauth_apps/google/").status_code == 404
    assert globex.client.delete("/api/v1/project/oauth_apps/google/").status_code == 404
    assert acme.client.delete("/api/v1/project/oauth_apps/google/").status_code == 204
    assert not OAuthApp.objects.exists()


def test_put_and_post_work_without_trailing_slash(acme):
    response = acme.client.post("/api/v1/api_keys", json.dumps({}), content_type="application/json")
    assert response.status_code == 201


def test_bot_dispatch_backend_is_validated(acme):
    bad = acme.client.patch(PROJECT_URL, {"bot_dispatch_backend": "noop"}, format="json")
    assert bad.status_code == 400
    assert "bot_dispatch_backend" in bad.json()["errors"]
    good = acme.client.patch(PROJECT_URL, {"bot_dispatch_backend": "attendee"}, format="json")
    assert good.status_code == 200
    assert good.json()["bot_dispatch_backend"] == "attendee"

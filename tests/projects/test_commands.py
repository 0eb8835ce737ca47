import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from calendars.models import OAuthApp
from projects.models import ApiKey, Project


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def works(raw_key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw_key}")
    return client.get("/api/v1/project/").status_code == 200


@pytest.mark.django_db
def test_create_project_prints_a_working_key_last():
    lines = run(
        "create_project",
        "Initech",
        "--google-client-id=gid",
        "--google-client-secret=gsecret",
        "--microsoft-client-id=mid",
        "--microsoft-client-secret=msecret",
        "--microsoft-tenant=organizations",
        "--redirect-origin=https://App.initech.com/",
        "--redirect-origin=http://localhost:3000",
    )
    assert works(lines[-1])
    assert not any("gsecret" in line or "msecret" in line for line in lines)
    project = Project.objects.get(name="Initech")
    assert project.allowed_redirect_origins == ["http://localhost:3000", "https://app.initech.com"]
    apps = {app.platform: app for app in OAuthApp.objects.filter(project=project)}
    assert apps["google"].client_secret == "gsecret"
    assert apps["microsoft"].tenant == "organizations"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args,message",
    [
        (["--redirect-origin=https://x.example/path"], "not an origin"),
        (["--google-client-id=gid"], "go together"),
        (["--microsoft-tenant=common"], "needs --microsoft-client-id"),
    ],
)
def test_create_project_rejects_bad_options_and_writes_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        run("create_project", "Broken", *args)
    assert not Project.objects.exists()


@pytest.mark.django_db
def test_create_api_key_by_name_or_id(acme):
    by_name = run("create_api_key", "Acme", "--name", "deploy")[-1]
    by_id = run("create_api_key", str(acme.project.id))[-1]
    assert works(by_name) and works(by_id)
    assert ApiKey.objects.filter(project=acme.project).count() == 3


@pytest.mark.django_db
def test_create_api_key_unknown_or_ambiguous_project(acme):
    with pytest.raises(CommandError, match="No project"):
        run("create_api_key", "Nope")
    Project.objects.create(name="Acme")
    with pytest.raises(CommandError, match="Several projects"):
        run("create_api_key", "Acme")


@pytest.mark.django_db
def test_setup_demo_is_repeatable_and_rotates_its_key():
    first = run("setup_demo")
    second = run("setup_demo")
    key1, key2 = first[-1].split()[-1], second[-1].split()[-1]
    assert key1 != key2
    assert works(key2) and not works(key1)
    assert Project.objects.filter(name="Demo").count() == 1
    assert get_user_model().objects.filter(username="admin", is_superuser=True).count() == 1
    assert "password unchanged" not in first[1] and "changepassword" in second[1]


def test_generate_encryption_key():
    from cryptography.fernet import Fernet

    Fernet(run("generate_encryption_key")[-1])

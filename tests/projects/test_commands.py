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


@pytest.mark.django_db(transaction=True)  # the sync commits as it goes
def test_setup_demo_connects_a_fake_google_calendar(fake_google, monkeypatch):
    from bots.models import Bot
    from calendars.models import Calendar
    from meetings.models import Meeting
    from tests.fakes.generators import populate

    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)
    email = "dana.lee@example.com"
    fake_google.add_account(email, name="Dana Lee")
    populate(fake_google, email, seed=1, n=60)
    fake_google.grant(email, refresh_token="1//0fake-demo")
    demo = (
        f"--demo-google={email}",
        f"--google-client-id={fake_google.client_id}",
        f"--google-client-secret={fake_google.client_secret}",
        "--google-refresh-token=1//0fake-demo",
    )
    for _ in range(2):  # every start reconnects: the previous connection is replaced
        lines = run("setup_demo", *demo)
        assert lines[2].startswith("API key:      csk_") and works(lines[2].split()[-1])
        calendar = Calendar.objects.get(email=email)  # one: the previous one went
        assert calendar.state == "connected" and calendar.calendar_user.record_external
        meetings = Meeting.objects.filter(calendar=calendar, is_deleted=False)
        recorded = meetings.filter(will_record=True)
        assert meetings.count() > 0 and recorded.count() > 0
        assert next(line for line in lines if line.startswith("Demo calendar:")) == (
            f"Demo calendar: {email} (Google fake), sync synced: {meetings.count()} meetings, "
            f"{recorded.count()} to be recorded (external meetings with a link)"
        )
        assert Bot.objects.filter(meetings__in=recorded).exists()


def test_generate_encryption_key():
    from cryptography.fernet import Fernet

    Fernet(run("generate_encryption_key")[-1])

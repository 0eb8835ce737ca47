import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from projects.models import ApiKey, Project
from projects.services import oauth_app_set, project_create

DEMO_PROJECT = "Demo"
DEMO_KEY_NAME = "quickstart"


class Command(BaseCommand):
    help = (
        "Quick start: make sure a demo project and an admin login exist, and print a fresh API "
        "key (the previous quick-start key is revoked). Safe to run on every start. With "
        "--demo-google EMAIL (`./dev up --demo`), also connect that account's calendar at the "
        "Google fake the settings point to, with a calendar user who records external meetings, "
        "sync it once and say how many bots were scheduled. With --demo-webhook-url, the demo "
        "project also sends its bots' dispatch and status events there (a loopback receiver)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--admin-username", default="admin")
        parser.add_argument("--demo-google", metavar="EMAIL", help="account at the Google fake")
        parser.add_argument("--google-client-id", default="")
        parser.add_argument("--google-client-secret", default="")
        parser.add_argument("--google-refresh-token", default="")
        parser.add_argument(
            "--demo-webhook-url",
            default="",
            help="a loopback receiver for the demo project's bot events (`./dev up --demo`)",
        )

    def handle(self, *args, admin_username, demo_google, demo_webhook_url, **options):
        with transaction.atomic():
            project, raw_key = self._project()
            admin_line = self._admin(admin_username)
            if demo_webhook_url:
                self._demo_webhooks(project, demo_webhook_url)
            calendar = (
                self._connect_google(project, demo_google, **options) if demo_google else None
            )

        self.stdout.write(f"Demo project: {project.name} ({project.id})")
        self.stdout.write(f"Admin login:  {admin_line}   at {settings.PUBLIC_BASE_URL}/admin/")
        self.stdout.write(f"API key:      {raw_key}")
        if calendar is not None:
            self._sync(calendar)

    def _project(self) -> tuple[Project, str]:
        project = Project.objects.filter(name=DEMO_PROJECT).order_by("created_at").first()
        if project is None:
            return project_create(name=DEMO_PROJECT, api_key_name=DEMO_KEY_NAME)
        for old_key in project.api_keys.active().filter(name=DEMO_KEY_NAME):
            old_key.revoke()
        _, raw_key = ApiKey.issue(project=project, name=DEMO_KEY_NAME)
        return project, raw_key

    def _admin(self, username: str) -> str:
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            return f"{username} (exists; new password: ./dev manage changepassword {username})"
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username, "", password)
        return f"{username} / {password}"

    def _demo_webhooks(self, project, url: str) -> None:
        """One endpoint for the bots' dispatch and status events, at the service's own demo
        receiver on loopback. Allowed to reach a loopback address as staff would allow it in
        the admin (that allowance covers this URL only)."""
        from webhooks import events
        from webhooks.models import WebhookEndpoint

        if project.webhook_endpoints.filter(url=url).exists():
            return
        endpoint = WebhookEndpoint(
            project=project,
            url=url,
            description="Quick-start demo receiver (./dev up --demo)",
            event_types=[events.BOT_DISPATCH, events.BOT_STATUS_CHANGE],
        )
        endpoint.allow_private_addresses = True
        endpoint.clean()
        endpoint.save()

    def _connect_google(
        self, project, email, *, google_client_id, google_client_secret, google_refresh_token, **_
    ):
        from calendars.providers.base import Grant
        from calendars.services import (
            calendar_connect,
            calendar_user_get_or_create,
            calendar_user_update,
        )

        oauth_app_set(
            project=project,
            platform="google",
            client_id=google_client_id,
            client_secret=google_client_secret,
        )
        user = calendar_user_get_or_create(project=project, external_id=email)
        calendar_user_update(calendar_user=user, preferences={"record_external": True})
        # A fresh connection on every start: the fake forgets its sync tokens when it stops.
        grant = Grant(access_token="", refresh_token=google_refresh_token, email=email)
        return calendar_connect(calendar_user=user, platform="google", grant=grant)

    def _sync(self, calendar) -> None:
        from calendars.sync import sync_calendar_by_id
        from meetings.models import Meeting

        result = sync_calendar_by_id(calendar.pk)
        meetings = Meeting.objects.filter(calendar=calendar, is_deleted=False)
        self.stdout.write(
            f"Demo calendar: {calendar.email} (Google fake), sync {result.status}: "
            f"{meetings.count()} meetings, {meetings.filter(will_record=True).count()} to be "
            "recorded (external meetings with a link)"
        )
        self._bots(calendar.project)

    def _bots(self, project) -> None:
        from django.utils import timezone

        from bots.models import Bot

        scheduled = Bot.objects.filter(project=project, status=Bot.Status.SCHEDULED)
        upcoming = scheduled.filter(join_at__gte=timezone.now()).order_by("join_at")
        self.stdout.write(f"Bots:         {scheduled.count()} scheduled")
        first = upcoming.prefetch_related("meetings").first()
        if first is not None:
            minutes = max(0, round((first.join_at - timezone.now()).total_seconds() / 60))
            wait = f"{minutes} min" if minutes < 120 else f"{round(minutes / 60)} h"
            titles = ", ".join(sorted({m.title for m in first.meetings.all()})) or "-"
            self.stdout.write(
                f"Next bot:     joins {titles!r} at {first.join_at:%H:%M} UTC (in about {wait}); "
                f"watch it go from scheduled to dispatched at "
                f"{settings.PUBLIC_BASE_URL}/admin/bots/bot/{first.pk}/change/"
            )

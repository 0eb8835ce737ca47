import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from projects.models import ApiKey, Project
from projects.services import project_create

DEMO_PROJECT = "Demo"
DEMO_KEY_NAME = "quickstart"


class Command(BaseCommand):
    help = (
        "Quick start: make sure a demo project and an admin login exist, and print a fresh API "
        "key (the previous quick-start key is revoked). Safe to run on every start."
    )

    def add_arguments(self, parser):
        parser.add_argument("--admin-username", default="admin")

    @transaction.atomic
    def handle(self, *args, admin_username, **options):
        project = Project.objects.filter(name=DEMO_PROJECT).order_by("created_at").first()
        if project is None:
            project, raw_key = project_create(name=DEMO_PROJECT, api_key_name=DEMO_KEY_NAME)
        else:
            for old_key in project.api_keys.active().filter(name=DEMO_KEY_NAME):
                old_key.revoke()
            _, raw_key = ApiKey.issue(project=project, name=DEMO_KEY_NAME)

        User = get_user_model()
        if User.objects.filter(username=admin_username).exists():
            admin_line = f"{admin_username} (exists; to reset: python manage.py changepassword {admin_username})"
        else:
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(admin_username, "", password)
            admin_line = f"{admin_username} / {password}"

        self.stdout.write(f"Demo project: {project.name} ({project.id})")
        self.stdout.write(f"Admin login:  {admin_line}   at /admin/")
        self.stdout.write(f"API key:      {raw_key}")

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from calendars.platforms import Platform
from projects.services import project_create


class Command(BaseCommand):
    help = "Create a project (tenant) and print its first API key as the last line of output."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--google-client-id", default="")
        parser.add_argument("--google-client-secret", default="")
        parser.add_argument("--microsoft-client-id", default="")
        parser.add_argument("--microsoft-client-secret", default="")
        parser.add_argument("--microsoft-tenant", default="", help="Default: common")
        parser.add_argument(
            "--redirect-origin",
            action="append",
            default=[],
            dest="redirect_origins",
            help="Origin that OAuth success/error URLs may use; repeat for several.",
        )

    def handle(self, *args, name, redirect_origins, **options):
        oauth_apps = {}
        for platform in Platform.values:
            client_id = options[f"{platform}_client_id"]
            client_secret = options[f"{platform}_client_secret"]
            if bool(client_id) != bool(client_secret):
                raise CommandError(
                    f"--{platform}-client-id and --{platform}-client-secret go together."
                )
            if client_id:
                oauth_apps[platform] = {"client_id": client_id, "client_secret": client_secret}
        if options["microsoft_tenant"]:
            if Platform.MICROSOFT not in oauth_apps:
                raise CommandError("--microsoft-tenant needs --microsoft-client-id.")
            oauth_apps[Platform.MICROSOFT]["tenant"] = options["microsoft_tenant"]
        try:
            project, raw_key = project_create(
                name=name, allowed_redirect_origins=redirect_origins, oauth_apps=oauth_apps
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"Created project {project.name!r} (id {project.id}).")
        self.stdout.write("API key (shown once; store it now):")
        self.stdout.write(raw_key)

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from projects.models import ApiKey, Project


def find_project(reference: str) -> Project:
    """A project by id, or by name when exactly one project has it."""
    try:
        return Project.objects.get(pk=reference)
    except (Project.DoesNotExist, ValidationError):
        pass
    matches = list(Project.objects.filter(name=reference)[:2])
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise CommandError(f"Several projects are named {reference!r}; pass the project id.")
    raise CommandError(f"No project with id or name {reference!r}.")


class Command(BaseCommand):
    help = "Issue a new API key for a project (by id or name); prints the key as the last line."

    def add_arguments(self, parser):
        parser.add_argument("project", help="Project id or name")
        parser.add_argument("--name", default="", help="A label for the key")

    def handle(self, *args, project, name, **options):
        target = find_project(project)
        api_key, raw_key = ApiKey.issue(project=target, name=name)
        self.stdout.write(f"Issued API key {api_key.prefix}… for project {target.name!r}.")
        self.stdout.write(raw_key)

from django.apps import AppConfig
from django.db.models.signals import post_migrate

from config import health


def _sync_schedules(**kwargs) -> None:
    from config.schedules import sync_schedules

    sync_schedules()


class ProjectsConfig(AppConfig):
    name = "projects"

    def ready(self) -> None:
        # Once per migrate run (this app's signal), after django_q's tables exist.
        post_migrate.connect(_sync_schedules, sender=self, dispatch_uid="calsync_schedules")
        from .failures import open_failures

        # /healthz shows the rows background jobs skipped (logged, retried each run).
        health.add_detail("skipped_rows", open_failures)

from django.apps import AppConfig
from django.core.exceptions import ValidationError


def check_project_settings(project) -> dict[str, list[str]]:
    """The project's dispatch backend exists and its bot_config fits it (Project.clean)."""
    from .backends import BACKENDS, validate_bot_config

    if project.bot_dispatch_backend not in BACKENDS:
        return {
            "bot_dispatch_backend": [f"Unknown backend; use one of: {', '.join(sorted(BACKENDS))}."]
        }
    try:
        validate_bot_config(project.bot_config, backend=project.bot_dispatch_backend)
    except ValidationError as exc:
        return {"bot_config": exc.messages}
    return {}


class BotsConfig(AppConfig):
    name = "bots"

    def ready(self) -> None:
        from projects.models import Project

        if check_project_settings not in Project.setting_checks:
            Project.setting_checks.append(check_project_settings)

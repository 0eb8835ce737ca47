from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from calendars.models import OAuthApp
from config.errors import DomainError

from .models import ApiKey, Project
from .validators import normalize_origins


@transaction.atomic
def project_create(
    *,
    name: str,
    allowed_redirect_origins: list[str] = (),
    oauth_apps: dict[str, dict] | None = None,
    api_key_name: str = "default",
) -> tuple[Project, str]:
    """Create a project with its first API key; returns the project and the key (shown once)."""
    project = Project(
        name=name, allowed_redirect_origins=normalize_origins(allowed_redirect_origins)
    )
    project.full_clean()
    project.save()
    for platform, credentials in (oauth_apps or {}).items():
        oauth_app_set(project=project, platform=platform, **credentials)
    _, raw_key = ApiKey.issue(project=project, name=api_key_name)
    return project, raw_key


class LastActiveKey(DomainError):
    """Revoking this key would leave its project without an active key."""

    def __init__(self):
        super().__init__(
            "last_active_key",
            "This is the project's last active API key: create another one first "
            "(revoking it would lock the project out).",
            409,
        )


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, allow_last: bool = False) -> ApiKey:
    """Revoke a key; calendar auth tokens minted with it stop working at once. The project's
    last active key is refused (LastActiveKey) unless `allow_last` (staff): over the API that
    would lock the project out for good. Revoking a revoked key changes nothing."""
    # Serialize revocations per project (a no-op write takes the row lock on PostgreSQL and the
    # write lock on SQLite), so two requests cannot each revoke one of the last two keys.
    Project.objects.filter(pk=api_key.project_id).update(updated_at=F("updated_at"))
    api_key = ApiKey.objects.get(pk=api_key.pk)
    if not api_key.is_active:
        return api_key
    others = ApiKey.objects.active().filter(project_id=api_key.project_id).exclude(pk=api_key.pk)
    if not allow_last and not others.exists():
        raise LastActiveKey
    api_key.revoke()
    return api_key


@transaction.atomic
def oauth_app_set(
    *,
    project: Project,
    platform: str,
    client_id: str,
    client_secret: str | None = None,
    tenant: str = "",
) -> OAuthApp:
    """Create or replace a project's OAuth app; a missing secret keeps the stored one."""
    app = OAuthApp.objects.select_for_update().filter(
        project=project, platform=platform
    ).first() or OAuthApp(project=project, platform=platform)
    if app._state.adding and not client_secret:
        raise ValidationError({"client_secret": "A new OAuth app needs its client secret."})
    app.client_id = client_id
    app.tenant = tenant
    if client_secret is not None:
        app.client_secret = client_secret
    app.full_clean()
    app.save()
    return app

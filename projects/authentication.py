from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from config.logging import bind_log_context

from .models import ApiKey, Project


class ProjectPrincipal:
    """The authenticated caller of a server API call: a project, through one of its API keys."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, project: Project):
        self.project = project

    def __str__(self) -> str:
        return f"project:{self.project.pk}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` (scheme case-insensitive), as Recall and Attendee clients send."""

    keyword = "token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: use 'Token <key>'."
            )
        api_key = (
            ApiKey.objects.active()
            .select_related("project")
            .filter(key_hash=ApiKey.digest(header[1]))
            .first()
        )
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        api_key.touch()
        bind_log_context(project_id=str(api_key.project_id))
        return ProjectPrincipal(api_key.project), api_key

    def authenticate_header(self, request) -> str:
        return "Token"


class HasProject(permissions.BasePermission):
    """Every server API call needs a project; which objects it sees is scoped by the views."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, ProjectPrincipal)


def request_project(request) -> Project:
    return request.user.project


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <API key>`. Keys are created with `manage.py create_project` "
            "or `POST /api/v1/api_keys/`.",
        }

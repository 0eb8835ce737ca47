from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from config.logging import bind_log_context

from .models import API_KEY_PREFIX, ApiKey, Project


class ProjectPrincipal:
    """The authenticated caller of a server API call: a project, through one of its API keys."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, project: Project):
        self.project = project

    def __str__(self) -> str:
        return f"project:{self.project.pk}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` (scheme case-insensitive), as Recall and Attendee clients send.

    `Bearer <key>` is accepted too for an API key (many HTTP clients only speak Bearer): the key's
    `csk_` prefix tells it apart from a calendar auth token, and it is the same secret either way.
    Any other Bearer value on these routes is refused with a message naming the right scheme.
    """

    keyword = "token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header:
            return None
        scheme = header[0].lower()
        if scheme == "bearer" and len(header) == 2 and header[1].startswith(API_KEY_PREFIX):
            scheme = self.keyword
        elif scheme == "bearer":
            raise exceptions.AuthenticationFailed(
                "This endpoint takes an API key: send 'Authorization: Token <API key>'. "
                "Calendar auth tokens work on the /api/v1/calendar/ routes that act for a user."
            )
        if scheme != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: use 'Token <key>'."
            )
        return authenticate_api_key(header[1])

    def authenticate_header(self, request) -> str:
        return "Token"


def authenticate_api_key(raw_key: str) -> tuple[ProjectPrincipal, ApiKey]:
    """The caller of an API key, whichever header brought it; unknown or revoked is a 401."""
    api_key = (
        ApiKey.objects.active()
        .select_related("project")
        .filter(key_hash=ApiKey.digest(raw_key))
        .first()
    )
    if api_key is None:
        raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
    api_key.touch()
    bind_log_context(project_id=str(api_key.project_id))
    return ProjectPrincipal(api_key.project), api_key


class MeetingBaasApiKeyAuthentication(authentication.BaseAuthentication):
    """`x-meeting-baas-api-key: <API key>`, the header Meeting BaaS v1 clients send (the
    Meeting BaaS compatible surface, `calendars/meetingbaas_v1/`). The key is one of ours."""

    header = "x-meeting-baas-api-key"

    def authenticate(self, request):
        raw_key = request.headers.get(self.header)
        if raw_key is None:
            return None
        raw_key = raw_key.strip()
        if not raw_key:
            raise exceptions.AuthenticationFailed(f"The {self.header} header is empty.")
        return authenticate_api_key(raw_key)

    def authenticate_header(self, request) -> str:
        # Any value makes DRF answer 401 (not 403) to a request without credentials.
        return f'ApiKey header="{self.header}"'


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
            "description": "`Token <API key>` (`Bearer <API key>` is accepted too). Keys are "
            "created with `manage.py create_project` or `POST /api/v1/api_keys/`.",
        }


class MeetingBaasApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = MeetingBaasApiKeyAuthentication
    name = "MeetingBaasApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": MeetingBaasApiKeyAuthentication.header,
            "description": "An API key of ours, as Meeting BaaS v1 clients send theirs.",
        }

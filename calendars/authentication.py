from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from config.logging import bind_log_context
from projects.models import API_KEY_PREFIX
from projects.validators import origin_allowed

from . import tokens
from .models import CalendarUser

TOKEN_HEADER = "X-RecallCalendarAuthToken"


class CalendarUserPrincipal:
    """The caller of a calendar-token route: one calendar user of one project."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, calendar_user: CalendarUser, api_key_id: str | None = None):
        self.calendar_user = calendar_user
        self.project = calendar_user.project
        self.api_key_id = api_key_id  # the API key the token was minted with


class CalendarTokenAuthentication(authentication.BaseAuthentication):
    """`X-RecallCalendarAuthToken: <token>` (Recall V1), or `Authorization: Bearer <token>`."""

    def authenticate(self, request):
        token = request.headers.get(TOKEN_HEADER)
        if not token:
            parts = authentication.get_authorization_header(request).decode("latin-1").split()
            if len(parts) == 2 and parts[0].lower() == "bearer":
                token = parts[1]
        if not token:
            return None
        token = token.strip()
        if token.startswith(API_KEY_PREFIX):
            raise exceptions.AuthenticationFailed(
                "This is an API key; this route takes a calendar auth token "
                f"({TOKEN_HEADER}) from POST /api/v1/calendar/authenticate/."
            )
        try:
            verified = tokens.verify_token(token)
        except tokens.InvalidCalendarToken as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        calendar_user = verified.calendar_user
        origin = request.headers.get("Origin")
        allowed = calendar_user.project.cors_allowed_origins
        if origin and allowed and not origin_allowed(origin, allowed):
            raise exceptions.PermissionDenied(
                f"Origin {origin} is not allowed for this project's calendar API."
            )
        bind_log_context(
            project_id=str(calendar_user.project_id), calendar_user_id=str(calendar_user.pk)
        )
        return CalendarUserPrincipal(calendar_user, verified.api_key_id), token

    def authenticate_header(self, request) -> str:
        return "Bearer"


class IsCalendarUser(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, CalendarUserPrincipal)


def request_calendar_user(request) -> CalendarUser:
    return request.user.calendar_user


class CalendarTokenScheme(OpenApiAuthenticationExtension):
    target_class = CalendarTokenAuthentication
    name = "CalendarAuthToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": TOKEN_HEADER,
            "description": "Calendar auth token from `POST /api/v1/calendar/authenticate/` "
            "(`Authorization: Bearer <token>` works too).",
        }

from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from calendars import views_oauth
from config.api.ids import UUID_PATTERN

from . import rules, views


def route(path: str, view, name: str):
    """Every V1 path answers with and without its trailing slash; nothing redirects."""
    return re_path(rf"^calendar/{path}/?$", view, name=name)


urlpatterns = [
    route("authenticate", views.AuthenticateView.as_view(), "calendar-authenticate"),
    route("users", views.CalendarUsersView.as_view(), "calendar-users"),
    route("user", views.CalendarUserView.as_view(), "calendar-user"),
    route("user/disconnect", views.DisconnectView.as_view(), "calendar-user-disconnect"),
    route("meetings", views.MeetingListView.as_view(), "calendar-meetings"),
    route("meetings/refresh", views.MeetingRefreshView.as_view(), "calendar-meetings-refresh"),
    route(
        rf"meetings/(?P<meeting_id>{UUID_PATTERN})",
        views.MeetingDetailView.as_view(),
        "calendar-meeting",
    ),
    # Why (no) bot: calsync's extension of V1, not Recall's.
    route(
        rf"meetings/(?P<meeting_id>{UUID_PATTERN})/decision",
        views.MeetingDecisionView.as_view(),
        "calendar-meeting-decision",
    ),
    route("sync", views.CalendarSyncView.as_view(), "calendar-sync"),
    route("oauth_url", views.OAuthUrlView.as_view(), "calendar-oauth-url"),
    # Auto-join rules: calsync's extension of the V1 surface, not Recall's.
    route("rules", rules.RulesView.as_view(), "calendar-rules"),
    route("rules/dry_run", rules.RulesDryRunView.as_view(), "calendar-rules-dry-run"),
    route(rf"rules/(?P<id>{UUID_PATTERN})", rules.RuleView.as_view(), "calendar-rule"),
    # GET-only pages (require_GET): CSRF checks only the other methods, which the views refuse;
    # exempt, they answer those 405 instead of CSRF's 403.
    route(
        "(?P<callback_name>[a-z0-9]+)_oauth_callback",
        csrf_exempt(views_oauth.oauth_callback),
        "calendar-oauth-callback",
    ),
]

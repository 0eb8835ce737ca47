from django.urls import re_path

from config.api.ids import UUID_PATTERN
from config.api.routers import OptionalSlashRouter

from . import rules, views

router = OptionalSlashRouter()
router.register("calendars", views.CalendarViewSet, basename="server-calendar")
router.register("calendar_events", views.CalendarEventViewSet, basename="server-calendar-event")
router.register("calendar_users", views.CalendarUserViewSet, basename="server-calendar-user")
# The bots API (bots/views.py) with create and delete over the calendar services.
router.register("bots", views.BotViewSet, basename="bot")

# A calendar user's rules come before the router's routes, whose `external_id` lookup (`.+?`,
# `/` included) would take `alice/rules` for a user id. So a path with `/rules` at the end or
# `/rules/` inside is always a rules route: its rule id is any text (not a UUID: the view's
# 404), or the answer would be the user route's (405 for PATCH). A user whose own id ends with
# `/rules` or holds `/rules/` is reached through the list and the calendar-token routes.
USER = r"^calendar_users/(?P<external_id>.+?)/rules"

urlpatterns = [
    re_path(rf"{USER}/?$", rules.CalendarUserRulesView.as_view(), name="calendar-user-rules"),
    re_path(
        rf"{USER}/dry_run/?$",
        rules.CalendarUserRulesDryRunView.as_view(),
        name="calendar-user-rules-dry-run",
    ),
    # Greedy: the last `/rules/` starts the rule id, so a user `x/rules` has rules too.
    re_path(
        r"^calendar_users/(?P<external_id>.+)/rules/(?P<id>.+?)/?$",
        rules.CalendarUserRuleView.as_view(),
        name="calendar-user-rule",
    ),
    re_path(r"^project/rules/?$", rules.DefaultRulesView.as_view(), name="project-rules"),
    re_path(
        rf"^project/rules/(?P<id>{UUID_PATTERN})/?$",
        rules.DefaultRuleView.as_view(),
        name="project-rule",
    ),
    *router.urls,
]

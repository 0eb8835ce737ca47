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

# A calendar user's rules, before the router's routes: its `external_id` lookup (`.+?`, `/`
# included) would otherwise take `alice/rules` for a user id. So an id that itself ends with
# `/rules` (or `/rules/<uuid>`, `/rules/dry_run`) reads as these routes, not as a user.
USER = r"^calendar_users/(?P<external_id>.+?)/rules"
RULE = rf"(?P<id>{UUID_PATTERN})"

urlpatterns = [
    re_path(rf"{USER}/?$", rules.CalendarUserRulesView.as_view(), name="calendar-user-rules"),
    re_path(
        rf"{USER}/dry_run/?$",
        rules.CalendarUserRulesDryRunView.as_view(),
        name="calendar-user-rules-dry-run",
    ),
    re_path(rf"{USER}/{RULE}/?$", rules.CalendarUserRuleView.as_view(), name="calendar-user-rule"),
    re_path(r"^project/rules/?$", rules.DefaultRulesView.as_view(), name="project-rules"),
    re_path(rf"^project/rules/{RULE}/?$", rules.DefaultRuleView.as_view(), name="project-rule"),
    *router.urls,
]

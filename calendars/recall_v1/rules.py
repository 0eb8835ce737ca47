"""Auto-join rules on the calendar-token surface: an extension of ours under
`/api/v1/calendar/rules/` (Recall's Calendar V1 has no rules). The token's user manages their
own rules, with the server API's views (calendars/server_api/rules.py) and the same services;
the project's defaults are the server API's."""

from drf_spectacular.utils import extend_schema

from calendars.authentication import request_calendar_user
from calendars.server_api import rules

from .views import CalendarTokenView

TAGS = ["Calendar V1 extension: auto-join rules (calsync's own)"]


class TokenUserOwner(rules.RuleOwnerMixin):
    """The calendar user of the token: nobody else's rules are reachable."""

    def owner(self, request, **kwargs):
        calendar_user = request_calendar_user(request)
        return calendar_user.project, calendar_user


@extend_schema(tags=TAGS)
class RulesView(TokenUserOwner, CalendarTokenView, rules.RuleListView):
    """The token's user's own rules (not Recall's: calsync's extension)."""


@extend_schema(tags=TAGS)
class RuleView(TokenUserOwner, CalendarTokenView, rules.RuleDetailView):
    """One rule of the token's user."""


@extend_schema(tags=TAGS)
class RulesDryRunView(TokenUserOwner, CalendarTokenView, rules.RuleDryRunView):
    """The token's user's rules, tried without saving."""

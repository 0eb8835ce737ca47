"""Auto-join rules over the API: a calendar user's rules, the project's defaults and the dry run.

The views are written once here; each surface names the rules' owner (`owner`): the server API
a calendar user by `external_id` or the project (its defaults), the calendar-token surface
(calendars/recall_v1/rules.py) the token's user. Thin: the wire shapes are in
rule_serializers.py, every check and the re-deciding in calendars/rule_services.py.
"""

import uuid

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from calendars import rule_services
from calendars.models import CalendarUser
from config.api.exceptions import ApiError
from config.api.schema import error_response
from meetings.models import AutoJoinRule
from projects.authentication import request_project
from projects.models import Project

from .rule_serializers import (
    AutoJoinRuleSerializer,
    DryRunRequestSerializer,
    DryRunSerializer,
)

TAGS = ["Server API: auto-join rules"]

REFUSED = (
    "Refused by the rule's checks (nothing is stored): `code` is the first field error's, "
    "every field's messages are in `errors`. Codes: `invalid_timezone`, "
    "`window_end_before_start`, `whole_minutes`, `unknown_weekday`, `regex_too_expensive`, "
    "`invalid_regex`, `invalid_address`, `invalid_keyword`, `unknown_platform`, "
    "`too_many_items`, `required` (keywords for match_mode keyword, organizer_emails for "
    "organizer, both ends of a window), `max_below_min`, `range`, `only_for_join` (bot "
    "settings on a skipping rule), `invalid_bot_config`, `invalid_choice`, `blank`, "
    "`max_length`. Unknown fields and wrong JSON types: `invalid_request_data`."
)
TOO_MANY = f"`too_many_rules`: the owner has {rule_services.MAX_RULES} rules already."

RULE_ID = "0b8f6c1e-3d2a-4f5b-9c7e-1a2b3c4d5e6f"
RULE = {
    "name": "Interviews",
    "priority": 10,
    "action": "join",
    "bot_name": "Acme Interviewer",
    "match_mode": "keyword",
    "keywords": ["interview"],
    "whole_word": True,
    "exclude_patterns": ["internal only", "1:1"],
    "attendee_emails": [],
    "min_attendees": 2,
    "audience": "external",
    "days_of_week": [0, 1, 2, 3],
    "time_window_start": "09:00",
    "time_window_end": "18:00",
    "timezone": "Europe/Berlin",
}
RULE_OBJECT = {
    "id": RULE_ID,
    "calendar_user": "user-1234",
    "name": "Interviews",
    "is_enabled": True,
    "priority": 10,
    "action": "join",
    "bot_name": "Acme Interviewer",
    "bot_config": {},
    "calendar_provider": None,
    "match_mode": "keyword",
    "keywords": ["interview"],
    "whole_word": True,
    "exclude_patterns": ["internal only", "1:1"],
    "organizer_emails": [],
    "attendee_emails": [],
    "min_attendees": 2,
    "max_attendees": None,
    "audience": "external",
    "recurring": None,
    "meeting_platforms": [],
    "days_of_week": [0, 1, 2, 3],
    "time_window_start": "09:00",
    "time_window_end": "18:00",
    "timezone": "Europe/Berlin",
    "created_at": "2026-11-02T09:00:00Z",
    "updated_at": "2026-11-02T09:00:00Z",
}
DRY_RUN = {
    "changes": [
        {
            "meeting_id": "5f0c7d2e-8b1a-4c36-9a57-2f4e1d9b6c03",
            "title": "Interview: Sam",
            "start_time": "2026-11-03T10:00:00Z",
            "will_record_before": False,
            "will_record_after": True,
            "reason_before": "Not recorded: no recording preference is on.",
            "reason_after": f'Recorded: rule:{RULE_ID} "Interviews" joins this meeting.',
            "rule_id": RULE_ID,
        }
    ],
    "proposed_rule": {**RULE_OBJECT, "created_at": None, "updated_at": None},
}


def _request(name: str, value, summary: str = "") -> OpenApiExample:
    return OpenApiExample(name, value=value, summary=summary, request_only=True)


def _response(name: str, value, status_code: int = 200) -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[str(status_code)])


def _not_found(field: str) -> ApiError:
    return ApiError(
        "not_found",
        "Auto-join rule not found.",
        status.HTTP_404_NOT_FOUND,
        errors={field: ["No rule of this owner has this id."]},
    )


class RuleOwnerMixin:
    """Names the rules' owner of a request; a surface's views mix in one of its subclasses."""

    def owner(self, request, **kwargs) -> tuple[Project, CalendarUser | None]:
        raise NotImplementedError

    def rules(self, project: Project, calendar_user: CalendarUser | None):
        """The owner's rules, in the order they are tried."""
        return AutoJoinRule.objects.filter(
            project=project, calendar_user=calendar_user
        ).select_related("calendar_user")


class RuleListView(RuleOwnerMixin, APIView):
    @extend_schema(responses=AutoJoinRuleSerializer(many=True))
    def get(self, request, **kwargs):
        """The owner's rules in the order they are tried: highest priority first, then the
        older. At most 100, so not paginated."""
        project, calendar_user = self.owner(request, **kwargs)
        rules = self.rules(project, calendar_user)
        return Response(AutoJoinRuleSerializer(rules, many=True).data)

    @extend_schema(
        request=AutoJoinRuleSerializer,
        responses={201: AutoJoinRuleSerializer, 400: error_response(f"{REFUSED} {TOO_MANY}")},
        examples=[
            _request("Interviews", RULE, "Join external interviews in office hours"),
            _request(
                "Skip legal",
                {
                    "name": "Never legal",
                    "action": "skip",
                    "priority": 100,
                    "match_mode": "organizer",
                    "organizer_emails": ["legal@acme.com", "@counsel.example"],
                },
                "Never join meetings organised by legal",
            ),
            _response("A rule", RULE_OBJECT, 201),
        ],
    )
    def post(self, request, **kwargs):
        """Create a rule (only `name` is required; the rest take their defaults). The owner's
        upcoming meetings are decided again before this answers: bots are scheduled,
        renamed or cancelled and `bot.*` webhooks sent as the rules now say."""
        project, calendar_user = self.owner(request, **kwargs)
        body = AutoJoinRuleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = rule_services.rule_create(
            project=project, calendar_user=calendar_user, data=dict(body.validated_data)
        )
        return Response(AutoJoinRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailView(RuleOwnerMixin, APIView):
    def get_rule(self, request, kwargs) -> AutoJoinRule:
        project, calendar_user = self.owner(request, **kwargs)
        try:
            rule_id = uuid.UUID(kwargs["id"])
        except ValueError:
            # The calendar user route takes any id (urls.py): an id that is no UUID names no rule.
            raise Http404 from None
        return get_object_or_404(self.rules(project, calendar_user), pk=rule_id)

    @extend_schema(responses=AutoJoinRuleSerializer)
    def get(self, request, **kwargs):
        return Response(AutoJoinRuleSerializer(self.get_rule(request, kwargs)).data)

    @extend_schema(
        request=AutoJoinRuleSerializer,
        responses={200: AutoJoinRuleSerializer, 400: error_response(REFUSED)},
        examples=[
            _request("Turn off", {"is_enabled": False}),
            _request("Office hours", {"time_window_start": "08:30", "time_window_end": "17:00"}),
            _response("A rule", {**RULE_OBJECT, "is_enabled": False}),
        ],
    )
    def patch(self, request, **kwargs):
        """Change the fields given (the owner stays); the rule is checked as a whole. The
        owner's upcoming meetings are decided again, as on create."""
        rule = self.get_rule(request, kwargs)
        body = AutoJoinRuleSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        rule = rule_services.rule_update(rule=rule, data=dict(body.validated_data))
        return Response(AutoJoinRuleSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request, **kwargs):
        """Delete the rule; the meetings it decided are decided again. Later calls: 404."""
        rule_services.rule_delete(rule=self.get_rule(request, kwargs))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RuleDryRunView(RuleOwnerMixin, APIView):
    @extend_schema(
        request=DryRunRequestSerializer,
        responses={
            200: DryRunSerializer,
            400: error_response(f"The proposed rule is refused: {REFUSED}"),
        },
        examples=[
            _request("The saved rules", {}, "What the saved rules would change now"),
            _request("A new rule", {"upsert": RULE}),
            _request("A changed rule", {"upsert": {"id": RULE_ID, "priority": 50}}),
            _request("A rule removed", {"remove": RULE_ID}),
            _response("Changes", DRY_RUN),
        ],
    )
    def post(self, request, **kwargs):
        """What the rules would change, without changing anything: the user's upcoming
        meetings whose decision would differ, before (as stored) and after. `{}`: the saved
        rules; `{"upsert": {...}}`: with a new rule (no `id`) or a saved one changed by the
        fields given; `{"remove": id}`: without that rule. The project's defaults take part as
        saved. Applying the same change through this API then changes exactly these
        meetings (unless meetings or rules change meanwhile)."""
        project, calendar_user = self.owner(request, **kwargs)
        body = DryRunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        upsert = remove = None
        if "upsert" in data:
            fields = dict(data["upsert"])
            saved = None
            if "id" in fields:
                saved = self.rules(project, calendar_user).filter(pk=fields.pop("id")).first()
                if saved is None:
                    raise _not_found("upsert")
            upsert = rule_services.rule_build(
                project=project, calendar_user=calendar_user, data=fields, rule=saved
            )
        if "remove" in data:
            remove = self.rules(project, calendar_user).filter(pk=data["remove"]).first()
            if remove is None:
                raise _not_found("remove")
        rules = None
        if upsert is not None or remove is not None:
            rules = rule_services.proposed_rules(
                calendar_user=calendar_user, upsert=upsert, remove=remove
            )
        changes = rule_services.rules_dry_run(calendar_user=calendar_user, rules=rules)
        return Response(
            DryRunSerializer({"changes": changes, "proposed_rule": upsert}).data,
        )


# --- The server API's owners --------------------------------------------------------------------


class CalendarUserOwner(RuleOwnerMixin):
    """A calendar user of the caller's project, by `external_id` (another project's: 404)."""

    def owner(self, request, **kwargs):
        project = request_project(request)
        calendar_user = get_object_or_404(
            CalendarUser, project=project, external_id=kwargs["external_id"]
        )
        return project, calendar_user


class ProjectOwner(RuleOwnerMixin):
    """The caller's project: its default rules."""

    def owner(self, request, **kwargs):
        return request_project(request), None


@extend_schema(tags=TAGS)
class CalendarUserRulesView(CalendarUserOwner, RuleListView):
    """The calendar user's own rules, tried before the project's defaults."""


@extend_schema(tags=TAGS)
class CalendarUserRuleView(CalendarUserOwner, RuleDetailView):
    """One rule of the calendar user."""


@extend_schema(tags=TAGS)
class CalendarUserRulesDryRunView(CalendarUserOwner, RuleDryRunView):
    """The calendar user's rules, tried without saving."""


@extend_schema(tags=TAGS)
class DefaultRulesView(ProjectOwner, RuleListView):
    """The project's default rules (`calendar_user` null): tried for every calendar user when
    none of the user's own rules matches. A change re-decides every user's upcoming meetings
    (in batches, after it answers)."""


@extend_schema(tags=TAGS)
class DefaultRuleView(ProjectOwner, RuleDetailView):
    """One of the project's default rules."""

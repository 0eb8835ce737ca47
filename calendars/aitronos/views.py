"""The Aitronos meeting-buddy compatible endpoints, for the calendar user of the bearer token.
Thin: validate, call a service or read, serialize."""

from django.db.models import Count
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from calendars import oauth, rule_services, services
from calendars.authentication import IsCalendarUser, request_calendar_user
from calendars.models import Calendar, CalendarUser
from calendars.recall_v1.views import RefreshThrottle
from config.api.exceptions import ApiError
from meetings.models import AutoJoinRule, Meeting

from . import examples, wire
from .schema import AitronosAutoSchema, AitronosBearerAuthentication, error_response
from .serializers import (
    AitronosAuthorizationSerializer,
    AitronosCalendarConnectionSerializer,
    AitronosConnectSerializer,
    AitronosEventListSerializer,
    AitronosEventQuerySerializer,
    AitronosEventSerializer,
    AitronosRuleListSerializer,
    AitronosRuleSerializer,
    AitronosRuleWriteSerializer,
    AitronosSyncResultSerializer,
)

TAGS = ["Aitronos meeting-buddy compatible"]

# What an event row needs (the provider payload and description stay in the database).
EVENT_FIELDS = (
    "id",
    "title",
    "start_time",
    "end_time",
    "meeting_url",
    "meeting_platform",
    "organizer_email",
    "attendees",
    "is_recurring",
    "status",
    "is_deleted",
    "will_record",
    "will_record_reason",
    "updated_at",
    "created_at",
    "calendar__platform",
)


def _operation(name: str) -> str:
    return f"aitronos_{name}"


class AitronosView(APIView):
    authentication_classes = [AitronosBearerAuthentication]
    permission_classes = [IsCalendarUser]
    schema = AitronosAutoSchema()


# --- connections -------------------------------------------------------------------------------


def connections_of(calendar_user: CalendarUser):
    return (
        Calendar.objects.filter(calendar_user=calendar_user)
        .annotate(event_count=Count("meetings"))
        .order_by("created_at", "id")
    )


@extend_schema(tags=TAGS)
class ConnectionsView(AitronosView):
    @extend_schema(
        operation_id=_operation("list_connections"),
        responses=AitronosCalendarConnectionSerializer(many=True),
        examples=examples.LIST_CONNECTIONS,
        description="The user's connected calendars, oldest first.",
    )
    def get(self, request):
        connections = connections_of(request_calendar_user(request))
        return Response(AitronosCalendarConnectionSerializer(connections, many=True).data)

    @extend_schema(
        operation_id=_operation("connect"),
        request=AitronosConnectSerializer,
        responses={
            200: AitronosAuthorizationSerializer,
            400: error_response(
                "`zoom` and `apple_calendar` cannot be connected (`PROVIDER_NOT_SUPPORTED`); the "
                "project has no OAuth app for the provider (`OAUTH_APP_NOT_CONFIGURED`); a "
                "`success_url`/`error_url` outside the project's redirect origins "
                "(`REDIRECT_NOT_ALLOWED`)."
            ),
        },
        examples=examples.CONNECT,
        description="Starts our hosted OAuth flow for `google_calendar` or `outlook_calendar`: "
        "send the user's browser to `authorization_url`. The connection appears in the list "
        "once the user has consented (connecting the same provider again replaces it).",
    )
    def post(self, request):
        data = AitronosConnectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        provider = data.validated_data["provider"]
        if provider not in wire.PROVIDERS:
            message = (
                f"{provider} cannot be connected here: calsync connects google_calendar and "
                "outlook_calendar."
            )
            raise ApiError("provider_not_supported", message, errors={"provider": [message]})
        result = oauth.authorization(
            calendar_user=request_calendar_user(request),
            platform=wire.PROVIDERS[provider],
            success_url=data.validated_data.get("success_url"),
            error_url=data.validated_data.get("error_url"),
            api_key_id=request.user.api_key_id,
        )
        return Response(
            AitronosAuthorizationSerializer(
                {
                    "provider": provider,
                    "authorization_url": result["url"],
                    "state": result["state"],
                    "redirect_uri": result["redirect_uri"],
                }
            ).data
        )


@extend_schema(tags=TAGS)
class ConnectionView(AitronosView):
    @extend_schema(
        operation_id=_operation("disconnect"),
        responses={204: None},
        description="Removes the connection and its synced events; their bots are cancelled. "
        "The user's grant at the provider is not revoked.",
    )
    def delete(self, request, credential_id):
        calendar = get_object_or_404(
            Calendar, pk=credential_id, calendar_user=request_calendar_user(request)
        )
        services.calendar_delete(calendar=calendar)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- events ------------------------------------------------------------------------------------


def events_of(calendar_user: CalendarUser):
    # By the user's calendar ids, not through a join to the user: PostgreSQL estimates a list of
    # ids from the column's statistics and reads them by index (as Recall V1's list,
    # calendars/recall_v1/meeting_rows.py).
    calendar_ids = list(calendar_user.calendars.values_list("pk", flat=True))
    return wire.with_auto_join_status(
        Meeting.objects.filter(calendar_id__in=calendar_ids)
        .select_related("calendar")
        .only(*EVENT_FIELDS)
    )


@extend_schema(tags=TAGS)
class EventsView(AitronosView):
    @extend_schema(
        operation_id=_operation("list_events"),
        parameters=[AitronosEventQuerySerializer],
        responses=AitronosEventListSerializer,
        examples=examples.LIST_EVENTS,
        description="The user's events (one per instance of a recurring series), by start "
        "time. Events deleted from the calendar stay, with `status` `cancelled`.",
    )
    def get(self, request):
        query = AitronosEventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        events = events_of(request_calendar_user(request))
        if "start_after" in filters:
            events = events.filter(start_time__gte=filters["start_after"])
        if "start_before" in filters:
            events = events.filter(start_time__lt=filters["start_before"])
        if "provider" in filters:
            platform = wire.PROVIDERS.get(filters["provider"])
            events = events.filter(calendar__platform=platform) if platform else events.none()
        if "auto_join_status" in filters:
            events = events.filter(auto_join_status=filters["auto_join_status"])
        skip, limit = filters["skip"], filters["limit"]
        total = events.count()
        page = list(events.order_by("start_time", "id")[skip : skip + limit])
        return Response(
            {
                "items": AitronosEventSerializer(page, many=True).data,
                "total": total,
                "skip": skip,
                "limit": limit,
                "has_more": skip + len(page) < total,
            }
        )


@extend_schema(tags=TAGS)
class EventView(AitronosView):
    @extend_schema(
        operation_id=_operation("get_event"),
        responses=AitronosEventSerializer,
        examples=examples.GET_EVENT,
    )
    def get(self, request, event_id):
        event = get_object_or_404(events_of(request_calendar_user(request)), pk=event_id)
        return Response(AitronosEventSerializer(event).data)


# --- sync --------------------------------------------------------------------------------------


@extend_schema(tags=TAGS)
class SyncView(AitronosView):
    # Shares the Recall V1 refresh's budget per calendar user: the same work.
    throttle_classes = [RefreshThrottle]

    @extend_schema(
        operation_id=_operation("sync"),
        request=None,
        responses=AitronosSyncResultSerializer,
        examples=examples.SYNC,
        description="Syncs every connection of the user now, one after the other, in the "
        "request. A connection that fails is listed in `errors` and does not stop the others; "
        "the answer is 200 either way.",
    )
    def post(self, request):
        calendars = list(
            Calendar.objects.filter(calendar_user=request_calendar_user(request)).order_by(
                "created_at", "id"
            )
        )
        providers = {calendar.pk: wire.provider_name(calendar.platform) for calendar in calendars}
        summary = services.calendars_sync_now(calendars=calendars)
        return Response(
            AitronosSyncResultSerializer(
                {
                    "synced_calendars": len(summary.synced_calendars),
                    "new_events": summary.new_events,
                    "updated_events": summary.updated_events,
                    "errors": [
                        f"{providers[calendar_id]}: {message}"
                        for calendar_id, message in summary.errors
                    ],
                }
            ).data
        )


# --- auto-join rules ---------------------------------------------------------------------------

RULE_REFUSED = error_response(
    "Fields the rules engine refuses: the code of the first field error (`INVALID_TIMEZONE`, "
    "`WINDOW_END_BEFORE_START`, `UNKNOWN_WEEKDAY`, `REGEX_TOO_EXPENSIVE`, `REQUIRED`, ...) "
    "with every field's messages in `details`; `TOO_MANY_RULES` past "
    f"{rule_services.MAX_RULES} rules; `VALIDATION_ERROR` for the wrong types."
)


def rules_of(calendar_user: CalendarUser):
    return AutoJoinRule.objects.filter(calendar_user=calendar_user).order_by(
        "-priority", "created_at", "id"
    )


@extend_schema(tags=TAGS)
class RulesView(AitronosView):
    @extend_schema(
        operation_id=_operation("list_rules"),
        responses=AitronosRuleListSerializer,
        examples=examples.LIST_RULES,
        description="The user's auto-join rules in the order they are tried: highest "
        "`priority` first, then the oldest.",
    )
    def get(self, request):
        rules = list(rules_of(request_calendar_user(request)))
        return Response(
            {"items": AitronosRuleSerializer(rules, many=True).data, "total": len(rules)}
        )

    @extend_schema(
        operation_id=_operation("create_rule"),
        request=AitronosRuleWriteSerializer,
        responses={201: AitronosRuleSerializer, 400: RULE_REFUSED},
        examples=examples.CREATE_RULE,
        description="A new rule; the user's upcoming meetings are decided again at once (bots "
        "scheduled or cancelled).",
    )
    def post(self, request):
        data = AitronosRuleWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        calendar_user = request_calendar_user(request)
        rule = rule_services.rule_create(
            project=calendar_user.project, calendar_user=calendar_user, data=data.validated_data
        )
        return Response(AitronosRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS)
class RuleView(AitronosView):
    def get_rule(self, request, rule_id) -> AutoJoinRule:
        return get_object_or_404(rules_of(request_calendar_user(request)), pk=rule_id)

    @extend_schema(
        operation_id=_operation("get_rule"),
        responses=AitronosRuleSerializer,
        examples=examples.GET_RULE,
    )
    def get(self, request, rule_id):
        return Response(AitronosRuleSerializer(self.get_rule(request, rule_id)).data)

    @extend_schema(
        operation_id=_operation("update_rule"),
        request=AitronosRuleWriteSerializer,
        responses={200: AitronosRuleSerializer, 400: RULE_REFUSED},
        examples=examples.UPDATE_RULE,
        description="Changes the fields sent; the user's upcoming meetings are decided again.",
    )
    def patch(self, request, rule_id):
        rule = self.get_rule(request, rule_id)
        data = AitronosRuleWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rule = rule_services.rule_update(rule=rule, data=data.validated_data)
        return Response(AitronosRuleSerializer(rule).data)

    @extend_schema(
        operation_id=_operation("delete_rule"),
        responses={204: None},
        description="Deletes the rule; the user's upcoming meetings are decided again.",
    )
    def delete(self, request, rule_id):
        rule_services.rule_delete(rule=self.get_rule(request, rule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

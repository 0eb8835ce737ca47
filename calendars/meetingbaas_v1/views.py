"""The Meeting BaaS v1 compatible surface: its calendar API under /compat/meetingbaas/, over the
services and selectors the server API uses. Thin: validate, call a service or selector,
serialize. Authentication: our API key, in `x-meeting-baas-api-key` (or `Authorization`)."""

from urllib.parse import parse_qs, urlsplit

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from calendars import meeting_services, services
from calendars.models import Calendar
from config.api.exceptions import ApiError
from config.api.pagination import CursorPagination
from config.api.schema import error_response
from meetings import selectors
from meetings.bot_schedules import attach_schedules
from meetings.models import Meeting
from projects.authentication import (
    ApiKeyAuthentication,
    MeetingBaasApiKeyAuthentication,
    request_project,
)
from projects.scoping import ProjectScopedMixin

from . import examples
from .serializers import (
    MeetingBaasBotParam2Serializer,
    MeetingBaasBotParam3Serializer,
    MeetingBaasBotQuerySerializer,
    MeetingBaasCalendarSerializer,
    MeetingBaasCreateCalendarParamsSerializer,
    MeetingBaasCreateCalendarResponseSerializer,
    MeetingBaasEventSerializer,
    MeetingBaasListEventsQuerySerializer,
    MeetingBaasListRawCalendarsParamsSerializer,
    MeetingBaasListRawCalendarsResponseSerializer,
    MeetingBaasResyncAllCalendarsResponseSerializer,
    MeetingBaasResyncAllQuerySerializer,
    MeetingBaasUpdateCalendarParamsSerializer,
)

TAGS = ["Meeting BaaS v1 compatible"]

PROVIDER_REFUSED = error_response(
    "Credentials the provider refused (`auth_revoked`, `invalid_client`)."
)
PROVIDER_DOWN = error_response(
    "The provider could not be reached or failed (`provider_unavailable`, `rate_limited`)."
)


def _operation(name: str) -> str:
    """Meeting BaaS' operationId, prefixed so it meets none of ours."""
    return f"meetingbaas_v1_{name}"


class MeetingBaasViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    # Meeting BaaS clients send `x-meeting-baas-api-key`; our own tools `Authorization`. The
    # first class also names the scheme a 401 asks for.
    authentication_classes = [MeetingBaasApiKeyAuthentication, ApiKeyAuthentication]
    lookup_url_kwarg = "uuid"


# --- calendars ---------------------------------------------------------------------------------


def _calendars_sync_now(request) -> Response:
    """Both resync_all paths: every calendar of the project, synced in the request."""
    query = MeetingBaasResyncAllQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    calendars = Calendar.objects.filter(project=request_project(request)).order_by(
        "created_at", "id"
    )
    summary = services.calendars_sync_now(calendars=calendars)
    return Response(MeetingBaasResyncAllCalendarsResponseSerializer(summary).data)


RESYNC_ALL = {
    "tags": TAGS,
    "request": None,
    "parameters": [MeetingBaasResyncAllQuerySerializer],
    "responses": MeetingBaasResyncAllCalendarsResponseSerializer,
    "examples": examples.RESYNC_ALL,
    "description": "Syncs every calendar of the project now, one after the other, in the "
    "request. A calendar that fails is listed in `errors` ([uuid, message]) and does not stop "
    "the others; the answer is 200 either way.",
}


@extend_schema(tags=TAGS)
class CalendarViewSet(MeetingBaasViewSet):
    """Calendars connected with your own OAuth client: every calendar of the project."""

    queryset = Calendar.objects.all()
    serializer_class = MeetingBaasCalendarSerializer
    pagination_class = None
    # PATCH takes the whole UpdateCalendarParams, as Meeting BaaS does.
    patch_is_put = True

    def _calendar(self, calendar: Calendar) -> dict:
        fresh = self.get_queryset().get(pk=calendar.pk)
        return MeetingBaasCreateCalendarResponseSerializer({"calendar": fresh}).data

    @extend_schema(
        operation_id=_operation("list_calendars"),
        responses=MeetingBaasCalendarSerializer(many=True),
        examples=examples.LIST_CALENDARS,
        description="Every calendar of the project, oldest first; not paginated.",
    )
    def list(self, request):
        calendars = self.get_queryset().order_by("created_at", "id")
        return Response(self.get_serializer(calendars, many=True).data)

    @extend_schema(
        operation_id=_operation("create_calendar"),
        request=MeetingBaasCreateCalendarParamsSerializer,
        responses={200: MeetingBaasCreateCalendarResponseSerializer},
        examples=examples.CREATE_CALENDAR,
        description="Connects a calendar with your OAuth client. It answers at once; the first "
        "sync runs in the background (or with POST /calendars/resync_all) and sets up the "
        "provider's push channel.",
    )
    def create(self, request):
        data = MeetingBaasCreateCalendarParamsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        calendar = services.calendar_create(project=request_project(request), **data.validated_data)
        return Response(self._calendar(calendar))

    @extend_schema(
        operation_id=_operation("get_calendar"),
        examples=examples.GET_CALENDAR,
    )
    def retrieve(self, request, uuid=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        operation_id=_operation("update_calendar"),
        request=MeetingBaasUpdateCalendarParamsSerializer,
        responses={200: MeetingBaasCreateCalendarResponseSerializer},
        examples=examples.UPDATE_CALENDAR,
        description="New credentials, in one transaction: the calendar's upcoming bots are "
        "unscheduled, the credentials (a new OAuth client id too) swapped and a full resync "
        "queued, which schedules the bots again. The same credentials change nothing. The "
        "platform cannot change (`platform_change_unsupported`, 400): a calendar's events "
        "belong to its provider; create a new calendar instead.",
    )
    def partial_update(self, request, uuid=None):
        calendar = self.get_object()
        data = MeetingBaasUpdateCalendarParamsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if fields.pop("platform") != calendar.platform:
            raise ApiError(
                "platform_change_unsupported",
                "A calendar cannot move to another provider (its events and ids are the "
                "provider's): delete it and create a new calendar.",
                errors={"platform": ["Must be this calendar's platform."]},
            )
        calendar = services.calendar_update(calendar=calendar, **fields)
        return Response(self._calendar(calendar))

    @extend_schema(
        operation_id=_operation("delete_calendar"),
        responses={200: OpenApiResponse(description="Deleted; no body.")},
        description="Stops the provider's push channel, cancels the bots of its events and "
        "deletes the calendar and its events. Later calls on this uuid are 404. The user's "
        "OAuth grant is not revoked.",
    )
    def destroy(self, request, uuid=None):
        services.calendar_delete(calendar=self.get_object())
        response = HttpResponse(status=status.HTTP_200_OK)
        del response["Content-Type"]  # no body, as Meeting BaaS answers
        return response

    @extend_schema(
        operation_id=_operation("list_raw_calendars"),
        request=MeetingBaasListRawCalendarsParamsSerializer,
        responses={
            200: MeetingBaasListRawCalendarsResponseSerializer,
            400: PROVIDER_REFUSED,
            502: PROVIDER_DOWN,
        },
        examples=examples.LIST_RAW_CALENDARS,
        description="The account's calendars at the provider, to pick a `raw_calendar_id`. "
        "Nothing is stored.",
    )
    @action(detail=False, methods=["post"], url_path="raw", url_name="raw")
    def raw(self, request):
        data = MeetingBaasListRawCalendarsParamsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        calendars = services.calendar_list_provider_calendars(**data.validated_data)
        return Response(
            MeetingBaasListRawCalendarsResponseSerializer({"calendars": calendars}).data
        )

    @extend_schema(operation_id=_operation("resync_all"), **RESYNC_ALL)
    @action(detail=False, methods=["post"], url_path="resync_all", url_name="resync-all")
    def resync_all(self, request):
        return _calendars_sync_now(request)


@extend_schema(tags=TAGS)
class InternalCalendarViewSet(MeetingBaasViewSet):
    """The path Meeting BaaS' resync_all had before it moved under /calendars/ (seed 003)."""

    queryset = Calendar.objects.all()
    serializer_class = MeetingBaasResyncAllCalendarsResponseSerializer
    pagination_class = None

    @extend_schema(operation_id=_operation("resync_all_internal"), **RESYNC_ALL)
    @action(detail=False, methods=["post"], url_path="resync_all", url_name="resync-all")
    def resync_all(self, request):
        return _calendars_sync_now(request)


# --- events and their bots ---------------------------------------------------------------------


class EventPagination(CursorPagination):
    """Meeting BaaS' pages: `{data, next}`, at most 100 events, where `next` is the bare
    cursor, sent back as `cursor=` (checked like every cursor of ours)."""

    page_size = 100

    def get_ordering(self, request, queryset, view):
        return view.event_ordering

    def encode_cursor(self, cursor) -> str:
        link = super().encode_cursor(cursor)
        return parse_qs(urlsplit(link).query)[self.cursor_query_param][0]

    def get_paginated_response(self, data):
        return Response({"data": data, "next": self.get_next_link()})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["data", "next"],
            "properties": {
                "data": schema,
                "next": {
                    "type": "string",
                    "nullable": True,
                    "description": "The cursor of the next page (send it back as `cursor`); "
                    "null on the last page.",
                    "example": examples.NEXT_CURSOR,
                },
            },
        }


def _events(meeting_ids, project) -> list:
    meetings = Meeting.objects.filter(project=project, pk__in=list(meeting_ids)).order_by(
        "start_time", "id"
    )
    return MeetingBaasEventSerializer(attach_schedules(list(meetings)), many=True).data


@extend_schema(tags=TAGS)
class CalendarEventViewSet(MeetingBaasViewSet):
    """Events of the project's calendars (one per instance of a recurring series)."""

    queryset = Meeting.objects.all()
    serializer_class = MeetingBaasEventSerializer
    pagination_class = EventPagination

    @extend_schema(
        operation_id=_operation("list_events"),
        parameters=[MeetingBaasListEventsQuerySerializer],
        responses={
            200: MeetingBaasEventSerializer(many=True),
            404: error_response("`calendar_id` names no calendar of this project (`not_found`)."),
        },
        examples=examples.LIST_EVENTS,
        description="One calendar's events, by start time (by change time with "
        "`updated_at_gte`), at most 100 a page; `next` is the cursor of the next page.",
    )
    def list(self, request):
        query = MeetingBaasListEventsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        project = request_project(request)
        if not Calendar.objects.filter(project=project, pk=filters["calendar_id"]).exists():
            raise ApiError("not_found", "Calendar not found.", status.HTTP_404_NOT_FOUND)
        self.event_ordering = selectors.event_ordering(
            None, feed=filters.get("updated_at_gte") is not None
        )
        events = selectors.event_filter(self.get_queryset(), **filters)
        page = attach_schedules(list(self.paginate_queryset(events)))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(operation_id=_operation("get_event"), examples=examples.GET_EVENT)
    def retrieve(self, request, uuid=None):
        meeting = attach_schedules([self.get_object()])[0]
        return Response(self.get_serializer(meeting).data)

    def _bot_call(self, request, call, body_serializer=None) -> Response:
        meeting = self.get_object()
        query = MeetingBaasBotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fields = dict(query.validated_data)
        if body_serializer is not None:
            schedule = attach_schedules([meeting])[0].effective_schedule
            current = schedule.bot_config if schedule is not None and schedule.enabled else {}
            context = {"project": request_project(request), "current_config": current}
            body = body_serializer(data=request.data, context=context)
            body.is_valid(raise_exception=True)
            fields.update(body.validated_data)
        meeting_ids = call(meeting=meeting, **fields)
        return Response(_events(meeting_ids, meeting.project_id))

    @extend_schema(
        methods=["post"],
        operation_id=_operation("schedule_record_event"),
        parameters=[MeetingBaasBotQuerySerializer],
        request=MeetingBaasBotParam2Serializer,
        responses=MeetingBaasEventSerializer(many=True),
        examples=examples.SCHEDULE_BOT,
        description="Schedules a bot for this event (all_occurrences=true: every current and "
        "future instance of its series). Scheduling again replaces the settings; the bot "
        "follows moves and cancellations. Errors: `event_ended`, `event_has_no_meeting_url`, "
        "`event_cancelled`, `event_is_all_day` (400); `deduplication_key_conflict` (a key "
        "another scheduled bot of the project has). "
        "Returns the updated events.",
    )
    @extend_schema(
        methods=["patch"],
        operation_id=_operation("patch_bot"),
        parameters=[MeetingBaasBotQuerySerializer],
        request=MeetingBaasBotParam3Serializer,
        responses=MeetingBaasEventSerializer(many=True),
        examples=examples.PATCH_BOT,
        description="Changes the scheduled bot's settings: the keys sent with a value replace "
        "its own, the others keep theirs. Errors: `bot_not_scheduled` (400), "
        "`deduplication_key_conflict`. Returns the updated events.",
    )
    @extend_schema(
        methods=["delete"],
        operation_id=_operation("unschedule_record_event"),
        parameters=[MeetingBaasBotQuerySerializer],
        request=None,
        responses={200: MeetingBaasEventSerializer(many=True)},
        examples=examples.UNSCHEDULE_BOT,
        description="Removes the scheduled bot (idempotent). Returns the updated events.",
    )
    # Not paginated: the answer is every event the request changed.
    @action(
        detail=True,
        methods=["post", "patch", "delete"],
        url_path="bot",
        url_name="bot",
        pagination_class=None,
    )
    def bot(self, request, uuid=None):
        if request.method == "POST":
            return self._bot_call(
                request, meeting_services.meeting_schedule_bot, MeetingBaasBotParam2Serializer
            )
        if request.method == "PATCH":
            return self._bot_call(
                request, meeting_services.meeting_update_bot, MeetingBaasBotParam3Serializer
            )
        return self._bot_call(request, meeting_services.meeting_unschedule_bot)

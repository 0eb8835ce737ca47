"""Server API: calendars with customer-owned OAuth credentials, their events, bots per event,
calendar users. Thin: validate, call a service or selector, serialize."""

from collections.abc import Mapping

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bots import selectors as bot_selectors
from bots import views as bot_views
from bots.serializers import BotSerializer
from calendars import decision_views, meeting_services, services
from calendars.models import Calendar, CalendarUser
from config.api.exceptions import ApiError
from config.api.ids import UUID_PATTERN
from config.api.pagination import CursorPagination
from config.api.renderers import ListJSONRenderer
from config.api.schema import error_response
from meetings import selectors
from meetings.bot_schedules import attach_schedules
from meetings.models import Meeting
from projects.authentication import request_project
from projects.scoping import ProjectScopedMixin

from . import event_rows
from .serializers import (
    BotCreateSerializer,
    BotQuerySerializer,
    BotUpdateSerializer,
    CalendarCreateSerializer,
    CalendarFilterSerializer,
    CalendarSerializer,
    CalendarUpdateSerializer,
    EventBotCreateSerializer,
    EventFilterSerializer,
    EventSerializer,
    RawCalendarsRequestSerializer,
    RawCalendarsSerializer,
    ResyncAllQuerySerializer,
    ResyncAllSerializer,
    ServerCalendarUserSerializer,
    SyncSummarySerializer,
)

TAGS = ["Server API: calendars"]


class CalendarPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class EventPagination(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_ordering(self, request, queryset, view):
        return view.event_ordering


@extend_schema(tags=TAGS)
class CalendarViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    """Calendars connected with your own OAuth client (client id, secret, refresh token).
    Secrets are write-only."""

    queryset = Calendar.objects.select_related("calendar_user")
    serializer_class = CalendarSerializer
    pagination_class = CalendarPagination
    lookup_value_regex = UUID_PATTERN

    def _fresh(self, calendar: Calendar) -> dict:
        return CalendarSerializer(self.get_queryset().get(pk=calendar.pk)).data

    @extend_schema(parameters=[CalendarFilterSerializer])
    def list(self, request):
        query = CalendarFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        calendars = self.get_queryset()
        for name, lookup in (
            ("state", "state"),
            ("platform", "platform"),
            ("deduplication_key", "deduplication_key"),
            ("external_id", "calendar_user__external_id"),
            ("created_at_gte", "created_at__gte"),
            ("created_at_lte", "created_at__lte"),
        ):
            if name in filters:
                calendars = calendars.filter(**{lookup: filters[name]})
        page = self.paginate_queryset(calendars)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=CalendarCreateSerializer,
        responses={
            201: CalendarSerializer,
            400: error_response(
                "`deduplication_key_conflict`: another calendar of the project has this key "
                "(`errors.deduplication_key`, and its id in `errors.existing_id`)."
            ),
            409: error_response("`calendar_user_platform_taken`."),
        },
    )
    def create(self, request):
        """Returns at once in state `connecting`; the first sync runs in the background and
        makes it `connected` or `disconnected` (with `connection_failure_data`). Errors:
        `deduplication_key_conflict` (400, as Attendee: `errors.deduplication_key`, plus
        `errors.existing_id`), `calendar_user_platform_taken` (409)."""
        data = CalendarCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["platform_calendar_id"] = fields.pop("platform_uuid", None) or ""
        calendar = services.calendar_create(project=request_project(request), **fields)
        return Response(self._fresh(calendar), status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=CalendarUpdateSerializer, responses=CalendarSerializer)
    def partial_update(self, request, pk=None):
        """New credentials: the calendar's upcoming bots are unscheduled, the credentials
        swapped and a full resync queued, in one transaction (state `connecting`). A
        disconnected calendar reconnects this way."""
        calendar = self.get_object()
        data = CalendarUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        calendar = services.calendar_update(calendar=calendar, **data.validated_data)
        return Response(self._fresh(calendar))

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Stops the provider channel, cancels the bots of its meetings, deletes the calendar
        and its events. Later calls on this id are 404."""
        services.calendar_delete(calendar=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=RawCalendarsRequestSerializer,
        responses={
            200: RawCalendarsSerializer,
            400: error_response(
                "Credentials the provider refused (`auth_revoked`, `invalid_client`)."
            ),
            502: error_response(
                "The provider could not be reached or failed (`provider_unavailable`, "
                "`rate_limited`)."
            ),
        },
    )
    @action(detail=False, methods=["post"], url_path="raw", url_name="raw")
    def raw(self, request):
        """The account's calendars at the provider, to pick a `platform_uuid`. Nothing is
        stored. Refused credentials: `auth_revoked`, `invalid_client` (400); provider down:
        `provider_unavailable`, `rate_limited` (502)."""
        data = RawCalendarsRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        calendars = services.calendar_list_provider_calendars(**data.validated_data)
        return Response(RawCalendarsSerializer({"calendars": calendars}).data)

    @extend_schema(
        request=None, parameters=[ResyncAllQuerySerializer], responses=ResyncAllSerializer
    )
    @action(detail=False, methods=["post"], url_path="resync_all", url_name="resync-all")
    def resync_all(self, request):
        """Sync every calendar of the project now (Meeting BaaS). Failures are listed in
        `errors` as [calendar id, message]; the answer is 200 either way."""
        query = ResyncAllQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        summary = services.calendars_sync_now(calendars=self.get_queryset().order_by("created_at"))
        return Response(ResyncAllSerializer(summary).data)

    @extend_schema(request=None, responses=SyncSummarySerializer)
    @action(detail=True, methods=["post"], url_path="sync", url_name="sync")
    def sync(self, request, pk=None):
        """Sync this calendar now, in the request (Aitronos summary)."""
        summary = services.calendars_sync_now(calendars=[self.get_object()])
        return Response(SyncSummarySerializer(summary).data)


def events_response(meeting_ids, project) -> Response:
    """The updated events of a bot request, in start order."""
    meetings = list(
        bot_selectors.event_queryset()
        .filter(project=project, pk__in=list(meeting_ids))
        .order_by("start_time", "id")
    )
    return Response(EventSerializer(attach_schedules(meetings), many=True).data)


@extend_schema(tags=TAGS)
class CalendarEventViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    """Events of the project's calendars (one per instance of a recurring series), with the
    bots scheduled for them."""

    queryset = bot_selectors.event_queryset()
    serializer_class = EventSerializer
    pagination_class = EventPagination
    lookup_value_regex = UUID_PATTERN

    def get_renderers(self):
        # The list is built from rows for ListJSONRenderer; the other routes' data is not.
        if self.action == "list":
            return [ListJSONRenderer()]
        return super().get_renderers()

    @extend_schema(
        parameters=[EventFilterSerializer],
        responses={
            200: EventSerializer(many=True),
            404: error_response("`calendar_id` names no calendar of this project (`not_found`)."),
        },
    )
    def list(self, request):
        """Cursor pagination, at most 100 per page. `updated_at_gte` is a change feed: poll
        with the newest `updated_at` you received and no change is ever skipped. `event_id`
        finds one event (Attendee): a list of it, or an empty list."""
        query = EventFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        ordering = filters.pop("ordering", None)
        project = request_project(request)
        calendar_id = filters.get("calendar_id")
        if calendar_id and not Calendar.objects.filter(project=project, pk=calendar_id).exists():
            raise ApiError("not_found", "Calendar not found.", status.HTTP_404_NOT_FOUND)
        self.event_ordering = selectors.event_ordering(
            ordering, feed=filters.get("updated_at_gte") is not None
        )
        events = selectors.event_filter(
            Meeting.objects.filter(project=project), project_id=project.pk, **filters
        )
        # Rows, not model objects: the page is built without a serializer per event and bot.
        page = self.paginate_queryset(event_rows.event_values(events))
        return self.get_paginated_response(event_rows.event_rows(page))

    def retrieve(self, request, pk=None):
        meeting = attach_schedules([self.get_object()])[0]
        return Response(self.get_serializer(meeting).data)

    def _bot_call(self, request, call, body_serializer=None):
        meeting = self.get_object()
        query = BotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fields = dict(query.validated_data)
        if body_serializer is not None:
            body = body_serializer(data=request.data, context={"project": request_project(request)})
            body.is_valid(raise_exception=True)
            fields.update(body.validated_data)
        meeting_ids = call(meeting=meeting, **fields)
        return events_response(meeting_ids, meeting.project_id)

    @extend_schema(
        methods=["post"],
        parameters=[BotQuerySerializer],
        request=BotCreateSerializer,
        responses={
            200: EventSerializer(many=True),
            400: error_response(
                "`event_ended`, `event_has_no_meeting_url`, `event_cancelled`, "
                "`event_is_all_day`; `deduplication_key_conflict` (`errors.deduplication_key`)."
            ),
        },
        description="Schedule a bot for this event (all_occurrences=true: every current and "
        "future instance of its series, including instances synced later). Scheduling again "
        "replaces the settings. The bot follows moves and cancellations. Errors (400): "
        "`event_ended`, `event_has_no_meeting_url`, `event_cancelled`, `event_is_all_day`, "
        "`deduplication_key_conflict` (another bot of the project has the key; "
        "`errors.deduplication_key`, as Attendee answers). Returns the updated events. "
        "`POST /api/v1/bots` with `calendar_event_id` does the same for one event.",
    )
    @extend_schema(
        methods=["patch"],
        parameters=[BotQuerySerializer],
        request=BotUpdateSerializer,
        responses={
            200: EventSerializer(many=True),
            400: error_response("`bot_not_scheduled`, `deduplication_key_conflict`."),
        },
        description="Change the scheduled bot's settings. Errors (400): `bot_not_scheduled`, "
        "`deduplication_key_conflict` (`errors.deduplication_key`).",
    )
    @extend_schema(
        methods=["delete"],
        parameters=[BotQuerySerializer],
        request=None,
        responses={200: EventSerializer(many=True)},
        description="Remove the scheduled bot (idempotent). Returns the updated events.",
    )
    # Not paginated: the answer is every event the request changed.
    @action(
        detail=True,
        methods=["post", "patch", "delete"],
        url_path="bot",
        url_name="bot",
        pagination_class=None,
    )
    def bot(self, request, pk=None):
        if request.method == "POST":
            return self._bot_call(
                request, meeting_services.meeting_schedule_bot, BotCreateSerializer
            )
        if request.method == "PATCH":
            return self._bot_call(request, meeting_services.meeting_update_bot, BotUpdateSerializer)
        return self._bot_call(request, meeting_services.meeting_unschedule_bot)

    @extend_schema(**decision_views.schema("No event of this project has this id (`not_found`)."))
    @action(detail=True, methods=["get"], url_path="decision", url_name="decision")
    def decision(self, request, pk=None):
        """Why (no) bot? The recording decision step by step, and the event's bot."""
        return decision_views.decision_response(pk, project=request_project(request))


@extend_schema(tags=TAGS)
@extend_schema_view(list=extend_schema(operation_id="calendar_users_server_list"))
class CalendarUserViewSet(ProjectScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Calendar users (your end users, by your `external_id`) and their calendars."""

    queryset = CalendarUser.objects.prefetch_related(
        Prefetch("calendars", queryset=Calendar.objects.order_by("created_at"))
    )
    serializer_class = ServerCalendarUserSerializer
    pagination_class = CalendarPagination
    lookup_field = "external_id"
    # Any id, `/` included (percent-encoded as %2F, which arrives decoded); an id that ends
    # with `/` needs the trailing slash.
    lookup_value_regex = ".+?"

    def retrieve(self, request, external_id=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, external_id=None):
        """Deletes the user, its calendars and their events; their bots are cancelled."""
        services.calendar_user_delete(calendar_user=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class BotViewSet(bot_views.BotViewSet):
    """The project's bots (`bots/views.py`), plus Attendee's way to put a bot on a calendar
    event and to take it off, over the same services as `/calendar_events/{id}/bot/`. Mounted
    here, not in the bots app: creating and deleting go through the calendar services, a
    layer above the bots app."""

    @extend_schema(
        request=EventBotCreateSerializer,
        responses={
            201: BotSerializer,
            400: error_response(
                "`calendar_event_id_required` (bots are only scheduled for calendar events); "
                "`event_ended`, `event_has_no_meeting_url`, `event_cancelled`, "
                "`event_is_all_day`; `deduplication_key_conflict` (`errors.deduplication_key`)."
            ),
            404: error_response("`calendar_event_id` names no event of this project."),
            409: error_response(
                "`bot_not_created`: the event gets no bot now (its calendar is connecting or "
                "disconnected, or recording is turned off for it); nothing is stored."
            ),
        },
        description="Attendee's bot create with `calendar_event_id`: the bot joins the event's "
        "meeting URL at its start (minus the project's lead time) and follows its moves and "
        "cancellation. `meeting_url`, `join_at` and `metadata` are refused; Attendee's settings "
        "(`transcription_settings`, `recording_settings`, ...) are stored in `bot_config`. "
        "The same service as `POST /calendar_events/{id}/bot/`, so one event has one bot: a "
        "second create for an event replaces the settings of its bot and answers that bot "
        "again (a `deduplication_key` another bot of the project holds is refused, as in "
        "Attendee). The bot exists when this answers (201).",
        examples=[
            OpenApiExample(
                "A bot for a calendar event",
                request_only=True,
                value={
                    "calendar_event_id": "5f0c7d2e-8b1a-4c36-9a57-2f4e1d9b6c03",
                    "bot_name": "Notetaker",
                    "transcription_settings": {"deepgram": {"language": "en"}},
                    "deduplication_key": "5f0c7d2e-8b1a-4c36-9a57-2f4e1d9b6c03",
                },
            )
        ],
    )
    def create(self, request):
        project = request_project(request)
        if isinstance(request.data, Mapping) and request.data.get("calendar_event_id") in (
            None,
            "",
        ):
            raise ApiError(
                "calendar_event_id_required",
                "calsync schedules bots for calendar events only: send `calendar_event_id` "
                "(an id from GET /api/v1/calendar_events). Bots for a bare `meeting_url` are "
                "not managed here.",
                status.HTTP_400_BAD_REQUEST,
            )
        body = EventBotCreateSerializer(data=request.data, context={"project": project})
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        meeting = Meeting.objects.filter(
            project=project, pk=fields.pop("calendar_event_id")
        ).first()
        if meeting is None:
            raise ApiError(
                "not_found",
                "Calendar event not found.",
                status.HTTP_404_NOT_FOUND,
                errors={"calendar_event_id": ["No event of this project has this id."]},
            )
        bot = meeting_services.meeting_bot_create(meeting=meeting, **fields)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=bot.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=None,
        responses={
            200: BotSerializer,
            409: error_response(
                "`bot_already_dispatched` (handed to its runner), `bot_terminal` (ended), "
                "`bot_not_scheduled_by_api` (recording preferences or an override record its "
                "meetings)."
            ),
        },
        description="Attendee's unschedule: the bot's events lose their bot request (as "
        "`DELETE /calendar_events/{id}/bot/`, for this occurrence only) and the bot is "
        "cancelled. Only a `scheduled` bot. Idempotent: a cancelled bot answers 200 as it is "
        "(the bot object, `status: cancelled`, where Attendee answers an empty 200).",
    )
    def destroy(self, request, pk=None):
        bot = meeting_services.bot_unschedule(bot=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=bot.pk)).data)

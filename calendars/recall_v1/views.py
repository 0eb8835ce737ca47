"""Recall Calendar V1 compatible endpoints. Thin: validate, call a service, serialize."""

from django.db.models import Prefetch
from django.db.models.functions import Left
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, throttling
from rest_framework.response import Response
from rest_framework.views import APIView

from bots.models import Bot
from calendars import decision_views, oauth, services, tokens
from calendars.authentication import (
    CalendarTokenAuthentication,
    IsCalendarUser,
    request_calendar_user,
)
from calendars.meeting_services import meeting_set_override
from calendars.models import CalendarUser
from calendars.server_api.serializers import SyncSummarySerializer
from config.api.pagination import CursorPagination
from config.api.renderers import ListJSONRenderer
from config.api.schema import error_response
from meetings.models import Meeting
from projects.authentication import request_project

from . import meeting_rows
from .serializers import (
    AuthenticateSerializer,
    CalendarUserSerializer,
    CalendarUserUpdateSerializer,
    DisconnectSerializer,
    MeetingQuerySerializer,
    MeetingSerializer,
    MeetingUpdateSerializer,
    OAuthUrlQuerySerializer,
    OAuthUrlSerializer,
    TokenSerializer,
)

TAGS = ["Calendar V1 (Recall compatible)"]
CALENDAR_USER = {"$ref": "#/components/schemas/CalendarUser"}


class CalendarTokenView(APIView):
    """Base of the routes a browser calls with a calendar auth token."""

    authentication_classes = [CalendarTokenAuthentication]
    permission_classes = [IsCalendarUser]


def calendar_user_queryset():
    return CalendarUser.objects.select_related("project").prefetch_related("calendars")


def user_response(calendar_user: CalendarUser, status_code: int = status.HTTP_200_OK) -> Response:
    fresh = calendar_user_queryset().get(pk=calendar_user.pk)
    return Response(CalendarUserSerializer(fresh).data, status=status_code)


def meetings_of(calendar_user: CalendarUser):
    return (
        Meeting.objects.filter(calendar__calendar_user=calendar_user, is_deleted=False)
        .select_related("calendar")
        .prefetch_related(
            Prefetch(
                "bots",
                queryset=Bot.objects.live().order_by("join_at"),
                to_attr="live_bots",
            )
        )
        .order_by("start_time", "id")
    )


@extend_schema(tags=TAGS)
class AuthenticateView(APIView):
    """Mint a calendar auth token for a user of yours (created on first use). API key auth."""

    @extend_schema(request=AuthenticateSerializer, responses=TokenSerializer)
    def post(self, request):
        data = AuthenticateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        calendar_user = services.calendar_user_get_or_create(
            project=request_project(request), external_id=data.validated_data["user_id"]
        )
        return Response({"token": tokens.mint(calendar_user, api_key_id=request.auth.pk)})


@extend_schema(tags=TAGS)
class CalendarUsersView(APIView):
    """List the project's calendar users. API key auth."""

    @extend_schema(
        parameters=[
            OpenApiParameter("email", str, description="Connected calendar's email."),
            OpenApiParameter(
                "paginate",
                bool,
                description="true: a page `{next, previous, results}` instead of the whole array.",
            ),
        ],
        responses={
            200: OpenApiResponse(
                {
                    "oneOf": [
                        {"type": "array", "items": CALENDAR_USER},
                        {
                            "type": "object",
                            "required": ["results"],
                            "properties": {
                                "next": {"type": "string", "format": "uri", "nullable": True},
                                "previous": {"type": "string", "format": "uri", "nullable": True},
                                "results": {"type": "array", "items": CALENDAR_USER},
                            },
                        },
                    ]
                },
                description="An array of calendar users; with `paginate=true` a cursor page.",
            )
        },
        operation_id="v1_calendar_users_list",
    )
    def get(self, request):
        users = calendar_user_queryset().filter(project=request_project(request))
        email = request.query_params.get("email")
        if email:
            users = users.filter(calendars__email__iexact=email).distinct()
        users = users.order_by("created_at", "id")
        if request.query_params.get("paginate", "").lower() in ("true", "1"):
            paginator = CalendarUserPagination()
            page = paginator.paginate_queryset(users, request, view=self)
            return paginator.get_paginated_response(CalendarUserSerializer(page, many=True).data)
        return Response(CalendarUserSerializer(users, many=True).data)


class CalendarUserPagination(CursorPagination):
    ordering = ("created_at", "id")
    page_size = 100


@extend_schema(tags=TAGS)
class CalendarUserView(CalendarTokenView):
    @extend_schema(responses=CalendarUserSerializer)
    def get(self, request):
        return user_response(request_calendar_user(request))

    @extend_schema(
        request=CalendarUserUpdateSerializer,
        responses={
            200: CalendarUserSerializer,
            409: error_response("Another calendar user has that `external_id` (`conflict`)."),
        },
    )
    def put(self, request):
        calendar_user = request_calendar_user(request)
        data = CalendarUserUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.calendar_user_update(
            calendar_user=calendar_user,
            preferences=data.validated_data.get("preferences"),
            external_id=data.validated_data.get("external_id"),
        )
        return user_response(calendar_user)

    patch = put

    @extend_schema(responses={204: None})
    def delete(self, request):
        services.calendar_user_delete(calendar_user=request_calendar_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=TAGS)
class DisconnectView(CalendarTokenView):
    @extend_schema(request=DisconnectSerializer, responses=CalendarUserSerializer)
    def post(self, request):
        data = DisconnectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        calendar_user = request_calendar_user(request)
        services.calendar_user_disconnect(
            calendar_user=calendar_user, platform=data.validated_data["platform"]
        )
        return user_response(calendar_user)


@extend_schema(tags=TAGS)
class MeetingListView(CalendarTokenView):
    renderer_classes = [ListJSONRenderer]  # the list is built from rows for it

    @extend_schema(parameters=[MeetingQuerySerializer], responses=MeetingSerializer(many=True))
    def get(self, request):
        query = MeetingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            meeting_rows.calendar_user_meetings(
                request_calendar_user(request),
                lambda meetings: filter_meetings(meetings, **query.validated_data),
            )
        )


def filter_meetings(meetings, *, ical_uid=None, start_time_after=None, start_time_before=None):
    if ical_uid:
        # Case-sensitive on every database (SQLite's LIKE is not): compare the leading characters.
        meetings = meetings.annotate(ical_uid_prefix=Left("ical_uid", len(ical_uid))).filter(
            ical_uid_prefix=ical_uid
        )
    if start_time_after:
        meetings = meetings.filter(start_time__gte=start_time_after)
    if start_time_before:
        meetings = meetings.filter(start_time__lte=start_time_before)
    return meetings


@extend_schema(tags=TAGS)
class MeetingDetailView(CalendarTokenView):
    def get_meeting(self, request, meeting_id) -> Meeting:
        return get_object_or_404(meetings_of(request_calendar_user(request)), pk=meeting_id)

    @extend_schema(responses=MeetingSerializer)
    def get(self, request, meeting_id):
        return Response(MeetingSerializer(self.get_meeting(request, meeting_id)).data)

    @extend_schema(request=MeetingUpdateSerializer, responses=MeetingSerializer)
    def put(self, request, meeting_id):
        meeting = self.get_meeting(request, meeting_id)
        data = MeetingUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting_set_override(meeting=meeting, value=data.validated_data["override_should_record"])
        return Response(MeetingSerializer(self.get_meeting(request, meeting_id)).data)

    patch = put
    patch_is_put = True  # PATCH requires `override_should_record` too (the OpenAPI schema says so)


@extend_schema(tags=["Calendar V1 extension: decision trace (calsync's own)"])
class MeetingDecisionView(CalendarTokenView):
    """Why (no) bot? calsync's extension of V1 (Recall has no such route)."""

    @extend_schema(**decision_views.schema("No meeting of the token's user has this id."))
    def get(self, request, meeting_id):
        calendar_user = request_calendar_user(request)
        return decision_views.decision_response(
            meeting_id, calendar__calendar_user=calendar_user, is_deleted=False
        )


class RefreshThrottle(throttling.SimpleRateThrottle):
    """Per calendar user (Recall: 120 per minute)."""

    scope = "calendar_refresh"

    def get_rate(self) -> str:
        from django.conf import settings

        return settings.CALENDAR_REFRESH_RATE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.user.calendar_user.pk}


@extend_schema(tags=TAGS)
class MeetingRefreshView(CalendarTokenView):
    throttle_classes = [RefreshThrottle]
    renderer_classes = [ListJSONRenderer]

    @extend_schema(request=None, responses=MeetingSerializer(many=True))
    def post(self, request):
        calendar_user = request_calendar_user(request)
        # Recall's refresh answers with the list; failures show on the user's connections.
        live = calendar_user.calendars.live()
        services.calendars_sync_now(calendars=live)
        return Response(meeting_rows.calendar_user_meetings(calendar_user))


@extend_schema(tags=TAGS)
class CalendarSyncView(CalendarTokenView):
    """Sync the user's calendars now and summarize (Aitronos `POST /calendar/sync`). 200 even
    when a calendar fails; its error is in `errors`."""

    throttle_classes = [RefreshThrottle]

    @extend_schema(request=None, responses=SyncSummarySerializer)
    def post(self, request):
        calendars = request_calendar_user(request).calendars.order_by("created_at")
        return Response(
            SyncSummarySerializer(services.calendars_sync_now(calendars=calendars)).data
        )


@extend_schema(tags=TAGS)
class OAuthUrlView(CalendarTokenView):
    """Build the provider authorization URL (with scopes, redirect URI and state) for this user."""

    @extend_schema(parameters=[OAuthUrlQuerySerializer], responses=OAuthUrlSerializer)
    def get(self, request):
        query = OAuthUrlQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = oauth.authorization(
            calendar_user=request_calendar_user(request),
            platform=query.validated_data["platform"],
            success_url=query.validated_data.get("success_url"),
            error_url=query.validated_data.get("error_url"),
            api_key_id=request.user.api_key_id,
        )
        return Response(result)

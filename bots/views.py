from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api.ids import UUID_PATTERN
from config.api.pagination import CursorPagination
from config.api.schema import error_response
from projects.scoping import ProjectScopedMixin

from . import selectors, services
from .serializers import BotFilterSerializer, BotSerializer, BotStatusReportSerializer


class BotPagination(CursorPagination):
    ordering = ("join_at", "id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class BotViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    """The project's bots, scheduled from calendar meetings, with their status history. The
    server API mounts it with create and delete (`calendars/server_api/views.py`)."""

    queryset = selectors.bot_queryset()
    serializer_class = BotSerializer
    pagination_class = BotPagination
    lookup_value_regex = UUID_PATTERN

    @extend_schema(parameters=[BotFilterSerializer])
    def list(self, request):
        """Bots by join time, oldest first (`join_at_after=<now>` for upcoming ones)."""
        filters = BotFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        bots = selectors.bot_filter(self.get_queryset(), **filters.validated_data)
        page = self.paginate_queryset(bots)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=BotStatusReportSerializer,
        responses={
            200: BotSerializer,
            409: error_response("`bot_terminal`, `invalid_transition` or `bot_not_dispatched`."),
        },
    )
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def report_status(self, request, pk=None):
        """A bot runner reports the bot's status (Recall's codes). Each accepted report is
        sent as `bot.status_change` and `bot.<code>` webhooks; repeating the latest report
        changes nothing. Refusals: `unknown_status_code`, `status_not_reportable` (400);
        `bot_terminal`, `invalid_transition`, `bot_not_dispatched` (409)."""
        bot = self.get_object()
        report = BotStatusReportSerializer(data=request.data)
        report.is_valid(raise_exception=True)
        services.bot_report_status(bot=bot, **report.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=bot.pk)).data)

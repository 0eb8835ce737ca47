from datetime import timedelta

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api.ids import UUID_PATTERN
from config.api.pagination import CursorPagination
from config.api.schema import error_response
from projects.authentication import request_project
from projects.scoping import ProjectScopedMixin

from . import events, services
from .models import WebhookDelivery, WebhookEndpoint
from .serializers import (
    EventTypeSerializer,
    RotateSecretInputSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)

ENDPOINT_DISABLED = error_response("The endpoint is disabled (`endpoint_disabled`).")


class DeliveryPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class WebhookEndpointViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    """Webhook endpoints of the caller's project. The signing secret is in the response to
    create and rotate_secret only; static header values are never in a response."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    lookup_value_regex = UUID_PATTERN

    def list(self, request):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointWithSecretSerializer},
    )
    def create(self, request):
        data = WebhookEndpointCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(project=request_project(request), **data.validated_data)
        return Response(
            WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=WebhookEndpointInputSerializer)
    def update(self, request, pk=None, partial=False):
        endpoint = self.get_object()
        data = WebhookEndpointInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(request=WebhookEndpointInputSerializer)
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        self.get_object().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={200: WebhookDeliverySerializer, 409: ENDPOINT_DISABLED},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Send a `webhook.test` event now and answer with the first attempt's outcome."""
        delivery = services.endpoint_send_test(endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data)

    @extend_schema(
        request=RotateSecretInputSerializer, responses={200: WebhookEndpointWithSecretSerializer}
    )
    @action(detail=True, methods=["post"])
    def rotate_secret(self, request, pk=None):
        """A new signing secret (or the given one), shown once; the old one keeps signing for
        `overlap_seconds`."""
        data = RotateSecretInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_rotate_secret(
            endpoint=self.get_object(),
            overlap=timedelta(seconds=data.validated_data["overlap_seconds"]),
            secret=data.validated_data.get("secret"),
        )
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=DeliveryPagination)
    def deliveries(self, request, pk=None):
        """The endpoint's deliveries, newest first, each with its attempts."""
        queryset = self.get_object().deliveries.prefetch_related("attempts")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer, 409: ENDPOINT_DISABLED},
        parameters=[OpenApiParameter("delivery_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=f"deliveries/(?P<delivery_id>{UUID_PATTERN})/retry",
        url_name="delivery-retry",
    )
    def retry_delivery(self, request, pk=None, delivery_id=None):
        """Deliver again (same event id) and retry for another 24 h if needed."""
        endpoint = self.get_object()
        delivery = get_object_or_404(
            WebhookDelivery.objects.select_related("endpoint"), pk=delivery_id, endpoint=endpoint
        )
        delivery = services.delivery_retry(delivery=delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses=EventTypeSerializer(many=True),
        examples=[
            OpenApiExample(name, value=EventTypeSerializer(event_type).data, response_only=True)
            for name, event_type in events.CATALOGUE.items()
        ],
    )
    @action(detail=False, methods=["get"])
    def event_types(self, request):
        """Every event type, with an example body."""
        return Response(EventTypeSerializer(events.CATALOGUE.values(), many=True).data)

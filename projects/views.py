from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from calendars.models import OAuthApp
from calendars.platforms import Platform
from config.api.schema import error_response

from .authentication import request_project
from .models import ApiKey
from .scoping import ProjectScopedMixin
from .serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    OAuthAppSerializer,
    ProjectSerializer,
)
from .services import api_key_revoke, oauth_app_set


class ProjectViewSet(viewsets.GenericViewSet):
    """The caller's own project: settings that apply to all its calendars and bots."""

    serializer_class = ProjectSerializer

    def retrieve(self, request):
        return Response(self.get_serializer(request_project(request)).data)

    def partial_update(self, request):
        serializer = self.get_serializer(request_project(request), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)


class ApiKeyViewSet(
    ProjectScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """API keys of the caller's project. A key is shown once, when created; DELETE revokes it."""

    serializer_class = ApiKeySerializer
    queryset = ApiKey.objects.all()

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer})
    def create(self, request):
        data = ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        api_key, raw_key = ApiKey.issue(project=request_project(request), **data.validated_data)
        api_key.key = raw_key
        return Response(ApiKeyCreatedSerializer(api_key).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            204: None,
            409: error_response(
                "The project's last active key (`last_active_key`): create another one first."
            ),
        }
    )
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance: ApiKey) -> None:
        api_key_revoke(api_key=instance)


class OAuthAppViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    """The project's OAuth apps, one per calendar platform, used by the hosted connect flow."""

    serializer_class = OAuthAppSerializer
    lookup_field = "platform"
    lookup_value_regex = "|".join(Platform.values)
    queryset = OAuthApp.objects.all()

    def list(self, request):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    def retrieve(self, request, platform: str):
        return Response(
            self.get_serializer(get_object_or_404(self.get_queryset(), platform=platform)).data
        )

    def update(self, request, platform: str):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        app = oauth_app_set(
            project=request_project(request), platform=platform, **serializer.validated_data
        )
        return Response(self.get_serializer(app).data)

    def destroy(self, request, platform: str):
        get_object_or_404(self.get_queryset(), platform=platform).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

from django.urls import re_path

from config.api.routers import OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register("api_keys", views.ApiKeyViewSet, basename="api-key")
router.register("project/oauth_apps", views.OAuthAppViewSet, basename="oauth-app")

project = views.ProjectViewSet.as_view({"get": "retrieve", "patch": "partial_update"})

urlpatterns = [
    re_path(r"^project/?$", project, name="project"),
    *router.urls,
]

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

admin.site.site_header = "calsync support"
admin.site.site_title = "calsync"

urlpatterns = [
    path("", views.landing, name="landing"),
    re_path(r"^healthz/?$", views.healthz, name="healthz"),
    # The quick start's demo webhook receiver: the view answers 404 unless DEBUG.
    re_path(r"^demo/webhooks/?$", views.demo_webhooks, name="demo_webhooks"),
    path("admin/", admin.site.urls),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(
        r"^api/docs/?$",
        SpectacularSwaggerView.as_view(url_name="schema"),
        name="docs",
    ),
    path("api/v1/", include("projects.urls")),
    path("api/v1/", include("webhooks.urls")),
    path("api/v1/", include("calendars.recall_v1.urls")),
    path("api/v1/", include("calendars.urls")),
    path("api/v1/", include("calendars.server_api.urls")),
    path("compat/meetingbaas/", include("calendars.meetingbaas_v1.urls")),
    path("compat/aitronos/v1/meeting-buddy/", include("calendars.aitronos.urls")),
]

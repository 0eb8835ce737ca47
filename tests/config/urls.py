"""URLs for tests that need a view which fails in a particular way."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_POST
from rest_framework.decorators import api_view, authentication_classes, permission_classes


@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def crash(request):
    raise RuntimeError("boom: secret detail that must not leak")


@require_POST
def plain_post_only(request):
    return HttpResponse("ok")


urlpatterns = [
    path("api/test/crash/", crash),
    path("api/test/post-only/", plain_post_only),
    path("", include("config.urls")),
]

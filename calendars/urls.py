from django.urls import re_path

from . import views_push

# Every registered provider's receivers: /push/<platform>/ and /push/<platform>/<endpoint>/.
urlpatterns = [
    re_path(r"^push/(?P<platform>[a-z0-9]+)/?$", views_push.receive, name="push"),
    re_path(
        r"^push/(?P<platform>[a-z0-9]+)/(?P<endpoint>[a-z0-9]+)/?$",
        views_push.receive,
        name="push-endpoint",
    ),
]

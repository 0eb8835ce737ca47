from django.urls import re_path

from . import views_push

urlpatterns = [
    re_path(r"^push/google/?$", views_push.google_push, name="push-google"),
    re_path(r"^push/microsoft/?$", views_push.microsoft_push, name="push-microsoft"),
    re_path(
        r"^push/microsoft/lifecycle/?$",
        views_push.microsoft_lifecycle,
        name="push-microsoft-lifecycle",
    ),
]

"""Mounted at /compat/aitronos/v1/meeting-buddy/: an Aitronos client's base URL
https://api.aitronos.com/v1/meeting-buddy becomes https://<host>/compat/aitronos/v1/meeting-buddy.
Paths answer with and without the trailing slash; ids are UUIDs (anything else is a 404)."""

from django.urls import re_path

from config.api.ids import UUID_PATTERN

from . import views


def route(path: str, view, name: str):
    return re_path(rf"^{path}/?$", view.as_view(), name=f"aitronos-{name}")


urlpatterns = [
    route("calendar/connections", views.ConnectionsView, "connections"),
    route(
        rf"calendar/connections/(?P<credential_id>{UUID_PATTERN})",
        views.ConnectionView,
        "connection",
    ),
    route("calendar/events", views.EventsView, "events"),
    route(rf"calendar/events/(?P<event_id>{UUID_PATTERN})", views.EventView, "event"),
    route("calendar/sync", views.SyncView, "sync"),
    route("auto-join/rules", views.RulesView, "rules"),
    route(rf"auto-join/rules/(?P<rule_id>{UUID_PATTERN})", views.RuleView, "rule"),
]

from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "calendars"

    def ready(self) -> None:
        # The meeting admin: meetings/admin.py's, with the decision trace and the staff actions
        # that use this app's services (meetings sits below calendars).
        from . import meeting_admin  # noqa: F401

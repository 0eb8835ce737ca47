"""Mounted at /compat/meetingbaas/: a Meeting BaaS v1 client's base URL is
https://<host>/compat/meetingbaas. Paths answer with and without the trailing slash."""

from config.api.routers import OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register("calendars", views.CalendarViewSet, basename="meetingbaas-calendar")
router.register(
    "calendar_events", views.CalendarEventViewSet, basename="meetingbaas-calendar-event"
)
router.register(
    "internal/calendar", views.InternalCalendarViewSet, basename="meetingbaas-internal-calendar"
)

urlpatterns = router.urls

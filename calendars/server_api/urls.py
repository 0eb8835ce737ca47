from config.api.routers import OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register("calendars", views.CalendarViewSet, basename="server-calendar")
router.register("calendar_events", views.CalendarEventViewSet, basename="server-calendar-event")
router.register("calendar_users", views.CalendarUserViewSet, basename="server-calendar-user")
# The bots API (bots/views.py) with create and delete over the calendar services.
router.register("bots", views.BotViewSet, basename="bot")

urlpatterns = router.urls

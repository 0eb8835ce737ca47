from config.api.routers import OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register("bots", views.BotViewSet, basename="bot")

urlpatterns = router.urls

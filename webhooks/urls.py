from config.api.routers import OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register("webhooks", views.WebhookEndpointViewSet, basename="webhook")

urlpatterns = router.urls

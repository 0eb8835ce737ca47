import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker

from . import health

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_queue() -> None:
    if not get_broker().ping():
        raise ConnectionError("broker did not answer")


CHECKS = {"database": _check_database, "queue": _check_queue}


@require_GET
def healthz(request):
    """Liveness and readiness: the database and the task queue's broker answer."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = {"ok": True}
        except Exception as exc:
            logger.warning("health check %s failed: %s", name, exc)
            results[name] = {"ok": False, "error": exc.__class__.__name__}
    results["queue"]["broker"] = settings.QUEUE_BROKER
    healthy = all(result["ok"] for result in results.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": results}
    if results["database"]["ok"]:
        # Details other apps registered (config/health.py), e.g. the rows background jobs
        # skipped: for operators, not a reason to take the service out of rotation.
        for name, read in health.DETAILS.items():
            body[name] = read()
    return JsonResponse(body, status=200 if healthy else 503)

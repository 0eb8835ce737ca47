import ipaddress
import json
import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
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


README_URL = "https://github.com/calsync/calsync#readme"


@require_GET
def landing(request):
    """`/`: where a newcomer lands after `./dev up`: links to the API docs, admin, health and
    README instead of a 404."""
    return render(request, "landing.html", {"debug": settings.DEBUG, "readme_url": README_URL})


# --- The quick start's demo webhook receiver (DEBUG only) ----------------------------------------

DEMO_WEBHOOKS_SHOWN = 50
DEMO_WEBHOOK_MAX_BYTES = 256 * 1024


def demo_webhooks_log_path():
    return settings.DATA_DIR / "demo-webhooks.jsonl"


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@csrf_exempt
@require_http_methods(["GET", "POST"])
def demo_webhooks(request):
    """`./dev up --demo` points the demo project's webhook endpoint here, so a newcomer sees
    the bot events without running a receiver. Development only (DEBUG) and loopback only:
    it is not there at all in production. POST appends the delivery to
    `DATA_DIR/demo-webhooks.jsonl`; GET shows the latest ones."""
    if not settings.DEBUG or not _is_loopback(request.META.get("REMOTE_ADDR", "")):
        raise Http404
    path = demo_webhooks_log_path()
    if request.method == "POST":
        body = request.body[:DEMO_WEBHOOK_MAX_BYTES].decode("utf-8", "replace")
        entry = {
            "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "webhook_id": request.headers.get("webhook-id", ""),
            "body": body,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")
        return HttpResponse(status=204)
    return render(
        request,
        "demo_webhooks.html",
        {
            "deliveries": _read_demo_webhooks(path),
            "limit": DEMO_WEBHOOKS_SHOWN,
            "log_path": path,
        },
    )


def _read_demo_webhooks(path) -> list[dict]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    deliveries = []
    for line in reversed(lines[-DEMO_WEBHOOKS_SHOWN:]):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        try:
            payload = json.loads(entry.get("body") or "null")
        except ValueError:
            payload = None
        entry["type"] = (
            payload.get("event") or payload.get("type") if isinstance(payload, dict) else None
        )
        entry["pretty"] = (
            json.dumps(payload, indent=2) if payload is not None else entry.get("body", "")
        )
        deliveries.append(entry)
    return deliveries

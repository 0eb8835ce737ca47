"""What the admin's overview shows: per project and overall, what is failing right now.

Every number comes from an aggregate query (GROUP BY) or a capped list, so the page runs the
same number of queries whatever the row counts; the big tables (bots, webhook attempts, the sync
history) are read through their indexes over a bounded time range or over the few live rows
(tests/admin/test_overview.py checks both).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from bots.models import Bot
from config import charts
from config.schedules import NAME_PREFIX, SCHEDULES
from projects.models import JobFailure, Project
from webhooks.models import WebhookAttempt, WebhookEndpoint

from ..models import Calendar, CalendarSyncEvent

logger = logging.getLogger(__name__)

LIST_LIMIT = 20  # rows of each "what is failing" list; the changelists have the rest
WINDOW = timedelta(hours=24)


@dataclass
class ProjectHealth:
    """One line of the overview's table (a project, or the total of all)."""

    name: str
    project_id: str = ""
    calendars: dict = field(default_factory=lambda: defaultdict(int))  # state -> n
    failing_calendars: int = 0
    bots: dict = field(default_factory=lambda: defaultdict(int))  # status -> n
    undeliverable_bots: int = 0
    endpoints: dict = field(default_factory=lambda: defaultdict(int))  # health -> n
    attempts: int = 0
    failed_attempts: int = 0
    job_failures: int = 0

    @property
    def failure_rate(self) -> float | None:
        return self.failed_attempts / self.attempts if self.attempts else None

    def freeze(self) -> ProjectHealth:
        """Plain dicts for the template (a defaultdict would grow a key on every lookup)."""
        for name in ("calendars", "bots", "endpoints"):
            setattr(self, name, dict(sorted(getattr(self, name).items())))
        return self

    def add(self, other: ProjectHealth) -> None:
        for name in ("calendars", "bots", "endpoints"):
            for key, n in getattr(other, name).items():
                getattr(self, name)[key] += n
        for name in (
            "failing_calendars",
            "undeliverable_bots",
            "attempts",
            "failed_attempts",
            "job_failures",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _failing_calendars() -> Q:
    """Disconnected by the provider, or whose last attempts failed (retrying with back-off)."""
    return Q(state=Calendar.State.DISCONNECTED) | Q(consecutive_sync_failures__gt=0)


def _undeliverable_bots(since: datetime) -> Q:
    """Bots whose hand-over to the dispatch backend failed: live ones, and those that ended in
    the window (their join time in it) - through the (status, join_at) index."""
    return ~Q(backend_error="") & (
        Q(status__in=Bot.LIVE_STATUSES) | Q(status__in=Bot.TERMINAL_STATUSES, join_at__gte=since)
    )


HEALTH_ORDER = {"disabled": 0, "failing": 1, "healthy": 2}


def endpoint_health(endpoint: WebhookEndpoint) -> str:
    if not endpoint.is_active:
        return "disabled"
    return "failing" if endpoint.failing_since else "healthy"


def overview(*, project_id=None, now: datetime | None = None) -> dict:
    """Everything the overview page shows, for one project (`project_id`) or all."""
    now = now or timezone.now()
    since = now - WINDOW
    scope = Q(project_id=project_id) if project_id else Q()
    projects = {str(p.pk): ProjectHealth(p.name, str(p.pk)) for p in Project.objects.all()}
    if project_id and str(project_id) not in projects:
        project_id, scope = None, Q()

    def row(pid) -> ProjectHealth:
        return projects.setdefault(str(pid), ProjectHealth("(deleted project)", str(pid)))

    for item in (
        Calendar.objects.filter(scope)
        .values("project_id", "state")
        .annotate(n=Count("pk"), failing=Count("pk", filter=_failing_calendars()))
        .order_by()
    ):
        health = row(item["project_id"])
        health.calendars[item["state"]] += item["n"]
        health.failing_calendars += item["failing"]

    # Bots: the live ones (few: scheduled and in calls) and those that ended in the window.
    in_view = Q(status__in=Bot.LIVE_STATUSES) | Q(
        status__in=Bot.TERMINAL_STATUSES, join_at__gte=since, join_at__lte=now
    )
    for item in (
        Bot.objects.filter(scope, in_view)
        .values("project_id", "status")
        .annotate(n=Count("pk"), stuck=Count("pk", filter=~Q(backend_error="")))
        .order_by()
    ):
        health = row(item["project_id"])
        health.bots[item["status"]] += item["n"]
        health.undeliverable_bots += item["stuck"]

    endpoints = list(
        WebhookEndpoint.objects.filter(scope)
        .select_related("project")
        .only(
            "pk",
            "url",
            "project__name",
            "is_active",
            "failing_since",
            "disabled_reason",
            "disabled_at",
        )
        .order_by("url")
    )
    endpoints.sort(key=lambda e: (HEALTH_ORDER[endpoint_health(e)], e.url))
    for endpoint in endpoints:
        row(endpoint.project_id).endpoints[endpoint_health(endpoint)] += 1
    attempts = _attempts_by_endpoint(project_id, since)
    for endpoint in endpoints:
        ok, failed = attempts.get(endpoint.pk, (0, 0))
        endpoint.attempts, endpoint.failed_attempts = ok + failed, failed
        endpoint.failure_rate = failed / (ok + failed) if ok + failed else None
        endpoint.health = endpoint_health(endpoint)
        health = row(endpoint.project_id)
        health.attempts += ok + failed
        health.failed_attempts += failed

    unowned = 0  # rows of jobs that serve no single project: in the total only
    for item in JobFailure.objects.filter(scope).values("project_id").annotate(n=Count("pk")):
        if item["project_id"]:
            row(item["project_id"]).job_failures += item["n"]
        else:
            unowned += item["n"]

    total = ProjectHealth("All projects", job_failures=unowned)
    for health in projects.values():
        total.add(health)
        health.freeze()
    total.freeze()
    shown = [projects[str(project_id)]] if project_id else list(projects.values())
    return {
        "now": now,
        "since": since,
        "project_id": str(project_id) if project_id else "",
        "projects": sorted(projects.values(), key=lambda h: h.name.lower()),
        "rows": shown,
        "total": total,
        "failing_calendars": _failing_calendar_list(scope),
        "undeliverable_bots": list(
            Bot.objects.filter(scope, _undeliverable_bots(since))
            .select_related("project")
            .only(
                "pk",
                "name",
                "status",
                "join_at",
                "meeting_url",
                "backend",
                "backend_error",
                "backend_attempts",
                "backend_retry_at",
                "project__name",
            )
            .order_by("-join_at")[:LIST_LIMIT]
        ),
        "endpoints": endpoints[:LIST_LIMIT],
        "job_failures": list(
            JobFailure.objects.filter(scope)
            .values("job")
            .annotate(n=Count("pk"), occurrences=Sum("occurrences"))
            .order_by("job")
        ),
        "queue": queue_state(),
        "charts": _charts(project_id, since, now),
    }


def _failing_calendar_list(scope: Q) -> list[Calendar]:
    calendars = list(
        Calendar.objects.filter(scope, _failing_calendars())
        .select_related("project", "calendar_user")
        .only(
            "pk",
            "platform",
            "email",
            "state",
            "connection_failure_data",
            "state_history",
            "consecutive_sync_failures",
            "last_successful_sync_at",
            "last_attempted_sync_at",
            "updated_at",
            "project__name",
            "calendar_user__external_id",
        )
        .order_by("-updated_at")[:LIST_LIMIT]
    )
    # The first failed attempt after the last success, from the sync history (one query
    # through its (calendar, at) index for the listed calendars).
    first_failures = dict(
        CalendarSyncEvent.objects.filter(
            Q(calendar__last_successful_sync_at__isnull=True)
            | Q(at__gt=F("calendar__last_successful_sync_at")),
            calendar_id__in=[calendar.pk for calendar in calendars],
            kind__in=CalendarSyncEvent.FAILURES,
        )
        .values("calendar_id")
        .annotate(first=Min("at"))
        .values_list("calendar_id", "first")
        .order_by()
    )
    for calendar in calendars:
        failure = calendar.connection_failure_data or {}
        calendar.reason = ": ".join(
            str(part) for part in (failure.get("error"), failure.get("message")) if part
        )
        calendar.failing_since = _failing_since(calendar, first_failures.get(calendar.pk))
    return calendars


def _failing_since(calendar: Calendar, first_failure: datetime | None) -> datetime | None:
    """When it went wrong: the disconnection's history entry, or the first failed attempt
    after the last success (as far back as the sync history goes), or the latest failure."""
    if calendar.state == Calendar.State.DISCONNECTED and calendar.state_history:
        try:
            return datetime.fromisoformat(calendar.state_history[-1]["at"])
        except (KeyError, TypeError, ValueError):
            return None
    if first_failure is not None:
        return first_failure
    failure = calendar.connection_failure_data or {}
    try:
        return datetime.fromisoformat(failure["timestamp"])
    except (KeyError, TypeError, ValueError):
        return None


def _attempts_by_endpoint(project_id, since: datetime) -> dict:
    """{endpoint id: (succeeded, failed)} of the delivery attempts made since `since`."""
    found: dict = {}
    attempts = WebhookAttempt.objects.filter(started_at__gte=since)
    if project_id:
        attempts = attempts.filter(delivery__project_id=project_id)
    for item in (
        attempts.values("delivery__endpoint_id")
        .annotate(
            ok=Count("pk", filter=Q(outcome=WebhookAttempt.Outcome.SUCCEEDED)),
            failed=Count("pk", filter=~Q(outcome=WebhookAttempt.Outcome.SUCCEEDED)),
        )
        .order_by()
    ):
        found[item["delivery__endpoint_id"]] = (item["ok"], item["failed"])
    return found


def queue_state() -> dict:
    """The django-q2 backlog and each declared schedule's last run (config/schedules.py)."""
    from django_q.brokers import get_broker
    from django_q.models import Schedule, Task

    try:
        backlog = get_broker().queue_size()
    except Exception:  # the broker (Redis) is down: the page still shows the rest
        logger.warning("overview: the task broker did not answer", exc_info=True)
        backlog = None
    schedules = {
        s.name: s for s in Schedule.objects.filter(name__startswith=NAME_PREFIX).order_by()
    }
    tasks = {
        t.id: t
        for t in Task.objects.filter(id__in=[s.task for s in schedules.values() if s.task])
        .only("id", "started", "stopped", "success")
        .order_by()
    }
    jobs = []
    for periodic in SCHEDULES:
        schedule = schedules.get(NAME_PREFIX + periodic.name)
        task = tasks.get(schedule.task) if schedule and schedule.task else None
        jobs.append(
            {
                "name": periodic.name,
                "func": periodic.func,
                "every": periodic.minutes,
                "schedule": schedule,
                "next_run": schedule.next_run if schedule else None,
                "last_run": task.stopped if task else None,
                "success": task.success if task else None,
                # A job that has not finished within a few periods is late (or its worker down).
                "late": bool(
                    schedule
                    and schedule.next_run
                    and schedule.next_run
                    < timezone.now() - timedelta(minutes=max(3 * periodic.minutes, 5))
                ),
            }
        )
    return {"backlog": backlog, "jobs": jobs}


def _hours(since: datetime, now: datetime) -> list[datetime]:
    first = since.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return [
        first + timedelta(hours=n) for n in range(int((now - first).total_seconds() // 3600) + 1)
    ]


def _charts(project_id, since: datetime, now: datetime) -> dict:
    hours = _hours(since, now)
    index = {hour: n for n, hour in enumerate(hours)}
    labels = [f"{hour:%H}:00" for hour in hours]

    def bucket(at: datetime) -> int | None:
        return index.get(at.replace(minute=0, second=0, microsecond=0))

    # Sync outcomes per hour (the sync history's `at` index; a project through the calendar).
    events = CalendarSyncEvent.objects.filter(at__gte=hours[0], kind__in=_SYNC_KINDS)
    if project_id:
        events = events.filter(calendar__project_id=project_id)
    synced, failed = [0] * len(hours), [0] * len(hours)
    for item in (
        events.annotate(hour=TruncHour("at"))
        .values("hour", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        n = bucket(item["hour"])
        if n is not None:
            target = synced if item["kind"] == CalendarSyncEvent.Kind.SYNCED else failed
            target[n] += item["n"]

    attempts = WebhookAttempt.objects.filter(started_at__gte=hours[0])
    if project_id:
        attempts = attempts.filter(delivery__project_id=project_id)
    delivered, refused = [0] * len(hours), [0] * len(hours)
    for item in (
        attempts.annotate(hour=TruncHour("started_at"))
        .values("hour")
        .annotate(
            ok=Count("pk", filter=Q(outcome=WebhookAttempt.Outcome.SUCCEEDED)),
            failed=Count("pk", filter=~Q(outcome=WebhookAttempt.Outcome.SUCCEEDED)),
        )
        .order_by()
    ):
        n = bucket(item["hour"])
        if n is not None:
            delivered[n] += item["ok"]
            refused[n] += item["failed"]

    # Bots per hour ahead: the scheduled ones through the (status, join_at) index.
    start = now.replace(minute=0, second=0, microsecond=0)
    ahead = [start + timedelta(hours=n) for n in range(24)]
    ahead_index = {hour: n for n, hour in enumerate(ahead)}
    bots = [0] * len(ahead)
    for item in (
        Bot.objects.filter(
            Q(project_id=project_id) if project_id else Q(),
            status=Bot.Status.SCHEDULED,
            join_at__gte=start,
            join_at__lt=start + timedelta(hours=24),
        )
        .annotate(hour=TruncHour("join_at"))
        .values("hour")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        n = ahead_index.get(item["hour"])
        if n is not None:
            bots[n] += item["n"]

    return {
        "syncs": charts.stacked_bars(
            title="Sync attempts per hour, last 24 h",
            labels=labels,
            series=[
                charts.Series("synced", "good", synced),
                charts.Series("failed", "bad", failed),
            ],
            css_class="chart-syncs",
        ),
        "webhooks": charts.stacked_bars(
            title="Webhook delivery attempts per hour, last 24 h",
            labels=labels,
            series=[
                charts.Series("delivered", "good", delivered),
                charts.Series("failed", "bad", refused),
            ],
            css_class="chart-webhooks",
        ),
        "webhook_success_rate": (
            sum(delivered) / (sum(delivered) + sum(refused))
            if sum(delivered) + sum(refused)
            else None
        ),
        "bots": charts.stacked_bars(
            title="Bots joining per hour, next 24 h",
            labels=[f"{hour:%H}:00" for hour in ahead],
            series=[charts.Series("bots", "accent", bots)],
            css_class="chart-bots",
        ),
    }


_SYNC_KINDS = [
    CalendarSyncEvent.Kind.SYNCED,
    CalendarSyncEvent.Kind.FAILED,
    CalendarSyncEvent.Kind.DISCONNECTED,
    CalendarSyncEvent.Kind.CRASHED,
]

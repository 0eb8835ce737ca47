"""Every periodic background job, declared in one place.

`sync_schedules()` makes django-q2's Schedule table match this list (create, update, remove stale
ones by name). It runs after every `migrate`, so a deploy needs no extra step.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str  # dotted path of a small, idempotent job function
    minutes: int


SCHEDULES: list[Periodic] = [
    # Calendars: queue due syncs (push-marked, polling, back-off); roll horizons; retention.
    # Push channels are renewed after syncs, and every calendar syncs at least once per
    # SYNC_POLL_INTERVAL_SECONDS, so channel renewal needs no schedule of its own.
    Periodic("sweep-due-calendars", "calendars.jobs.sweep_due_calendars", 1),
    # Meeting changes a dead sync attempt committed but did not announce.
    Periodic("announce-pending", "calendars.jobs.announce_pending", 1),
    Periodic("roll-horizons", "calendars.jobs.roll_horizons", 60),
    Periodic("purge-old-meetings", "calendars.jobs.purge_old_meetings", 1440),
    # Bots: meetings marked by syncs that no sync attempt reconciled (a crash, a failure) get
    # their bots within a minute; a safety sweep re-reconciles the next 48 h and every live bot.
    Periodic("reconcile-pending", "bots.reconcile.reconcile_pending", 1),
    Periodic("reconcile-upcoming", "bots.reconcile.reconcile_upcoming", 15),
    # Webhook retries come due here, and deliveries whose queueing was lost are picked up.
    Periodic("webhooks-sweep", "webhooks.jobs.sweep", 1),
    Periodic("webhooks-cleanup", "webhooks.jobs.cleanup", 60),
    # Bots: dispatch at join time (minute precision, never early); retry failed or lost
    # hand-overs to the dispatch backend.
    Periodic("bots-dispatch", "bots.jobs.dispatch_due_bots", 1),
    Periodic("bots-push-sweep", "bots.jobs.sweep_backend_pushes", 1),
]

NAME_PREFIX = "calsync:"


def sync_schedules() -> None:
    from django_q.models import Schedule

    wanted = {NAME_PREFIX + job.name: job for job in SCHEDULES}
    for name, job in wanted.items():
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": job.func,
                "schedule_type": Schedule.MINUTES,
                "minutes": job.minutes,
                "repeats": -1,
            },
        )
    Schedule.objects.filter(name__startswith=NAME_PREFIX).exclude(name__in=wanted).delete()

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


SCHEDULES: list[Periodic] = []

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

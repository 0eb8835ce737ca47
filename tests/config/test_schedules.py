from django_q.models import Schedule

from config import schedules
from config.schedules import NAME_PREFIX, Periodic, sync_schedules


def test_schedules_match_the_declared_list(db, monkeypatch):
    Schedule.objects.create(name=NAME_PREFIX + "retired", func="x.y", schedule_type="I", minutes=5)
    Schedule.objects.create(name="someone-elses", func="x.y", schedule_type="I", minutes=5)
    monkeypatch.setattr(schedules, "SCHEDULES", [Periodic("tick", "math.floor", 3)])
    sync_schedules()
    sync_schedules()  # idempotent
    names = set(Schedule.objects.values_list("name", flat=True))
    assert names == {NAME_PREFIX + "tick", "someone-elses"}
    tick = Schedule.objects.get(name=NAME_PREFIX + "tick")
    assert (tick.func, tick.minutes, tick.schedule_type) == ("math.floor", 3, Schedule.MINUTES)

    monkeypatch.setattr(schedules, "SCHEDULES", [Periodic("tick", "math.ceil", 7)])
    sync_schedules()
    tick.refresh_from_db()
    assert (tick.func, tick.minutes) == ("math.ceil", 7)

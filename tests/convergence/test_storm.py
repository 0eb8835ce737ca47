"""Seeded storms: random edits at the provider (new meetings, moves, new links, attendee
changes, cancellations, expired cursors), random provider faults, workers killed at random
points, a second worker taking over a stalled one, preference and override changes - then the
faults stop and the background jobs run: everything must have converged.

CI runs a short storm per seed. The long one is a documented command (README, Guarantees):

    CONVERGENCE_STEPS=2000 CONVERGENCE_SEEDS=1,2,3,4,5 ./dev test tests/convergence/test_storm.py
"""

import os
from datetime import timedelta

import pytest

from calendars import services
from calendars.meeting_services import meeting_set_override
from calendars.providers.base import ProviderUnavailable, RateLimited
from meetings.models import Meeting

from .harness import POINTS, World, attendees, lease, link

STEPS = int(os.environ.get("CONVERGENCE_STEPS", "60"))
SEEDS = [int(seed) for seed in os.environ.get("CONVERGENCE_SEEDS", "1,2,3").split(",")]
# Points outside any transaction: another worker may run there (it would share the paused
# worker's connection inside one).
BETWEEN_TRANSACTIONS = tuple(point for point in POINTS if point.startswith("sync."))


class Storm:
    def __init__(self, world: World):
        self.world = world
        self.rng = world.rng
        self.calendars = [
            world.add_calendar("alice", record_external=True),
            world.add_calendar("bob", record_external=True, record_internal=True),
            world.add_calendar("carol"),
        ]
        self.next_id = 0
        self.shared: dict[str, list] = {}  # meeting -> [(calendar, event id)]

    def event_fields(self, calendar, *, start=None, link_no=None, external=None):
        rng = self.rng
        start = start or self.world.now() + timedelta(
            hours=rng.randint(3, 24 * 20), minutes=rng.choice((0, 15, 30))
        )
        fields = {
            "attendees": attendees(
                calendar, external=rng.random() < 0.5 if external is None else external
            )
        }
        if rng.random() < 0.85:
            fields["hangoutLink"] = link(link_no if link_no is not None else rng.randint(0, 10**6))
        else:
            fields["hangoutLink"] = ""
        return start, fields

    # --- provider edits ---
    def add(self):
        self.next_id += 1
        name = f"m{self.next_id}"
        owners = self.rng.sample(self.calendars, k=self.rng.choice((1, 1, 2, 3)))
        start, fields = self.event_fields(owners[0], link_no=self.next_id)
        self.shared[name] = []
        for calendar in owners:  # the same meeting in several calendars: one shared bot
            event_id = f"{name}-{calendar.calendar_user.external_id}"
            self.world.put(
                calendar,
                event_id,
                start,
                summary=name,
                **{
                    **fields,
                    "attendees": attendees(calendar, external="globex" in str(fields["attendees"])),
                },
            )
            self.shared[name].append((calendar, event_id))

    def _some(self):
        live = [name for name, copies in self.shared.items() if copies]
        return self.rng.choice(live) if live else None

    def edit(self, kind: str):
        name = self._some()
        if name is None:
            return self.add()
        copies = self.shared[name]
        # Edits reach the copies one after the other (organizer first), sometimes only some.
        reach = copies if self.rng.random() < 0.7 else copies[:1]
        if kind == "cancel":
            for calendar, event_id in reach:
                self.world.cancel(calendar, event_id)
            self.shared[name] = [c for c in copies if c not in reach]
            return
        calendar, event_id = copies[0]
        event = calendar.store.events[event_id]
        from datetime import datetime

        start = datetime.fromisoformat(event["start"]["dateTime"])
        fields = {k: event[k] for k in ("hangoutLink", "attendees") if k in event}
        if kind == "move":
            start += timedelta(minutes=self.rng.choice((-90, -30, 30, 60, 24 * 60)))
        elif kind == "relink":
            fields["hangoutLink"] = link(self.rng.randint(0, 10**6))
        elif kind == "attendees":
            fields["attendees"] = attendees(calendar, external=self.rng.random() < 0.5)
        for copy_calendar, copy_id in reach:
            copy_fields = {
                **fields,
                "attendees": attendees(
                    copy_calendar, external="globex" in str(fields["attendees"])
                ),
            }
            self.world.put(copy_calendar, copy_id, start, summary=name, **copy_fields)

    # --- our side ---
    def sync(self):
        calendar = self.rng.choice(self.calendars)
        roll = self.rng.random()
        if roll < 0.25:  # provider faults: some survive the in-round retries, some end it
            errors = [
                ProviderUnavailable("503"),
                RateLimited("429", retry_after=self.rng.choice((None, 1, 5, 120))),
            ]
            calendar.store.fail_next.extend(self.rng.choices(errors, k=self.rng.randint(1, 5)))
        if roll < 0.45:
            self.world.sync(calendar, kill_at=self.rng.choice(POINTS), nth=self.rng.randint(1, 3))
        elif roll < 0.6:
            # This worker stalls at a point; its lease expires and another worker takes over.
            def other_worker():
                self.world.tick(lease().total_seconds() + 1)
                self.world.sync(calendar)

            self.world.sync(
                calendar, kill_at=self.rng.choice(BETWEEN_TRANSACTIONS), during=other_worker
            )
        else:
            self.world.sync(calendar)
        calendar.store.fail_next = []

    def expire_cursor(self):
        calendar = self.rng.choice(self.calendars)
        calendar.refresh_from_db(fields=["sync_cursor"])
        if calendar.sync_cursor:
            calendar.store.expired_cursors.add(calendar.sync_cursor)

    def preferences(self):
        calendar = self.rng.choice(self.calendars)
        user = calendar.calendar_user
        user.refresh_from_db()
        name = self.rng.choice(("record_external", "record_internal"))
        services.calendar_user_update(
            calendar_user=user, preferences={name: not getattr(user, name)}
        )

    def override(self):
        meeting = (
            Meeting.objects.filter(project=self.world.project, is_deleted=False)
            .order_by("?")
            .first()
        )
        if meeting is not None:
            meeting_set_override(meeting=meeting, value=self.rng.choice((True, False, None)))

    def step(self):
        action = self.rng.choices(
            [
                "add",
                "move",
                "relink",
                "attendees",
                "cancel",
                "sync",
                "jobs",
                "expire",
                "prefs",
                "override",
            ],
            weights=[20, 10, 5, 5, 6, 35, 8, 2, 3, 3],
        )[0]
        if action == "add":
            self.add()
        elif action in ("move", "relink", "attendees", "cancel"):
            self.edit(action)
        elif action == "sync":
            self.sync()
        elif action == "jobs":
            self.world.run_schedule_once()
        elif action == "expire":
            self.expire_cursor()
        elif action == "prefs":
            self.preferences()
        else:
            self.override()
        self.world.tick(self.rng.randint(1, 90))

    def calm(self):
        """The faults stop: the schedule runs (syncs polled, drains) until all is quiet."""
        for calendar in self.calendars:
            calendar.store.fail_next = []
        self.world.tick(3600)  # past every back-off and the poll interval
        for _ in range(16):  # a quarter of an hour: the safety sweep runs too
            self.world.tick(61)
            self.world.run_schedule_once()


@pytest.mark.parametrize("seed", SEEDS)
def test_storm_converges(acme, traveller, monkeypatch, seed):
    from .harness import make_world

    world = make_world(acme.project, traveller, monkeypatch, seed=seed)
    storm = Storm(world)
    for _ in range(STEPS):
        storm.step()
    storm.calm()
    world.assert_converged()

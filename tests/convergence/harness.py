"""A world for convergence scenarios: calendars at an in-process provider (Google's shapes and
cursor semantics, tests/calendars/scripted.py), a controllable clock, injectable faults and
worker kills at the engine's failure points (config/faults.py), the background jobs run the way
the schedule runs them, and the invariants every scenario ends with.

A "kill" raises `Killed`, a BaseException that no `except Exception` in the service catches:
like `kill -9`, the worker runs no cleanup code; the transaction it was in rolls back (as the
database does when a connection dies) and what it committed before stays.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from bots import reconcile
from bots.models import TERMINAL_STATUSES, Bot
from calendars import jobs, providers
from calendars.models import Calendar, CalendarUser, OAuthApp
from calendars.providers.google import GoogleProvider
from calendars.sync import horizon, sync_calendar_by_id
from config import faults
from meetings.models import Meeting
from tests.calendars.scripted import ScriptedCalendar, ScriptedSession, google_event
from webhooks.models import WebhookDelivery, WebhookEndpoint

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DOMAIN = "acme.com"
# Every place a worker can die between two steps (config/faults.py calls in the service).
POINTS = (
    "sync.acquired",
    "sync.page_bots_scheduled",
    "sync.page_committed",
    "sync.round_done",
    "sync.cursor_committed",
    "sync.settling",
    "reconcile.bots_created",
    "reconcile.before_commit",
    "sync.reconciled",
    "sync.announced",
)
# The documented bound (README, Guarantees): lease + one sweep interval + a little.
RECOVERY_BOUND = timedelta(seconds=90)


class Killed(BaseException):
    """The worker died here (kill -9)."""


class MultiProvider(GoogleProvider):
    """One scripted store per calendar, chosen by the calendar's refresh token."""

    def __init__(self):
        self.stores: dict[str, ScriptedCalendar] = {}

    def session(self, credentials, *, calendar_id=""):
        return ScriptedSession(self.stores[credentials.refresh_token], credentials)


@dataclass
class Change:
    calendar_id: object
    event_id: str
    at: datetime


@dataclass
class World:
    project: object
    traveller: object
    provider: MultiProvider
    calendars: list = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    queued: list[tuple] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    last_safety_sweep: datetime | None = None

    # --- setup ---
    def add_calendar(self, external_id: str, *, project=None, **preferences) -> Calendar:
        project = project or self.project
        if not OAuthApp.objects.filter(project=project, platform="google").exists():
            OAuthApp.objects.create(
                project=project, platform="google", client_id="id", client_secret="secret"
            )
        user = CalendarUser.objects.create(project=project, external_id=external_id, **preferences)
        token = f"refresh-{external_id}"
        store = ScriptedCalendar()
        store.page_size = 3
        self.provider.stores[token] = store
        calendar = Calendar.objects.create(
            project=project,
            calendar_user=user,
            platform="google",
            email=f"{external_id}@{DOMAIN}",
            refresh_token=token,
            state=Calendar.State.CONNECTED,
        )
        calendar.store = store
        self.calendars.append(calendar)
        return calendar

    # --- time ---
    def now(self) -> datetime:
        return timezone.now()

    def tick(self, seconds: float = 1) -> None:
        self.traveller.shift(timedelta(seconds=seconds))

    # --- the provider side ---
    def put(self, calendar, event_id: str, start: datetime, **extra) -> None:
        """Create or change an event (and note when, for the announcement check)."""
        calendar.store.put(
            google_event(
                event_id,
                start,
                updated=self.now().isoformat(),
                organizer={"email": calendar.email},
                **extra,
            )
        )
        self.changes.append(Change(calendar.pk, event_id, self.now()))

    def put_meeting(
        self, calendar, event_id: str, start: datetime, link_no: int, *, external=True, **extra
    ) -> None:
        """An event with a Meet link (`link(link_no)`) and an external or internal guest."""
        self.put(
            calendar,
            event_id,
            start,
            hangoutLink=link(link_no),
            attendees=attendees(calendar, external=external),
            **extra,
        )

    def cancel(self, calendar, event_id: str) -> None:
        calendar.store.cancel(event_id)
        self.changes.append(Change(calendar.pk, event_id, self.now()))

    # --- workers ---
    def sync(self, calendar, *, kill_at: str | None = None, nth: int = 1, during=None) -> str:
        """One sync job. `kill_at`: the worker dies at the nth hit of that point. `during`:
        called once at the nth hit of `kill_at` instead of dying (another worker's turn)."""
        hits = defaultdict(int)

        def hook(name: str) -> None:
            hits[name] += 1
            if name == kill_at and hits[name] == nth:
                if during is not None:
                    during()
                else:
                    raise Killed(name)

        try:
            with faults.installed(hook):
                return sync_calendar_by_id(calendar.pk).status
        except Killed:
            return "killed"

    def run_schedule_once(self) -> None:
        """What the schedule runs each minute (config/schedules.py), and the jobs it queues;
        the 15-minute safety sweep when it is due."""
        self.queued.clear()
        jobs.sweep_due_calendars()
        for job in list(self.queued):
            if job[0] == "calendars.jobs.sync_calendar":
                sync_calendar_by_id(job[1])
        jobs.announce_pending()
        reconcile.reconcile_pending()
        if self.last_safety_sweep is None or self.now() - self.last_safety_sweep >= timedelta(
            minutes=15
        ):
            reconcile.reconcile_upcoming()
            self.last_safety_sweep = self.now()

    def recover(self) -> timedelta:
        """Let the background jobs repair what a dead worker left, minute by minute, as long as
        the documented bound allows; returns how long it took."""
        started = self.now()
        while self.now() - started <= RECOVERY_BOUND:
            self.tick(60)
            self.run_schedule_once()
            if not self.problems():
                return self.now() - started
        return self.now() - started

    # --- invariants ---
    def problems(self) -> list[str]:
        """What is not converged (empty when everything matches)."""
        found = []
        for calendar in self.calendars:
            found += _meetings_match_provider(calendar, self.now())
            found += _attempt_ended(calendar)
        found += _bots_match_decisions(self.project, self.now())
        found += _nothing_left_marked(self.project)
        found += self.unannounced()
        return found

    def unannounced(self) -> list[str]:
        """Provider changes whose meeting has no `calendar.sync_events` announcing it after the
        change (changes no sync has seen yet do not count: see `problems` after a sync)."""
        announced = defaultdict(list)  # meeting id -> announcement times
        for delivery in WebhookDelivery.objects.filter(
            project=self.project, event_type="calendar.sync_events"
        ):
            data = delivery.payload["data"]
            for meeting_id in data["affected_event_uuids"]:
                announced[meeting_id].append(delivery.created_at)
        meetings = {
            (calendar_id, event_id): str(pk)
            for pk, calendar_id, event_id in Meeting.objects.filter(
                project=self.project
            ).values_list("pk", "calendar_id", "platform_event_id")
        }
        missing = []
        for change in self.changes:
            meeting_id = meetings.get((change.calendar_id, change.event_id))
            if meeting_id is None:
                continue  # never synced (cancelled before any sync saw it, or out of horizon)
            if not any(at >= change.at for at in announced[meeting_id]):
                missing.append(f"change of {change.event_id} at {change.at} not announced")
        return missing

    def assert_converged(self) -> None:
        problems = self.problems()
        assert not problems, "\n".join(problems[:20])
        _feed_covers_announcements(self.project)
        # Decisions are current: reconciling every meeting not over again changes nothing.
        result = reconcile.reconcile_meetings(
            meeting_ids=Meeting.objects.filter(
                project=self.project, end_time__gt=self.now()
            ).values_list("pk", flat=True)
        )
        assert result.decisions_changed == 0, result
        assert not (result.created or result.moved or result.cancelled), result


def make_world(project, traveller, monkeypatch, seed: int = 0) -> World:
    provider = MultiProvider()
    monkeypatch.setitem(providers._instances, "google", provider)
    world = World(project=project, traveller=traveller, provider=provider)
    world.rng = random.Random(seed)
    monkeypatch.setattr(
        "django_q.tasks.async_task", lambda *args, **kwargs: world.queued.append(args)
    )
    WebhookEndpoint.objects.create(
        project=project, url="http://127.0.0.1:9/never-delivered", allow_private_addresses=True
    )
    return world


def _meetings_match_provider(calendar, now) -> list[str]:
    window = horizon(calendar.project, now)
    expected = {}
    for event_id, event in calendar.store.events.items():
        if event.get("status") == "cancelled":
            continue
        start = datetime.fromisoformat(event["start"]["dateTime"])
        end = datetime.fromisoformat(event["end"]["dateTime"])
        if window.contains(start, end):
            expected[event_id] = (event["summary"], start, event.get("hangoutLink") or None)
    stored = {
        event_id: (title, start, url)
        for event_id, title, start, url in Meeting.objects.filter(
            calendar=calendar, is_deleted=False
        ).values_list("platform_event_id", "title", "start_time", "meeting_url")
    }
    if stored == expected:
        return []
    differ = sorted(set(stored) ^ set(expected)) + sorted(
        key for key in set(stored) & set(expected) if stored[key] != expected[key]
    )
    return [f"calendar {calendar.email}: meetings differ from the provider at {differ[:10]}"]


def _attempt_ended(calendar) -> list[str]:
    calendar.refresh_from_db(fields=["last_attempted_sync_at", "sync_finished_at"])
    attempted, finished = calendar.last_attempted_sync_at, calendar.sync_finished_at
    if attempted is not None and (finished is None or finished < attempted):
        return [f"calendar {calendar.email}: its last sync attempt has no outcome (died)"]
    return []


def _bots_match_decisions(project, now) -> list[str]:
    from meetings.decisions import decide

    found = []
    lead = timedelta(seconds=project.bot_join_lead_seconds)
    live = Bot.objects.filter(project=project).exclude(status__in=TERMINAL_STATUSES)
    meetings = Meeting.objects.filter(project=project).select_related(
        "calendar__calendar_user", "project"
    )
    wanted_bots = set()
    for meeting in meetings.prefetch_related("bots"):
        calendar = meeting.calendar
        decision = decide(
            meeting,
            calendar.calendar_user,
            account_email=calendar.email,
            now=now,
            calendar_connected=calendar.state != "disconnected",
            calendar_connecting=calendar.state == "connecting",
        )
        stored = (meeting.will_record, meeting.will_record_reason)
        # A meeting not recorded keeps its reason once it is over (the safety sweep turns only
        # recorded ones to "ended").
        if meeting.end_time <= now and not meeting.will_record:
            stored = (False, decision.reason)
        if stored != (decision.will_record, decision.reason):
            found.append(
                f"{meeting.platform_event_id}: stale decision {meeting.will_record_reason}"
            )
        bots = [bot for bot in meeting.bots.all() if bot.status not in TERMINAL_STATUSES]
        if not decision.will_record:
            if bots:
                found.append(f"{meeting.platform_event_id}: live bot but not recorded")
            continue
        if len(bots) != 1:
            found.append(f"{meeting.platform_event_id}: {len(bots)} live bots, want 1")
            continue
        (bot,) = bots
        wanted_bots.add(bot.pk)
        expected = meeting.start_time - lead
        if expected > now and bot.join_at != expected:
            found.append(
                f"{meeting.platform_event_id}: bot joins at {bot.join_at}, meeting wants {expected}"
            )
        if bot.deduplication_key != reconcile.deduplication_key(meeting):
            found.append(f"{meeting.platform_event_id}: bot of another key")
    for bot in live:
        if bot.pk not in wanted_bots:
            found.append(f"bot {bot.pk} ({bot.deduplication_key}) serves no recorded meeting")
    return found


def _nothing_left_marked(project) -> list[str]:
    marks = Meeting.objects.filter(project=project, needs_reconcile=True).count()
    flags = Calendar.objects.filter(project=project, bots_pending=True).count()
    if marks or flags:
        return [f"{marks} meetings marked for reconciliation, {flags} calendars wait for bots"]
    return []


def _feed_covers_announcements(project) -> None:
    """A client reading the event feed from an announcement's `last_updated_ts` sees every
    meeting it lists (their updated_at is not older)."""
    updated = dict(Meeting.objects.filter(project=project).values_list("pk", "updated_at"))
    for delivery in WebhookDelivery.objects.filter(
        project=project, event_type="calendar.sync_events"
    ):
        data = delivery.payload["data"]
        since = datetime.fromisoformat(data["last_updated_ts"].replace("Z", "+00:00"))
        for meeting_id in data["affected_event_uuids"]:
            stamp = updated.get(_uuid(meeting_id))
            assert stamp is None or stamp >= since, (meeting_id, stamp, since)


def _uuid(value: str):
    import uuid

    return uuid.UUID(value)


def link(n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    code = "".join(letters[(n // 26**i) % 26] for i in range(10))
    return f"https://meet.google.com/{code[:3]}-{code[3:7]}-{code[7:]}"


def attendees(calendar, *, external: bool) -> list[dict]:
    other = "sam@globex.com" if external else f"bob@{DOMAIN}"
    return [
        {"email": calendar.email, "responseStatus": "accepted"},
        {"email": other, "responseStatus": "needsAction"},
    ]


def lease() -> timedelta:
    return timedelta(seconds=settings.SYNC_LEASE_SECONDS)


Step = Callable[[World], None]

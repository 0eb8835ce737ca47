"""Make bots match recording decisions: exactly one live bot per real meeting.

`reconcile_meetings(meeting_ids=...)` is the one function every trigger calls (sync, override
changes, disconnects, the periodic safety sweep); `redecide(calendar_ids=...)` is its form for a
change of what decides a user's upcoming meetings (preferences, auto-join rules): it decides them
all and reconciles those whose decision changes. For each meeting reconciled it recomputes the
decision, then:

- records and has no bot: join the live bot of its deduplication key, or create it;
- records and its bot has another key (the meeting moved or its link changed): a bot serving
  only this meeting is moved in place (no new bot); a shared bot is left to the others and the
  meeting joins (or creates) the bot of its new key;
- does not record and has a bot: the meeting leaves it; a bot left serving nobody is cancelled.

A bot requested through the server API (meetings.models.BotSchedule, loaded per batch by
meetings/bot_schedules.py) is one more input of the decision; its name, config and deduplication key
replace the automatic ones, and its movable bot follows changes of them. The calendar users'
auto-join rules (meetings/rules.py) are loaded and compiled once per batch; a joining rule's bot
name and config come with the decision and replace the automatic ones too (the deduplication key
stays the automatic one). A movable bot follows them when it serves only that meeting: copies of
one meeting decided by different users' rules share one bot, which keeps the settings it was
created with rather than flip between them.

Meetings that need a bot and have none are joined to bots in bulk (`join_all`): a calendar's
first sync can schedule thousands of bots in a handful of statements, and their webhook events
are written in one statement per project. The other way round is in bulk too: a meeting leaving
its bot, and a bot left serving nobody being cancelled, are decided in memory (the links of the
locked bots are read once, after the locks) and written by `flush` - one DELETE of the links and
one UPDATE per reason that appends the history entry to each bot's own `status_changes` - so a
rule change that stops 5,000 meetings from recording costs a few statements, not 20,000.

Bots that have joined (not in Bot.MOVABLE_STATUSES) are never moved or cancelled here. The
deduplication key is unique among live bots in the database, so two workers reconciling copies
of one meeting at once still end with one bot. Backend calls happen after commit
(`bots.jobs.push_bot_to_backend`); webhook events are written in the same transaction.

Locks, always in this order, so concurrent reconciliations (and sync pages, which lock their
calendar first) never deadlock: the meetings' calendars (primary-key order), then every bot the
batch may touch - the meetings' live bots and the live bots of the keys they want - in
primary-key order, then new bots inserted in key order. Reading the meetings after the calendar
locks means a reconciliation always sees the latest committed version of each meeting: two
reconciliations of one calendar run one after the other, never on different versions.

Sync pages mark the meetings they change `needs_reconcile` (a successful reconciliation clears
the mark in its own transaction). The new meetings a page inserts already decided to record get
their bots in the page's own transaction (`schedule_inserted`: same locks, same `join_all`);
should that fail, the page commits without them and flags the calendar `bots_pending` (the
reconciliation that finds none of them left without a bot clears it). `reconcile_pending` drains
both, calendar by calendar, with failures isolated per calendar
(a poisoned project's calendar is logged, recorded and skipped; the others proceed).
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, partial, reduce
from operator import or_

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, OuterRef, Q
from django.utils import timezone

from calendars.models import Calendar
from config import faults
from config.db import (
    AnyOf,
    array_literal,
    bulk_insert,
    loaded_instances,
    new_instances,
    retrying,
)
from meetings.bot_schedules import attach_schedules
from meetings.decisions import Decision, decide
from meetings.models import AutoJoinRule, BotSchedule, Meeting
from projects.failures import isolated
from projects.models import JobFailure, Project
from webhooks import events
from webhooks.services import emit_events

from .jobs import enqueue_pushes
from .models import LIVE_STATUSES, TERMINAL_STATUSES, Bot

logger = logging.getLogger(__name__)

BotMeeting = Bot.meetings.through


def _link_all(pairs: list[tuple]) -> None:
    """Insert these (bot id, meeting id) links, those already there skipped: on PostgreSQL one
    statement from two array literals, without a model instance per link."""
    if connection.vendor != "postgresql":
        BotMeeting.objects.bulk_create(
            [BotMeeting(bot_id=bot_id, meeting_id=meeting_id) for bot_id, meeting_id in pairs],
            ignore_conflicts=True,
        )
        return
    opts = BotMeeting._meta
    table = connection.ops.quote_name(opts.db_table)
    bot, meeting = (
        connection.ops.quote_name(opts.get_field(name).column) for name in ("bot", "meeting")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({bot}, {meeting}) "  # noqa: S608 - identifiers from the model
            "SELECT * FROM UNNEST(%s::uuid[], %s::uuid[]) ON CONFLICT DO NOTHING",
            [array_literal(pair[0] for pair in pairs), array_literal(pair[1] for pair in pairs)],
        )


def _loaded(model, names, rows, db: str) -> list:
    """Instances of `model` from `values_list("pk", *names)` rows, as `.only(*names)` would
    load them (any other field is read on access), without Model.__init__'s per-row cost:
    about half the time of reading a batch of 10,000 meetings."""
    attnames = [model._meta.pk.attname, *(model._meta.get_field(name).attname for name in names)]
    return loaded_instances(model, (zip(attnames, row, strict=True) for row in rows), db)


def _attach(instance, **related) -> None:
    """Set foreign-key objects already loaded (`meeting.calendar`), as assigning them would,
    without the descriptor's checks (database router, type) per object: tens of thousands per
    batch. Only for objects loaded from the same database, by `_loaded` or `new_instances`."""
    instance._state.fields_cache.update(related)


@dataclass
class ReconcileResult:
    decisions_changed: int = 0
    created: set = field(default_factory=set)
    moved: set = field(default_factory=set)
    cancelled: set = field(default_factory=set)
    attached: int = 0
    detached: int = 0
    reconciled: int = 0


def deduplication_key(meeting: Meeting) -> str:
    """Copies of one meeting seen by several calendar users share a key: same start, same
    normalised join link, same calendar platform (as Recall) - or the calendar itself when the
    project turned deduplication off. A bot scheduled through the API with its own key uses it
    (per instance of a series: the key and the instance's start)."""
    schedule = _schedule(meeting)
    if schedule is not None and schedule.deduplication_key:
        if schedule.meeting_id is None:
            return f"{schedule.deduplication_key}|{meeting.start_time.isoformat()}"
        return schedule.deduplication_key
    calendar = meeting.calendar
    scope = calendar.platform if meeting.project.bot_deduplication else f"calendar:{calendar.pk}"
    return f"{scope}|{meeting.start_time.isoformat()}|{meeting.meeting_url}"


def join_time(meeting: Meeting, now: datetime) -> datetime:
    """Lead time before the start; a meeting already under way gets its bot now."""
    return max(meeting.start_time - timedelta(seconds=meeting.project.bot_join_lead_seconds), now)


def _schedule(meeting: Meeting):
    """The meeting's enabled API schedule, when `attach_schedules` loaded one."""
    schedule = getattr(meeting, "effective_schedule", None)
    return schedule if schedule is not None and schedule.enabled else None


def _rule(meeting: Meeting) -> Decision | None:
    """The meeting's decision when a joining auto-join rule made it (set by `_reconcile`)."""
    decision = getattr(meeting, "decision", None)
    if decision is not None and decision.rule_id is not None and decision.will_record:
        return decision
    return None


def _bot_name(meeting: Meeting) -> str:
    schedule = _schedule(meeting)
    if schedule is not None and schedule.bot_name:
        return schedule.bot_name
    rule = _rule(meeting)
    if rule is not None and rule.bot_name:
        return rule.bot_name
    user = meeting.calendar.calendar_user
    return (user.bot_name if user else "") or meeting.project.bot_name


def _bot_config(meeting: Meeting) -> dict:
    schedule = _schedule(meeting)
    extra = schedule.bot_config if schedule is not None else {}
    rule = _rule(meeting)
    if rule is not None:
        extra = rule.bot_config or {}
    return {**(meeting.project.bot_config or {}), **extra}


# What reconciliation and the `bot.*` webhook payloads read of a locked bot (not the backend's
# hand-over fields, a third of the columns).
BOT_FIELDS = (
    "created_at",
    "updated_at",
    "project",
    "meeting_url",
    "meeting_platform",
    "join_at",
    "name",
    "config",
    "metadata",
    "deduplication_key",
    "status",
    "status_changes",
)


def _key_conditions(keys_by_project: dict) -> list[Q]:
    """The live bots of these deduplication keys, by project."""
    return [
        Q(AnyOf("deduplication_key", keys, "text"), project_id=project_id)
        & ~Q(status__in=TERMINAL_STATUSES)
        for project_id, keys in keys_by_project.items()
        if keys
    ]


class _Reconciler:
    def __init__(self, now: datetime, projects: dict | None = None):
        self.now = now
        self.result = ReconcileResult()
        self.touched: set = set()
        self.events: list[tuple[Bot, str, dict]] = []
        # (project id, key) -> its live bot, as locked up front and changed by this batch.
        self.live: dict[tuple, Bot] = {}
        # The projects already loaded (the meetings'), given to the locked bots.
        self.projects: dict = dict(projects or {})
        # Locked bot id -> ids of the meetings it serves, read once under the bots' locks and
        # kept current by this batch (links change only under the bot's lock).
        self.links: dict = defaultdict(set)
        # Written by `flush`, in bulk: links removed, bots cancelled (their history entry).
        self.unlinked: list[tuple] = []
        self.link_ids: dict[tuple, int] = {}  # (bot id, meeting id) -> the link row's id
        self.serving: dict = defaultdict(list)  # meeting id -> its locked bots
        self.cancelling: list[tuple[Bot, dict]] = []

    # --- bot rows ---
    def lock(self, meeting_ids, keys_by_project: dict) -> dict:
        """Lock, in primary-key order, every bot this batch may touch: the meetings' live bots
        and the live bots of the keys they want, in one statement. Returns the locked bots by
        id; then reads every link of the locked bots (what they serve, as of the locks)."""
        if not meeting_ids:
            return {}
        serving = BotMeeting.objects.filter(AnyOf("meeting_id", meeting_ids, "uuid"))
        conditions = [Q(pk__in=serving.values("bot_id")) & ~Q(status__in=TERMINAL_STATUSES)]
        conditions += _key_conditions(keys_by_project)
        rows = (
            Bot.objects.select_for_update(of=("self",))
            .filter(reduce(or_, conditions))
            .order_by("pk")
            .values_list("pk", *BOT_FIELDS)
        )
        locked = {bot.pk: bot for bot in _loaded(Bot, BOT_FIELDS, rows, Bot.objects.db)}
        self._give_projects(locked.values())
        for bot in locked.values():
            if not bot.is_terminal:
                self.live[(bot.project_id, bot.deduplication_key)] = bot
        links = []
        if locked:
            links = BotMeeting.objects.filter(AnyOf("bot_id", locked, "uuid")).values_list(
                "pk", "bot_id", "meeting_id"
            )
        for link_id, bot_id, meeting_id in links:
            self.links[bot_id].add(meeting_id)
            self.link_ids[(bot_id, meeting_id)] = link_id
            self.serving[meeting_id].append(locked[bot_id])
        return locked

    def lock_keys(self, keys_by_project: dict) -> None:
        """`lock` for meetings that have no bot yet (a sync page's new ones): lock, in
        primary-key order, the live bots of the keys they want, and know them as live. Only
        their ids and keys are read: a meeting joining one needs nothing else (no event, no
        change of the bot), which spares loading thousands of bots a second calendar's copies
        of the same meetings join."""
        conditions = _key_conditions(keys_by_project)
        if not conditions:
            return
        fields = ("project", "deduplication_key")
        rows = (
            Bot.objects.select_for_update(of=("self",))
            .filter(reduce(or_, conditions))
            .order_by("pk")
            .values_list("pk", *fields)
        )
        for bot in _loaded(Bot, fields, rows, Bot.objects.db):
            self.live[(bot.project_id, bot.deduplication_key)] = bot

    def bots_of(self, meeting: Meeting) -> list[Bot]:
        """The meeting's live bots, as locked, oldest first."""
        bots = [bot for bot in self.serving.get(meeting.pk, ()) if not bot.is_terminal]
        return sorted(bots, key=lambda bot: (bot.created_at, str(bot.pk)))

    def _give_projects(self, bots) -> None:
        """Set each bot's project from those loaded with the meetings (not one copy per row)."""
        missing = {bot.project_id for bot in bots} - self.projects.keys()
        if missing:
            self.projects.update(Project.objects.in_bulk(list(missing)))
        for bot in bots:
            _attach(bot, project=self.projects[bot.project_id])

    def _serves_others(self, bot: Bot, meeting: Meeting) -> bool:
        return bool(self.links[bot.pk] - {meeting.pk})

    def _follows_rule(self, bot: Bot, meeting: Meeting) -> bool:
        """A rule-decided meeting's bot takes the rule's settings when they differ and the bot
        serves this meeting alone."""
        if _rule(meeting) is None:
            return False
        if bot.name == _bot_name(meeting) and bot.config == _bot_config(meeting):
            return False
        return not self._serves_others(bot, meeting)

    def _live_bots(self, project_id, keys) -> dict[str, Bot]:
        """The live bot of each key that has one (at most one: a database constraint)."""
        return {
            bot.deduplication_key: bot
            for bot in Bot.objects.select_for_update(of=("self",))
            .select_related("project")
            .filter(project_id=project_id, deduplication_key__in=list(keys))
            .live()
        }

    def _live_bot(self, project_id, key: str) -> Bot | None:
        return self._live_bots(project_id, [key]).get(key)

    def _new_bots(self, wanted: list[tuple[Meeting, str]]) -> list[Bot]:
        """Unsaved bots for these (meeting, deduplication key) pairs (thousands at a time for a
        first sync or a rule change: built without Model.__init__, `new_instances`)."""
        entry = Bot.status_entry(Bot.Status.SCHEDULED, message="Scheduled for a calendar meeting.")
        bots = new_instances(
            Bot,
            [
                {
                    "project_id": meeting.project_id,
                    "meeting_url": meeting.meeting_url,
                    "meeting_platform": meeting.meeting_platform,
                    "join_at": join_time(meeting, self.now),
                    "name": _bot_name(meeting),
                    "config": _bot_config(meeting),
                    "deduplication_key": key,
                    "backend": meeting.project.bot_dispatch_backend,
                    "status": Bot.Status.SCHEDULED,
                    "status_changes": [dict(entry)],
                }
                for meeting, key in wanted
            ],
        )
        for bot, (meeting, _) in zip(bots, wanted, strict=True):
            _attach(bot, project=meeting.project)
        return bots

    def _created(self, bot: Bot) -> None:
        self.result.created.add(bot.pk)
        self._changed(bot, events.BOT_SCHEDULED)

    def _bot_for(self, meeting: Meeting, key: str) -> Bot:
        bot = self._live_bot(meeting.project_id, key)
        if bot is not None:
            return bot
        try:
            with transaction.atomic():
                [bot] = self._new_bots([(meeting, key)])
                bot.save()
        except IntegrityError:
            # Another worker created the bot for this key a moment ago: share it.
            return self._live_bot(meeting.project_id, key)
        self._created(bot)
        return bot

    def join_all(self, wanted: dict[tuple, list[Meeting]]) -> None:
        """Meetings without a bot that need one, by (project, deduplication key): each joins
        the live bot of its key, or one created for it - in a handful of statements for any
        number of meetings (a calendar's first sync can schedule thousands). New bots are
        inserted in key order, so two batches creating the same keys never wait on each other
        in a cycle."""
        if not wanted:
            return
        missing = sorted((pair for pair in wanted if pair not in self.live), key=str)
        if missing:
            bots = self._new_bots([(wanted[pair][0], pair[1]) for pair in missing])
            try:
                with transaction.atomic():
                    bulk_insert(Bot, bots)
            except IntegrityError:
                # Another worker just created some of these keys: one by one, sharing theirs.
                bots = [self._bot_for(wanted[pair][0], pair[1]) for pair in missing]
            else:
                for bot in bots:
                    self._created(bot)
            self.live.update(zip(missing, bots, strict=True))
        faults.point("reconcile.bots_created")
        links = [
            (self.live[pair].pk, meeting.pk)
            for pair, meetings in wanted.items()
            for meeting in meetings
        ]
        _link_all(links)
        for bot_id, meeting_id in links:
            self.links[bot_id].add(meeting_id)
        self.result.attached += len(links)

    def _changed(self, bot: Bot, event_type: str, **details) -> None:
        self.touched.add(bot.pk)
        self.events.append((bot, event_type, details))

    def _detach(self, bot: Bot, meeting: Meeting) -> bool:
        """Remove the link (written by `flush`); True when the bot serves nobody any more."""
        if (bot.pk, meeting.pk) in self.link_ids:
            self.links[bot.pk].discard(meeting.pk)
            self.unlinked.append((bot.pk, meeting.pk))
            self.result.detached += 1
        return not self.links[bot.pk]

    def _cancel(self, bot: Bot, reason: str) -> None:
        """Cancel the bot in memory at once (the rest of the batch sees it ended); `flush`
        writes it, with every other cancellation of the batch."""
        entry = Bot.status_entry(
            Bot.Status.CANCELLED,
            sub_code=reason,
            message="No meeting needs this bot.",
            at=self._stamp(),
        )
        bot.status = Bot.Status.CANCELLED
        bot.status_changes = [*bot.status_changes, entry]
        bot.updated_at = self._stamp()
        self.cancelling.append((bot, entry))
        if self.live.get((bot.project_id, bot.deduplication_key)) is bot:
            del self.live[(bot.project_id, bot.deduplication_key)]
        self.result.cancelled.add(bot.pk)
        self._changed(bot, events.BOT_CANCELLED, reason=reason)

    def _stamp(self) -> datetime:
        """When this batch's cancellations happened (one time for all: one UPDATE)."""
        if not hasattr(self, "_cancelled_at"):
            self._cancelled_at = timezone.now()
        return self._cancelled_at

    def flush(self) -> None:
        """Write the links removed and the bots cancelled so far: one DELETE, and one UPDATE per
        reason that appends the same history entry to every bot's `status_changes`. The bots
        are locked already (`lock`), so no lock is taken out of order here."""
        if self.unlinked:
            link_ids = [self.link_ids.pop(pair) for pair in self.unlinked]
            self.unlinked = []
            BotMeeting.objects.filter(AnyOf("pk", link_ids, "bigint")).delete()
        if self.cancelling:
            by_entry = defaultdict(list)
            for bot, entry in self.cancelling:
                by_entry[tuple(sorted(entry.items()))].append(bot.pk)
            self.cancelling = []
            for entry, bot_ids in by_entry.items():
                Bot.objects.filter(AnyOf("pk", bot_ids, "uuid")).record_status(
                    dict(entry), at=self._stamp()
                )

    def _refresh(self, bot: Bot, meeting: Meeting, key: str) -> None:
        """Keep a movable bot's time, link and key equal to its meeting's."""
        updates = {
            "join_at": join_time(meeting, self.now),
            "meeting_url": meeting.meeting_url,
            "meeting_platform": meeting.meeting_platform,
            "deduplication_key": key,
        }
        if _schedule(meeting) is not None or self._follows_rule(bot, meeting):
            # An API-scheduled or rule-decided bot also follows their config changes.
            updates.update(name=_bot_name(meeting), config=_bot_config(meeting))
        if bot.join_at <= self.now and updates["join_at"] == self.now:
            updates["join_at"] = bot.join_at  # already due: keep it due, do not chase the clock
        changed = [name for name, value in updates.items() if getattr(bot, name) != value]
        if not changed:
            return
        previous = {"previous_join_at": bot.join_at, "previous_meeting_url": bot.meeting_url}
        for name in changed:
            setattr(bot, name, updates[name])
        if bot.status != Bot.Status.SCHEDULED:
            # Handed over but not joined yet: it waits for the new time again.
            bot.set_status(Bot.Status.SCHEDULED, sub_code="rescheduled", message="Meeting moved.")
            changed += ["status", "status_changes"]
        bot.save(update_fields=[*changed, "updated_at"])
        self.result.moved.add(bot.pk)
        self._changed(bot, events.BOT_RESCHEDULED, **previous)

    # --- one meeting ---
    def meeting(self, meeting: Meeting, bots: list[Bot], key: str | None, wanted) -> None:
        """Make the meeting's bots match: at most one live bot, of `key` (None: no bot). A
        meeting that needs a bot it does not have is added to `wanted` for `join_all`.
        `bots` are the meeting's live bots, locked."""
        joined = [bot for bot in bots if not bot.is_movable]
        if joined:
            # It has joined: a live call is never touched. Anything else still scheduled for
            # this meeting is a stray.
            for stray in bots:
                if stray.is_movable:
                    self._leave(stray, meeting)
            return
        current = next((bot for bot in bots if bot.deduplication_key == key), None)
        current = current or (bots[0] if bots else None)
        for stray in bots:
            if stray is not current:  # never more than one: what a past race left behind
                self._leave(stray, meeting, reason="duplicate")
        if current is None:
            if key:
                wanted[(meeting.project_id, key)].append(meeting)
            return
        if key == current.deduplication_key:
            self._refresh(current, meeting, key)
            return
        sole = not self._serves_others(current, meeting)
        if key and sole and (meeting.project_id, key) not in self.live:
            old = (current.project_id, current.deduplication_key)
            # The new key may be one a bot cancelled earlier in this batch held: write that
            # first, so the move does not collide with it.
            self.flush()
            try:
                with transaction.atomic():
                    self._refresh(current, meeting, key)  # moved: the same bot follows it
            except IntegrityError:
                current.refresh_from_db()  # the new key was just taken: join that bot below
            else:
                if self.live.get(old) is current:
                    del self.live[old]
                self.live[(meeting.project_id, key)] = current
                return
        self._leave(current, meeting)
        if key:
            wanted[(meeting.project_id, key)].append(meeting)

    def _leave(self, bot: Bot, meeting: Meeting, *, reason: str = "not_needed") -> None:
        """The meeting leaves the bot; a bot left serving nobody is cancelled."""
        if self._detach(bot, meeting):
            self._cancel(bot, reason)

    def give_payload_meetings(self, loaded: dict, bots: list[Bot]) -> None:
        """Set each bot's `payload_meetings` (what its webhook payload lists, events._bot) from
        the links this batch holds (current: they change only under the bots' locks) and the
        meetings it has `loaded`; only meetings outside the batch (of shared bots) are read."""
        missing = {m for bot in bots for m in self.links[bot.pk]} - loaded.keys()
        if missing:
            extra = events.payload_meetings(Meeting.objects.filter(pk__in=missing))
            loaded = {**loaded, **{meeting.pk: meeting for meeting in extra}}
        for bot in bots:
            bot.payload_meetings = sorted(
                (loaded[m] for m in self.links[bot.pk]), key=lambda m: (m.start_time, str(m.pk))
            )

    def publish(self, loaded: dict) -> None:
        """The batch's webhook events (their payloads list the `loaded` meetings), and its
        bots' backend pushes once it commits."""
        _emit(self.events, partial(self.give_payload_meetings, loaded))
        touched = list(self.touched)
        if touched:
            transaction.on_commit(lambda: enqueue_pushes(touched))

    def cancel_orphans(self, bots: list[Bot]) -> None:
        for bot in bots:
            self._cancel(bot, "not_needed")


# What decisions and bots read of a meeting (not the raw payload, not the long texts).
MEETING_FIELDS = (
    "project",
    "calendar",
    "series_id",
    "meeting_url",
    "meeting_platform",
    "is_all_day",
    "is_deleted",
    "status",
    "start_time",
    "end_time",
    "override_should_record",
    "is_external",
    "is_recurring",
    "is_hosted_by_me",
    "attendees",
    "will_record",
    "will_record_reason",
    "needs_reconcile",
)
# What auto-join rules read besides, loaded only for batches whose users have rules.
RULE_MEETING_FIELDS = ("title", "description", "organizer_email")
# Secrets would be decrypted for nothing.
CALENDAR_NOT_LOADED = (
    "refresh_token",
    "oauth_client_secret",
    "access_token",
    "push_token",
    "state_history",
    "sync_cursor",
    "metadata",
)


def _lock_calendars(calendar_ids) -> dict:
    """Lock the calendars (Calendar.objects.locking) and load them, with their calendar user
    and project, and whether any auto-join rule may apply (`has_rules`), in the same statement:
    users without rules (most) then cost no rule query."""
    return {
        calendar.pk: calendar
        for calendar in Calendar.objects.locking(calendar_ids)
        .select_related("project", "calendar_user")
        .defer(*CALENDAR_NOT_LOADED)
        .annotate(
            has_rules=AutoJoinRule.objects.may_apply(
                calendar_user=OuterRef("calendar_user"), project=OuterRef("project")
            )
        )
    }


def load_meetings(selected, calendars: dict, fields=MEETING_FIELDS) -> list[Meeting]:
    """The `selected` meetings (a queryset) with these fields, each with its calendar, calendar
    user and project - loaded once per calendar, not joined into every row (a sync reconciles
    thousands of one calendar's)."""
    meetings = _loaded(Meeting, fields, selected.values_list("pk", *fields), selected.db)
    for meeting in meetings:
        calendar = calendars[meeting.calendar_id]
        _attach(meeting, calendar=calendar, project=calendar.project)
    return meetings


# From this many meetings on, a batch first asks whether its calendars have any API schedule
# (one cheap query) before looking every meeting up.
SCHEDULE_CHECK_FROM = 100


def _with_schedules(meetings: list[Meeting], calendars: dict) -> list[Meeting]:
    """`attach_schedules`; for a big batch skipped (one cheap query instead) when none of the
    calendars has an API schedule, as for most calendars."""
    if len(meetings) >= SCHEDULE_CHECK_FROM and not (
        BotSchedule.objects.filter(calendar_id__in=list(calendars)).exists()
    ):
        for meeting in meetings:
            meeting.effective_schedule = None
        return meetings
    return attach_schedules(meetings)


def rule_sets(calendars) -> dict:
    """The compiled auto-join rules of these calendars' users (one query, none when no calendar
    has rules), by user id; a user without rules has no entry."""
    return AutoJoinRule.objects.rule_sets(
        {calendar.calendar_user for calendar in calendars if getattr(calendar, "has_rules", True)}
    )


def decide_meeting(meeting: Meeting, now: datetime, rules: dict, steps=None) -> Decision:
    """The decision of a meeting loaded with its calendar (and calendar user) and its
    `effective_schedule`; `rules`: `rule_sets` of its calendar. Reconciliation and the rules'
    dry run (calendars/rule_services.py) decide through this one function."""
    calendar = meeting.calendar
    return decide(
        meeting,
        calendar.calendar_user,
        account_email=calendar.email,
        now=now,
        calendar_connected=calendar.state != Calendar.State.DISCONNECTED,
        calendar_connecting=calendar.state == Calendar.State.CONNECTING,
        schedule=meeting.effective_schedule,
        rules=rules.get(calendar.calendar_user_id),
        provider=calendar.platform,
        steps=steps,  # the decision trace's (calendars/decision_trace.py)
    )


def reconcile_meetings(
    *, meeting_ids, now: datetime | None = None, calendar_ids=None
) -> ReconcileResult:
    """Recompute the decisions of these meetings and make their bots match; clear their
    `needs_reconcile` marks. Idempotent; one transaction (joins the caller's, if any).
    `calendar_ids`: the meetings' calendars, when the caller knows them."""
    meeting_ids = list(meeting_ids)
    if calendar_ids is None:
        calendar_ids = (
            Meeting.objects.filter(AnyOf("pk", meeting_ids, "uuid"))
            .order_by()
            .values_list("calendar_id", flat=True)
            .distinct()
        )
    return _reconcile(
        lambda: Meeting.objects.filter(AnyOf("pk", meeting_ids, "uuid")).order_by("pk"),
        calendar_ids,
        now,
    )


def schedule_inserted(meetings: list[Meeting], now: datetime) -> ReconcileResult:
    """The bots of meetings a sync page inserts in the caller's transaction, decided to record
    before they were written: each joins the live bot of its deduplication key or one created
    for it (`join_all`), with the webhook events and backend pushes of a reconciliation. What
    `reconcile_botless` would do after the sync, without reading the meetings back and deciding
    them again. The caller holds the calendar's lock (the first lock of the usual order) and
    gives each meeting its calendar, project, `decision` and `effective_schedule`; new meetings
    have no bots, so only the live bots of the keys they want are locked."""
    worker = _Reconciler(now, {meeting.project_id: meeting.project for meeting in meetings})
    wanted: dict[tuple, list[Meeting]] = defaultdict(list)
    for meeting in meetings:
        wanted[(meeting.project_id, deduplication_key(meeting))].append(meeting)
    keys_by_project = defaultdict(set)
    for project_id, key in wanted:
        keys_by_project[project_id].add(key)
    worker.lock_keys(keys_by_project)
    worker.join_all(wanted)
    worker.result.reconciled = len(meetings)
    worker.publish({meeting.pk: meeting for meeting in meetings})
    return worker.result


def reconcile_marked(*, calendar_id, now: datetime | None = None) -> int:
    """Reconcile up to DRAIN_BATCH of the calendar's meetings marked `needs_reconcile`, read
    after the calendar's lock is taken; returns how many."""
    marked = Meeting.objects.filter(calendar_id=calendar_id, needs_reconcile=True)
    result = _reconcile(lambda: marked.order_by("pk")[:DRAIN_BATCH], [calendar_id], now)
    return result.reconciled


def reconcile_botless(*, calendar_id, now: datetime | None = None) -> int:
    """Reconcile up to DRAIN_BATCH of the calendar's meetings decided to record that have no
    live bot (inserted so by sync, `Calendar.bots_pending`); the last batch clears the flag in
    its transaction, under the calendar's lock (no page can set it meanwhile). Returns how
    many."""
    now = now or timezone.now()
    botless = (
        Meeting.objects.upcoming(now)
        .filter(calendar_id=calendar_id, will_record=True)
        .exclude(bots__status__in=LIVE_STATUSES)
        .order_by("pk")
    )

    def select():
        return botless[:DRAIN_BATCH]

    def done(meetings):
        if len(meetings) < DRAIN_BATCH:
            Calendar.objects.filter(pk=calendar_id).bots_settled()

    return _reconcile(select, [calendar_id], now, before_commit=done).reconciled


def redecide(*, calendar_ids, rule_ids=(), now: datetime | None = None) -> ReconcileResult:
    """Re-decide the upcoming meetings of these calendars after a change of what decides them
    (their user's preferences or auto-join rules), in one transaction (the caller's, if any).
    Only meetings whose decision changes are reconciled, with those a rule of `rule_ids` decides
    (its bot settings may have changed) and those marked `needs_reconcile`: the bots of the
    others already match their unchanged decision. So a rule change that flips half of 10,000
    meetings locks and handles the bots of that half only (bench/bench_rules.py)."""
    now = now or timezone.now()
    rule_ids = {str(rule_id) for rule_id in rule_ids}  # as Decision.rule_id

    def affected(meeting: Meeting, decision: Decision) -> bool:
        return (
            meeting.needs_reconcile
            or (meeting.will_record, meeting.will_record_reason)
            != (decision.will_record, decision.reason)
            or decision.rule_id in rule_ids
        )

    calendar_ids = list(calendar_ids)
    return _reconcile(
        lambda: Meeting.objects.upcoming(now).filter(calendar_id__in=calendar_ids).order_by("pk"),
        calendar_ids,
        now,
        affected=affected,
    )


def _reconcile(
    select, calendar_ids, now: datetime | None, before_commit=None, affected=None
) -> ReconcileResult:
    """`select()`: the meetings to decide, called once the calendars are locked;
    `affected(meeting, decision)`: which of them to reconcile (default: all);
    `before_commit(meetings)`: more work in the same transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        calendars = _lock_calendars(calendar_ids)
        worker = _Reconciler(now, {c.project_id: c.project for c in calendars.values()})
        rules = rule_sets(calendars.values())
        # What auto-join rules read besides, only when a user of the batch has rules.
        fields = MEETING_FIELDS + (RULE_MEETING_FIELDS if any(rules.values()) else ())
        meetings = _with_schedules(load_meetings(select(), calendars, fields), calendars)
        worker.result.reconciled = len(meetings)
        decisions = {}
        for meeting in meetings:
            # The bot's settings read the decision (a joining rule's name and config).
            meeting.decision = decisions[meeting.pk] = decide_meeting(meeting, now, rules)
        loaded = {meeting.pk: meeting for meeting in meetings}
        if affected is not None:
            meetings = [m for m in meetings if affected(m, decisions[m.pk])]
        keys = {
            meeting.pk: deduplication_key(meeting) if decisions[meeting.pk].will_record else None
            for meeting in meetings
        }
        keys_by_project = defaultdict(set)
        for meeting in meetings:
            if keys[meeting.pk]:
                keys_by_project[meeting.project_id].add(keys[meeting.pk])
        worker.lock([meeting.pk for meeting in meetings], keys_by_project)
        changed: dict[tuple[bool, str, bool], list] = defaultdict(list)
        marked = []  # read marked, decision unchanged
        wanted: dict[tuple, list[Meeting]] = defaultdict(list)
        for meeting in meetings:
            decision = decisions[meeting.pk]
            outcome = (decision.will_record, decision.reason)
            if (meeting.will_record, meeting.will_record_reason) != outcome:
                meeting.will_record, meeting.will_record_reason = outcome
                changed[(*outcome, meeting.needs_reconcile)].append(meeting.pk)
            elif meeting.needs_reconcile:
                marked.append(meeting.pk)
            # The locked, current rows (a bot may have ended in this batch).
            worker.meeting(meeting, worker.bots_of(meeting), keys[meeting.pk], wanted)
        worker.flush()  # before join_all: a cancelled bot's key may be wanted again
        worker.join_all(wanted)
        # One UPDATE per distinct outcome (a handful), not one CASE per row; it clears the
        # marks read with the meetings (a mark set since, by a change this batch did not see,
        # stays for the next drain).
        # A fresh timestamp, not `now`: the event feed (updated_at_gte) assumes a row's
        # updated_at is taken shortly before its commit.
        stamp = timezone.now()
        for (will_record, reason, was_marked), ids in changed.items():
            marks = {"needs_reconcile": False} if was_marked else {}
            Meeting.objects.filter(AnyOf("pk", ids, "uuid")).update(
                will_record=will_record, will_record_reason=reason, updated_at=stamp, **marks
            )
        worker.result.decisions_changed = sum(len(ids) for ids in changed.values())
        if marked:
            Meeting.objects.filter(AnyOf("pk", marked, "uuid"), needs_reconcile=True).update(
                needs_reconcile=False
            )
        worker.publish(loaded)
        if before_commit is not None:
            before_commit(meetings)
        faults.point("reconcile.before_commit")
    return worker.result


PAYLOADS = {
    events.BOT_SCHEDULED: events.bot_scheduled,
    events.BOT_RESCHEDULED: events.bot_rescheduled,
    events.BOT_CANCELLED: events.bot_cancelled,
}


def _emit(changes: list[tuple[Bot, str, dict]], prefetch) -> None:
    """The bots' webhook events, in one batch per project. `prefetch(bots)` gives the bots
    the meetings their payloads list (`payload_meetings`)."""
    by_project = defaultdict(list)
    for change in changes:
        by_project[change[0].project_id].append(change)
    for batch in by_project.values():
        emit_events(project=batch[0][0].project, items=_payload_builders(batch, prefetch))


def _payload_builders(batch: list[tuple[Bot, str, dict]], prefetch) -> list:
    """Payloads are built only when an endpoint listens; the first one built gives all the
    batch's bots their meetings at once."""
    bots = list({bot.pk: bot for bot, _, _ in batch}.values())
    prefetch = cache(partial(prefetch, bots))

    def build(bot, event_type, details):
        prefetch()
        return PAYLOADS[event_type](bot, **details)

    return [
        (event_type, partial(build, bot, event_type, details)) for bot, event_type, details in batch
    ]


SWEEP_AHEAD = timedelta(hours=48)
SWEEP_BATCH = 500
# One drain run: at most this many calendars, each drained in batches of DRAIN_BATCH (a
# transaction each: short enough not to hold a calendar's lock long).
PENDING_CALENDARS = 1000
DRAIN_BATCH = 1000
MAX_DRAIN_BATCHES = 100


def _reconcile_batches(calendar_id, ids: list, now) -> None:
    for start in range(0, len(ids), SWEEP_BATCH):
        batch = ids[start : start + SWEEP_BATCH]
        retrying(
            lambda batch=batch: reconcile_meetings(
                meeting_ids=batch, now=now, calendar_ids=[calendar_id]
            )
        )


def _drain(calendar_id, *, botless: bool, heartbeat=None) -> int:
    """The calendar's marked meetings, then (`botless`) its recorded meetings without a bot,
    batch by batch until none is left (bounded: marks arriving all the time from another
    worker's pages are left to the next run)."""
    done = 0
    steps = [reconcile_marked, *([reconcile_botless] if botless else [])]
    batches = 0
    for step in steps:
        while batches < MAX_DRAIN_BATCHES:
            if heartbeat is not None and batches and not heartbeat():
                return done  # the caller's lease is gone: whoever holds it now drains
            batches += 1
            count = retrying(lambda step=step: step(calendar_id=calendar_id))
            done += count
            if count < DRAIN_BATCH:
                break
    return done


def reconcile_pending(
    *, calendar_ids=None, bots_pending: bool = False, heartbeat: Callable[[], bool] | None = None
) -> int:
    """Reconcile every meeting marked `needs_reconcile` and make the bots of recorded meetings
    of calendars flagged `bots_pending` (of these calendars, or all), whatever their horizon:
    the drain of what syncs committed. Runs after every sync attempt (for its calendar;
    `bots_pending`: the attempt set the flag) and every minute (config/schedules.py), so a
    failed round, a crash or a lost job is repaired within a minute. Failures are isolated per
    calendar (projects/failures.py); a deadlock victim is retried. Returns how many meetings
    were reconciled."""
    drain_all = calendar_ids is None
    flagged = set()
    if drain_all:
        marked = (
            Meeting.objects.filter(needs_reconcile=True)
            .order_by()
            .values_list("calendar_id", flat=True)
            .distinct()[:PENDING_CALENDARS]
        )
        flagged = set(
            Calendar.objects.filter(bots_pending=True).values_list("pk", flat=True)[
                :PENDING_CALENDARS
            ]
        )
        calendar_ids = sorted({*marked, *flagged}, key=str)
        # A calendar's failure record lasts while it has work waiting.
        JobFailure.objects.filter(job="reconcile", object_type=Calendar._meta.label).exclude(
            object_id__in=[str(calendar_id) for calendar_id in calendar_ids]
        ).delete()
    done = 0
    for calendar_id in calendar_ids:
        botless = bots_pending or calendar_id in flagged
        # The per-sync drain leaves clearing a record to the periodic one (a statement less).
        with isolated("reconcile", Calendar, calendar_id, clear_on_success=drain_all):
            done += _drain(calendar_id, botless=botless, heartbeat=heartbeat)
    return done


def _orphans() -> list[Bot]:
    """Live bots not joined yet that serve no meeting (bots only exist for meetings)."""
    return list(
        Bot.objects.movable()
        .annotate(meeting_count=Count("meetings"))
        .filter(meeting_count=0)
        .select_related("project")
    )


def cancel_orphans() -> int:
    with transaction.atomic():
        orphans = list(
            Bot.objects.select_for_update(of=("self",))
            .select_related("project")
            .filter(pk__in=[bot.pk for bot in _orphans()])
            .movable()
            .order_by("pk")
        )
        worker = _Reconciler(timezone.now())
        worker.cancel_orphans([bot for bot in orphans if not bot.meetings.exists()])
        worker.flush()
        worker.publish({})  # orphans serve no meeting: their payloads list none
    return len(worker.result.cancelled)


def reconcile_upcoming() -> int:
    """Safety sweep: every meeting starting soon, every meeting holding a live bot, and every
    meeting that ended while marked to record (its decision turns to "ended") is reconciled
    again, calendar by calendar with failures isolated; bots serving no meeting are cancelled.
    It verifies the invariant "a live bot's meetings want it, at its time" and repairs what
    anything (a bug, a manual edit) left behind."""
    now = timezone.now()
    soon = Meeting.objects.filter(
        start_time__lte=now + SWEEP_AHEAD, end_time__gt=now, is_deleted=False
    ).values_list("pk", "calendar_id")
    with_bots = BotMeeting.objects.filter(bot__status__in=Bot.MOVABLE_STATUSES).values_list(
        "meeting_id", "meeting__calendar_id"
    )
    ended = Meeting.objects.filter(will_record=True, end_time__lte=now).values_list(
        "pk", "calendar_id"
    )
    by_calendar = defaultdict(set)
    for meeting_id, calendar_id in (*soon, *with_bots, *ended):
        by_calendar[calendar_id].add(meeting_id)
    done = 0
    for calendar_id, ids in sorted(by_calendar.items(), key=lambda item: str(item[0])):
        with isolated("reconcile", Calendar, calendar_id) as ok:
            _reconcile_batches(calendar_id, sorted(ids, key=str), now)
        done += len(ids) if ok else 0
    with isolated("cancel_orphans", None, None):
        cancel_orphans()
    return done

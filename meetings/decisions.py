"""Should a bot record this meeting? Recall Calendar V1 semantics (spec §2.7), in one function.

1. Prerequisites always apply, even with an override: a join link, real start and end times
   (not all-day), not cancelled or deleted, not ended (`unmet_prerequisites`, the one place
   they are written: a bot requested through the API is refused for the same ones).
2. `override_should_record` true/false decides when set.
3. Then a bot requested or removed through the server API (meetings.models.BotSchedule).
4. Then the calendar user's auto-join rules with the project's defaults (meetings/rules.py,
   `rules`: the user's compiled RuleSet): the winning rule's action decides (`rule_join`,
   `rule_skip`), and a joining rule's bot name and config go with the decision to the bot
   reconciliation creates. When the user has enabled rules (own or defaults) and none matches,
   the preferences decide, and the reason says that no rule matched: a user with only rules
   and no preference on (the default) gets nothing recorded, as Aitronos does; a user who
   keeps preferences gets rules as exceptions on top of them.
5. Otherwise the calendar user's preferences: only preferences that are on are evaluated.
   `record_external` / `record_internal` form one OR group (either kind of meeting that is on
   qualifies); `record_recurring`, `record_non_host`, `record_only_host` and `record_confirmed`
   are AND filters on top. Nothing is recorded when no preference is on.

Without rules (no rule set, or an empty one) decisions are exactly the preferences' of step 5.

The reason is one of REASONS: words a support person can read to a customer. A rule's reason
names it (`rule:<id> "<name>"`, the name shortened so the reason fits the stored 200
characters).

Why? `decide(..., steps=[])` also appends each step it evaluates (STEPS, in order) to the list,
and `trace` completes them into the answer to "why (no) bot?" for the admin and the API
(calendars/decision_trace.py). The steps come from the same code as the decision, so they cannot
disagree with it; without a list nothing is built (the sync decides thousands of meetings).
A new step of the decision is one more entry of STEPS and one more `if steps is not None` where
`decide` evaluates it.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from .links import platform_label
from .models import Meeting
from .rules import match

REASONS = {
    "no_link": "Not recorded: the event has no meeting link.",
    "all_day": "Not recorded: all-day events are not recorded.",
    "cancelled": "Not recorded: the meeting was cancelled.",
    "deleted": "Not recorded: the event was deleted from the calendar.",
    "ended": "Not recorded: the meeting has ended.",
    "override_on": "Recorded: recording was turned on for this meeting.",
    "override_off": "Not recorded: recording was turned off for this meeting.",
    "no_preferences": "Not recorded: no recording preference is on.",
    "not_external": "Not recorded: internal meeting, and only external meetings are recorded.",
    "not_internal": "Not recorded: external meeting, and only internal meetings are recorded.",
    "not_recurring": "Not recorded: not a recurring meeting (record_recurring).",
    "hosted_by_me": "Not recorded: you host this meeting (record_non_host).",
    "not_hosted_by_me": "Not recorded: you do not host this meeting (record_only_host).",
    "not_accepted": "Not recorded: you have not accepted this meeting (record_confirmed).",
    "preferences": "Recorded: matches the recording preferences.",
    "no_calendar_user": "Not recorded automatically: bots for this calendar are scheduled by API.",
    "calendar_disconnected": "Not recorded: the calendar is disconnected.",
    "calendar_connecting": "Not recorded yet: the calendar's new credentials are being checked.",
    "scheduled_by_api": "Recorded: a bot was scheduled for this meeting through the API.",
    "unscheduled_by_api": "Not recorded: the bot was removed from this meeting through the API.",
    "rule_join": "Recorded: {rule} joins this meeting.",
    "rule_skip": "Not recorded: {rule} skips this meeting.",
}
NO_RULE_MATCHED = " No auto-join rule matched."
# Meeting.will_record_reason's length.
MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class Decision:
    """`rule_id`/`rule_name`: the rule that decided (codes rule_join, rule_skip);
    `no_rule_matched`: the user has rules but none matched, so the preferences decided;
    `bot_name`/`bot_config`: a joining rule's settings for the bot (empty: the defaults)."""

    will_record: bool
    code: str
    rule_id: str | None = None
    rule_name: str = ""
    no_rule_matched: bool = False
    bot_name: str = field(default="", compare=False)
    bot_config: dict | None = field(default=None, compare=False)

    @property
    def reason(self) -> str:
        text = REASONS[self.code]
        if self.rule_id is not None:
            room = MAX_REASON_CHARS - len(text) + len("{rule}") - len(f'rule:{self.rule_id} ""')
            name = self.rule_name
            if len(name) > room:
                name = name[: max(room - 1, 0)] + "…"
            text = text.format(rule=f'rule:{self.rule_id} "{name}"')
        if self.no_rule_matched:
            text += NO_RULE_MATCHED
        return text


def _accepted(meeting, account_email: str) -> bool:
    if meeting.is_hosted_by_me:
        return True
    email = (account_email or "").lower()
    return any(
        (a.get("email") or "").lower() == email and a.get("status") == "accepted"
        for a in meeting.attendees or []
        if isinstance(a, dict)
    )


def unmet_prerequisites(meeting, *, now: datetime) -> list[str]:
    """The recording prerequisites this meeting misses, as REASONS codes in the order `decide`
    reports them. Nothing records a meeting that misses one: not the preferences, not an
    override, not a bot scheduled through the API (calendars.meeting_services refuses the request)."""
    unmet = []
    if not meeting.meeting_url:
        unmet.append("no_link")
    if meeting.is_all_day:
        unmet.append("all_day")
    if meeting.is_deleted:
        unmet.append("deleted")
    if meeting.status == Meeting.Status.CANCELLED:
        unmet.append("cancelled")
    if meeting.end_time <= now:
        unmet.append("ended")
    return unmet


# --- The steps of a decision (the "Why?" of the admin and the API) ------------------------------

PASS, FAIL, DECIDED, SKIPPED = "pass", "fail", "decided", "skipped"
# Every step `decide` may evaluate, in its order, with the words support staff read. Outcomes:
# pass (checked, the meeting goes on to the next step), fail (a prerequisite not met: the first
# one decides, nothing records the meeting), decided (this step made the decision, either way),
# skipped (not evaluated: an earlier step decided).
STEPS = {
    "calendar": "Calendar connected",
    "join_link": "Has a join link",
    "all_day": "Not an all-day event",
    "deleted": "Not deleted from the calendar",
    "cancelled": "Not cancelled",
    "ended": "Not ended",
    "override": "Per-meeting override",
    "api_schedule": "Bot scheduled through the API",
    "calendar_user": "Calendar user",
    "rules": "Auto-join rules",
    "preferences": "Recording preferences",
}
DECISION_STEP = "decision"
# unmet_prerequisites' codes, as steps.
PREREQUISITES = {
    "no_link": "join_link",
    "all_day": "all_day",
    "deleted": "deleted",
    "cancelled": "cancelled",
    "ended": "ended",
}
PREFERENCE_NAMES = (
    "record_external",
    "record_internal",
    "record_recurring",
    "record_non_host",
    "record_only_host",
    "record_confirmed",
)
# The preference that decided, by the code of `_by_preferences`.
DECIDING_PREFERENCE = {
    "not_internal": "record_internal",
    "not_external": "record_external",
    "not_recurring": "record_recurring",
    "hosted_by_me": "record_non_host",
    "not_hosted_by_me": "record_only_host",
    "not_accepted": "record_confirmed",
}


@dataclass(frozen=True, slots=True)
class Step:
    step: str
    outcome: str
    detail: str = ""

    @property
    def label(self) -> str:
        return STEPS.get(self.step, "Decision")

    def as_dict(self) -> dict:
        return {
            "step": self.step,
            "label": self.label,
            "outcome": self.outcome,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Trace:
    """A decision and the steps that led to it, every step of STEPS present (the ones after the
    deciding step `skipped`), ending in the decision itself."""

    decision: Decision
    steps: tuple[Step, ...]

    @classmethod
    def of(
        cls, decision: Decision, steps: list[Step], *, link_source: str | None = None
    ) -> "Trace":
        """Complete the steps `decide(..., steps=...)` recorded. `link_source`: the event field
        the join link came from (the provider's link detection), which the meeting does not
        store."""
        seen = {step.step for step in steps}
        done = []
        for step in steps:
            if step.step == "join_link" and step.outcome == PASS and link_source:
                step = replace(step, detail=f"{step.detail} (found in the event's {link_source})")
            done.append(step)
        done += [
            Step(name, SKIPPED, "An earlier step decided.") for name in STEPS if name not in seen
        ]
        done.append(Step(DECISION_STEP, DECIDED, decision.reason))
        return cls(decision, tuple(done))

    @property
    def deciding_step(self) -> Step | None:
        return next((s for s in self.steps if s.outcome in (FAIL, DECIDED)), None)


def trace(meeting, preferences, *, link_source: str | None = None, **inputs) -> Trace:
    """`decide` with its steps: the same arguments (`inputs`), the same decision."""
    steps: list[Step] = []
    decision = decide(meeting, preferences, steps=steps, **inputs)
    return Trace.of(decision, steps, link_source=link_source)


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_PREREQUISITE_MET = {
    "all_day": lambda meeting: "It has start and end times.",
    "deleted": lambda meeting: "Still in the calendar.",
    "cancelled": lambda meeting: f"Status: {meeting.status}.",
}


def _prerequisite_steps(meeting, unmet: list[str], steps: list) -> None:
    for code, name in PREREQUISITES.items():
        failed = code in unmet
        if name == "join_link":
            platform = getattr(meeting, "meeting_platform", None)
            detail = (
                "No join link was found in the event."
                if failed
                else f"{platform_label(platform) if platform else 'Join'} link {meeting.meeting_url}"
            )
        elif name == "ended":
            detail = f"{'Ended' if failed else 'Ends'} {_when(meeting.end_time)}."
        elif failed:
            detail = REASONS[code].partition(": ")[2]
        else:
            detail = _PREREQUISITE_MET[name](meeting)
        steps.append(Step(name, FAIL if failed else PASS, detail))


def decide(
    meeting,
    preferences,
    *,
    account_email: str,
    now: datetime,
    calendar_connected: bool = True,
    calendar_connecting: bool = False,
    schedule=None,
    rules=None,
    provider: str | None = None,
    steps: list | None = None,
) -> Decision:
    """`preferences` is the CalendarUser (or None for a calendar without one); `schedule` the
    meeting's effective BotSchedule (meetings/bot_schedules.py), if any; `rules` the calendar
    user's compiled rules (meetings.rules.RuleSet, AutoJoinRule.objects.rule_sets) and
    `provider` the meeting's calendar provider, which rules may name. `steps`: a list to append
    the evaluated steps to (see `trace`); None (the sync's case) builds none."""
    if not calendar_connected or calendar_connecting:
        if steps is not None:
            why = (
                "disconnected"
                if not calendar_connected
                else "connecting: new credentials are being checked"
            )
            steps.append(Step("calendar", FAIL, f"The calendar is {why}."))
        return Decision(
            False, "calendar_disconnected" if not calendar_connected else "calendar_connecting"
        )
    if steps is not None:
        steps.append(Step("calendar", PASS, "Connected."))
    unmet = unmet_prerequisites(meeting, now=now)
    if steps is not None:
        _prerequisite_steps(meeting, unmet, steps)
    if unmet:
        return Decision(False, unmet[0])
    override = meeting.override_should_record
    if steps is not None:
        steps.append(
            Step("override", PASS, "Not set: the steps below decide.")
            if override is None
            else Step(
                "override",
                DECIDED,
                f"Recording was turned {'on' if override else 'off'} for this meeting "
                f"(override_should_record = {'true' if override else 'false'}).",
            )
        )
    if override is True:
        return Decision(True, "override_on")
    if override is False:
        return Decision(False, "override_off")
    if schedule is not None:
        if steps is not None:
            target = "this meeting" if schedule.meeting_id is not None else "its recurring series"
            steps.append(
                Step(
                    "api_schedule",
                    DECIDED,
                    f"A bot was requested for {target} through the API."
                    if schedule.enabled
                    else "The bot was removed from this occurrence through the API.",
                )
            )
        return (
            Decision(True, "scheduled_by_api")
            if schedule.enabled
            else (Decision(False, "unscheduled_by_api"))
        )
    if steps is not None:
        steps.append(Step("api_schedule", PASS, "None."))
    if preferences is None:
        if steps is not None:
            steps.append(
                Step(
                    "calendar_user",
                    DECIDED,
                    "The calendar has no calendar user: bots come from the API only.",
                )
            )
        return Decision(False, "no_calendar_user")
    if steps is not None:
        steps.append(
            Step("calendar_user", PASS, str(getattr(preferences, "external_id", "") or "Yes."))
        )
    if rules:
        rule = match(meeting, rules, provider)
        if rule is not None:
            if steps is not None:
                owner = "a project default" if rule.is_default else "the user's own rule"
                verb = "joins" if rule.will_record else "skips"
                steps.append(
                    Step(
                        "rules",
                        DECIDED,
                        f'rule:{rule.id} "{rule.name}" ({owner}, priority {rule.priority}) {verb} '
                        f"this meeting; {len(rules)} enabled rule(s) in all.",
                    )
                )
            return Decision(
                rule.will_record,
                "rule_join" if rule.will_record else "rule_skip",
                rule_id=rule.id,
                rule_name=rule.name,
                bot_name=rule.bot_name,
                bot_config=rule.bot_config,
            )
        if steps is not None:
            steps.append(
                Step("rules", PASS, f"No rule matched ({len(rules)} enabled rule(s) tried).")
            )
        no_rule_matched = True
    else:
        if steps is not None:
            steps.append(
                Step("rules", PASS, "No rules: neither the user's own nor project defaults.")
            )
        no_rule_matched = False
    decision = _by_preferences(meeting, preferences, account_email)
    if steps is not None:
        steps.append(_preferences_step(preferences, decision))
    return replace(decision, no_rule_matched=True) if no_rule_matched else decision


def _preferences_step(p, decision: Decision) -> Step:
    """Which preferences are on, and which one decided."""
    on = [name for name in PREFERENCE_NAMES if getattr(p, name)]
    if decision.code == "no_preferences":
        detail = "None is on."
    elif decision.will_record:
        detail = f"On: {', '.join(on)}; the meeting matches each of them."
    else:
        detail = (
            f"On: {', '.join(on)}; {DECIDING_PREFERENCE[decision.code]} decided: "
            f"{REASONS[decision.code].partition(': ')[2]}"
        )
    return Step("preferences", DECIDED, detail)


def _by_preferences(meeting, p, account_email: str) -> Decision:
    """Step 5 of the module's docstring."""
    if not any(
        (
            p.record_external,
            p.record_internal,
            p.record_recurring,
            p.record_non_host,
            p.record_only_host,
            p.record_confirmed,
        )
    ):
        return Decision(False, "no_preferences")
    if p.record_external or p.record_internal:
        if meeting.is_external and not p.record_external:
            return Decision(False, "not_internal")
        if not meeting.is_external and not p.record_internal:
            return Decision(False, "not_external")
    if p.record_recurring and not meeting.is_recurring:
        return Decision(False, "not_recurring")
    if p.record_non_host and meeting.is_hosted_by_me:
        return Decision(False, "hosted_by_me")
    if p.record_only_host and not meeting.is_hosted_by_me:
        return Decision(False, "not_hosted_by_me")
    if p.record_confirmed and not _accepted(meeting, account_email):
        return Decision(False, "not_accepted")
    return Decision(True, "preferences")

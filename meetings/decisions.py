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
"""

from dataclasses import dataclass, field, replace
from datetime import datetime

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
) -> Decision:
    """`preferences` is the CalendarUser (or None for a calendar without one); `schedule` the
    meeting's effective BotSchedule (meetings/bot_schedules.py), if any; `rules` the calendar
    user's compiled rules (meetings.rules.RuleSet, AutoJoinRule.objects.rule_sets) and
    `provider` the meeting's calendar provider, which rules may name."""
    if not calendar_connected:
        return Decision(False, "calendar_disconnected")
    if calendar_connecting:
        return Decision(False, "calendar_connecting")
    unmet = unmet_prerequisites(meeting, now=now)
    if unmet:
        return Decision(False, unmet[0])
    if meeting.override_should_record is True:
        return Decision(True, "override_on")
    if meeting.override_should_record is False:
        return Decision(False, "override_off")
    if schedule is not None:
        return (
            Decision(True, "scheduled_by_api")
            if schedule.enabled
            else (Decision(False, "unscheduled_by_api"))
        )
    if preferences is None:
        return Decision(False, "no_calendar_user")
    if rules:
        rule = match(meeting, rules, provider)
        if rule is not None:
            return Decision(
                rule.will_record,
                "rule_join" if rule.will_record else "rule_skip",
                rule_id=rule.id,
                rule_name=rule.name,
                bot_name=rule.bot_name,
                bot_config=rule.bot_config,
            )
        return replace(_by_preferences(meeting, preferences, account_email), no_rule_matched=True)
    return _by_preferences(meeting, preferences, account_email)


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

"""Auto-join rules through the APIs: create, change and delete a rule, and the dry run.

The API surfaces (server API, the Recall V1 token extension, Aitronos's meeting-buddy) are thin
adapters over these functions; the rules themselves live in meetings/rules.py and
meetings.models.AutoJoinRule (validation), their place in the decision in meetings/decisions.py.

A change re-decides every meeting it may change, through the reconciliation every other
decision change uses (bots/reconcile.py: bots created in bulk, `bot.*` webhooks):
- a calendar user's rule: the user's upcoming meetings are reconciled in the change's own
  transaction, as a preference change is (calendar_user_update): the rule and the decisions
  commit together or not at all. Marking them `needs_reconcile` first would rewrite each
  meeting row (and every index of the table) twice more: a quarter of the time for 10,000
  meetings (bench/bench_rules.py);
- a project default, which may reach every calendar of the project: its change and a
  `needs_reconcile` mark on those meetings (one UPDATE) commit together, then the marked
  meetings are drained calendar by calendar in batches (reconcile_pending, failures isolated
  per calendar); what a failure leaves marked, the periodic drain finishes within a minute.

Refusals are RuleError (a DomainError, 400): the code of the first field error
(`invalid_timezone`, `window_end_before_start`, `unknown_weekday`, `regex_too_expensive`, ...,
from AutoJoinRule.clean) with every field's messages in `errors`; `unknown_field` for a field
that is not a rule's; `too_many_rules` past MAX_RULES rules per calendar user (or per project
for its defaults).
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bots.reconcile import (
    CALENDAR_NOT_LOADED,
    MEETING_FIELDS,
    RULE_MEETING_FIELDS,
    decide_meeting,
    load_meetings,
    reconcile_pending,
    redecide,
    rule_sets,
)
from config.errors import DomainError
from meetings.bot_schedules import attach_schedules
from meetings.models import AutoJoinRule, Meeting
from meetings.rules import compile_rule_set
from projects.models import Project

from .models import Calendar, CalendarUser

MAX_RULES = 100

# What a client sets on a rule (the owner, `project` and `calendar_user`, is set on create).
EDITABLE_FIELDS = (
    "name",
    "is_enabled",
    "priority",
    "action",
    "bot_name",
    "bot_config",
    "calendar_provider",
    "match_mode",
    "keywords",
    "whole_word",
    "exclude_patterns",
    "organizer_emails",
    "attendee_emails",
    "min_attendees",
    "max_attendees",
    "audience",
    "recurring",
    "meeting_platforms",
    "days_of_week",
    "time_window_start",
    "time_window_end",
    "timezone",
)


class RuleError(DomainError):
    """An auto-join rule refused (see the module's docstring for the codes)."""


def _refusal(exc: ValidationError) -> RuleError:
    errors = exc.error_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.error_list}
    name, first = next(iter(errors.items()))
    code = first[0].code or "invalid"
    message = f"{name}: {first[0].messages[0]}"
    return RuleError(
        code, message, errors={k: ValidationError(v).messages for k, v in errors.items()}
    )


def _apply(rule: AutoJoinRule, data: dict) -> AutoJoinRule:
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    if unknown:
        raise RuleError(
            "unknown_field",
            f"Not a field of a rule: {', '.join(unknown)}.",
            errors={name: ["Not a field of a rule."] for name in unknown},
        )
    for name, value in data.items():
        setattr(rule, name, value)
    try:
        rule.full_clean()
    except ValidationError as exc:
        raise _refusal(exc) from None
    return rule


def rule_build(
    *,
    project: Project,
    calendar_user: CalendarUser | None = None,
    data: dict,
    rule: AutoJoinRule | None = None,
) -> AutoJoinRule:
    """A validated rule that is not saved: a new one (`data` over the defaults) or `rule` with
    `data` applied - what create and update save, and what a dry run of a proposed rule runs."""
    if rule is None:
        rule = AutoJoinRule(project=project, calendar_user=calendar_user)
    else:
        rule = AutoJoinRule.objects.get(pk=rule.pk)  # a copy: the caller's object stays as it is
    return _apply(rule, data)


def _owner_lock(project: Project, calendar_user: CalendarUser | None) -> None:
    """Lock the rules' owner (the calendar user, or the project for its defaults): counts and
    concurrent changes of one owner's rules go one at a time. The calendar user's row comes
    before its calendars, as in calendar_user_update. FOR NO KEY UPDATE, the lock an UPDATE of
    the row takes: rows that refer to it (meetings, bots) can still be inserted meanwhile."""
    if calendar_user is not None:
        CalendarUser.objects.select_for_update(no_key=True).filter(pk=calendar_user.pk).first()
    else:
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()


def _redecide(rule: AutoJoinRule, now: datetime) -> bool:
    """In the change's transaction: a calendar user's upcoming meetings are reconciled at once;
    a project default's are marked (True: drain them after commit, `_drain`)."""
    if rule.calendar_user_id is not None:
        calendars = Calendar.objects.filter(calendar_user_id=rule.calendar_user_id)
        redecide(calendar_ids=calendars.values_list("pk", flat=True), rule_ids=[rule.pk], now=now)
        return False
    rule.mark_upcoming(now)
    return True


def _drain(rule: AutoJoinRule) -> None:
    """After commit: reconcile what a project default's change marked, calendar by calendar."""
    calendars = Calendar.objects.filter(project_id=rule.project_id, calendar_user__isnull=False)
    calendar_ids = sorted(calendars.values_list("pk", flat=True), key=str)
    if calendar_ids:
        reconcile_pending(calendar_ids=calendar_ids)


def _save(rule: AutoJoinRule) -> AutoJoinRule:
    now = timezone.now()
    with transaction.atomic():
        _owner_lock(rule.project, rule.calendar_user)
        if rule._state.adding:
            owned = AutoJoinRule.objects.filter(
                project_id=rule.project_id, calendar_user_id=rule.calendar_user_id
            )
            if owned.count() >= MAX_RULES:
                raise RuleError("too_many_rules", f"At most {MAX_RULES} rules per owner.")
        rule.save()
        marked = _redecide(rule, now)
    if marked:
        _drain(rule)
    return rule


def rule_create(
    *, project: Project, calendar_user: CalendarUser | None = None, data: dict
) -> AutoJoinRule:
    """A new rule of `calendar_user` (None: a project default), from `data` (EDITABLE_FIELDS;
    the rest take the model's defaults). Re-decides the affected upcoming meetings."""
    if calendar_user is not None and calendar_user.project_id != project.pk:
        raise RuleError("wrong_project", "The calendar user belongs to another project.")
    return _save(rule_build(project=project, calendar_user=calendar_user, data=data))


def rule_update(*, rule: AutoJoinRule, data: dict) -> AutoJoinRule:
    """Change the fields given in `data` (a partial update); the owner stays. Re-decides the
    affected upcoming meetings."""
    updated = rule_build(project=rule.project, data=data, rule=rule)
    return _save(updated)


def rule_delete(*, rule: AutoJoinRule) -> None:
    """Delete the rule and re-decide the meetings it may have decided."""
    now = timezone.now()
    with transaction.atomic():
        _owner_lock(rule.project, rule.calendar_user)
        AutoJoinRule.objects.filter(pk=rule.pk).delete()
        marked = _redecide(rule, now)
    if marked:
        _drain(rule)


# --- Dry run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionChange:
    """One upcoming meeting whose decision a rule set would change: before (as stored now) and
    after."""

    meeting_id: str
    title: str
    start_time: datetime
    will_record_before: bool
    reason_before: str
    will_record_after: bool
    reason_after: str
    rule_id: str | None  # the rule that would decide, if one would


def proposed_rules(
    *,
    calendar_user: CalendarUser,
    upsert: AutoJoinRule | None = None,
    remove: AutoJoinRule | None = None,
) -> list[AutoJoinRule]:
    """The calendar user's saved rules with one change: `upsert` (a rule_build result: a new
    rule, or a saved one changed) replaces its saved version or joins them; `remove` leaves.
    Pass the result as `rules` to `rules_dry_run`."""
    rules = [
        rule
        for rule in AutoJoinRule.objects.filter(calendar_user=calendar_user)
        if rule.pk not in {getattr(upsert, "pk", None), getattr(remove, "pk", None)}
    ]
    return [*rules, upsert] if upsert is not None else rules


def rules_dry_run(
    *,
    calendar_user: CalendarUser,
    rules: list[AutoJoinRule] | None = None,
    default_rules: list[AutoJoinRule] | None = None,
    now: datetime | None = None,
) -> list[DecisionChange]:
    """The calendar user's upcoming meetings whose decision would change, in start order, if
    `rules` (AutoJoinRule objects, saved or not; None: the saved ones) were the user's own
    rules and `default_rules` (None: the saved ones) the project's defaults. "Before" is the
    decision stored now, so applying the same rules through the services changes exactly
    these meetings. Reads only: nothing is written."""
    now = now or timezone.now()
    calendars = {
        calendar.pk: calendar
        for calendar in Calendar.objects.filter(calendar_user=calendar_user)
        .select_related("project", "calendar_user")
        .defer(*CALENDAR_NOT_LOADED)
    }
    sets = rule_sets(calendars.values()) if calendars else {}
    if rules is not None or default_rules is not None:
        if rules is None:
            rules = list(AutoJoinRule.objects.filter(calendar_user=calendar_user))
        if default_rules is None:
            default_rules = list(
                AutoJoinRule.objects.filter(
                    project_id=calendar_user.project_id, calendar_user__isnull=True
                )
            )
        sets = {calendar_user.pk: compile_rule_set(rules) + compile_rule_set(default_rules)}
    meetings = load_meetings(
        Meeting.objects.upcoming(now)
        .filter(calendar_id__in=list(calendars))
        .order_by("start_time", "pk"),
        calendars,
        MEETING_FIELDS + RULE_MEETING_FIELDS,
    )
    changes = []
    for meeting in attach_schedules(meetings):
        after = decide_meeting(meeting, now, sets)
        if (meeting.will_record, meeting.will_record_reason) != (after.will_record, after.reason):
            changes.append(
                DecisionChange(
                    meeting_id=str(meeting.pk),
                    title=meeting.title,
                    start_time=meeting.start_time,
                    will_record_before=meeting.will_record,
                    reason_before=meeting.will_record_reason,
                    will_record_after=after.will_record,
                    reason_after=after.reason,
                    rule_id=after.rule_id,
                )
            )
    return changes

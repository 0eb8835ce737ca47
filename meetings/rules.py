"""Auto-join rules: which of a calendar user's meetings a rule records or skips (issue 16).

Pure Python, no database: `compile_rule_set` turns saved (or proposed) `AutoJoinRule` rows into
plain objects once (lowercased sets, compiled patterns, time zones), and `match` then runs over
any number of meetings. The model (meetings.models.AutoJoinRule) validates a rule with the
checks below, so the admin and every API refuse the same inputs.

Which rule decides
- Only enabled rules take part. The calendar user's own rules come first; the project's default
  rules (`calendar_user` null) apply only when none of the user's own rules matches: a rule the
  user wrote is never overruled by a default someone else numbered higher.
- Within each set the highest `priority` wins; equal priorities go to the older rule
  (`created_at`), then to the smaller id (as text). A proposed rule not saved yet counts as the
  newest. The winner's `action` (join or skip) decides; there is no merging of several rules.

What a rule matches (every condition that is set must hold; an empty list or null is "any")
- `match_mode` (Aitronos's names) says which of the two content conditions apply:
  `all`: neither (every meeting passes them); `keyword`: `keywords` (required);
  `organizer`: `organizer_emails` (required); `custom`: both, each when set. A list the mode does
  not use is kept but ignored, so switching the mode back restores it.
- `keywords`: any of them occurs in the title or description, case-insensitively (Unicode case
  folding); with `whole_word`, only where neither neighbour is a letter, digit or underscore.
- `exclude_patterns`: the meeting is excluded when any pattern is found in the title or
  description. Patterns are case-insensitive regular expressions (escape `( ) . [ ? * +` for
  the literal characters) run by RE2 (google-re2), whose search time is linear in the text
  whatever the pattern (see `check_pattern`): backreferences and look-arounds, which need a
  backtracking engine, are refused, and so is a pattern that matches every text.
- `organizer_emails` / `attendee_emails`: an address matches itself; `@acme.com` matches every
  address of acme.com and of its subdomains (eu.acme.com). Attendees: any one matching is
  enough.
- `min_attendees` / `max_attendees`: the number of attendees as synced (the organiser counts
  when the event lists other attendees; rooms never do).
- `audience`: `internal` / `external` as Meeting.is_external; `recurring`: true/false as
  Meeting.is_recurring; `meeting_platforms`: Meeting.meeting_platform (meetings.links ids);
  `calendar_provider`: the provider of the calendar the meeting came from.
- `days_of_week` (0 = Monday) and `time_window_start`/`time_window_end` read the meeting's start
  in the rule's IANA `timezone`, so a 09:00-18:00 window follows daylight-saving changes. The
  window includes its start and excludes its end (a meeting at 18:00 is outside 09:00-18:00).

Texts: the title and the first DESCRIPTION_CHARS characters of the description.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import re2
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from .links import PLATFORMS

JOIN, SKIP = "join", "skip"
MATCH_MODES = ("all", "keyword", "organizer", "custom")
AUDIENCES = ("any", "internal", "external")
# The calendar providers a rule may name (calendars.platforms.Platform, which sits above us).
CALENDAR_PROVIDERS = ("google", "microsoft")
MEETING_PLATFORMS = PLATFORMS

MAX_ITEMS = 50  # keywords, organizer and attendee addresses
MAX_PATTERNS = 20
MAX_KEYWORD_CHARS = 100
MAX_PATTERN_CHARS = 200
# RE2's memory budget for one compiled pattern: a pattern whose program needs more is refused.
PATTERN_MAX_MEM = 256 * 1024
MAX_ATTENDEES = 10_000
MAX_PRIORITY = 1_000_000
DESCRIPTION_CHARS = 10_000

_NEWEST = datetime.max.replace(tzinfo=UTC)


# --- checks the model's clean() uses ------------------------------------------------------------


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name) -> ZoneInfo:
    """An IANA zone name known to the system's database ("Europe/Berlin", "UTC")."""
    if not isinstance(name, str) or name not in _zone_names():
        raise ValidationError(
            "Unknown time zone; use an IANA name such as Europe/Berlin.", code="invalid_timezone"
        )
    return ZoneInfo(name)


_DOMAIN = re.compile(r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z")
_email = EmailValidator()


def normalize_address(value) -> str:
    """An e-mail address or `@domain`, lowercased; raises ValidationError otherwise."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if text.startswith("@") and _DOMAIN.match(text[1:]):
        return text
    if "@" in text[1:]:
        try:
            _email(text)
        except ValidationError:
            pass
        else:
            return text
    raise ValidationError(
        f"{str(value)[:100]!r} is not an e-mail address or @domain.", code="invalid_address"
    )


def _pattern_options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # a refused pattern is a field error, not a log line
    options.max_mem = PATTERN_MAX_MEM
    return options


_PATTERN_OPTIONS = _pattern_options()


def check_pattern(pattern) -> re2._Regexp:
    """An exclude pattern as the engine runs it: RE2 (google-re2), which searches in time
    linear in the text whatever the pattern, so no pattern can stall a sync. Raises
    ValidationError `invalid_regex` (not a regular expression, or one that matches every text)
    or `regex_too_expensive` (too long, too big a program, or a construct only a backtracking
    engine runs: backreferences, look-arounds)."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise ValidationError("Each pattern must be a non-empty string.", code="invalid_regex")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValidationError(
            f"Pattern too expensive to run: longer than {MAX_PATTERN_CHARS} characters.",
            code="regex_too_expensive",
        )
    try:
        # Python's parser judges the syntax (its messages are the clearer ones); compiling
        # never runs the pattern, so it cannot be slow. Its FutureWarnings ("possible nested
        # set") concern Python's own future syntax, not RE2's, which is what runs the pattern.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise ValidationError(
            f"Not a valid regular expression: {exc}.", code="invalid_regex"
        ) from None
    try:
        compiled = re2.compile(pattern, options=_PATTERN_OPTIONS)
    except re2.error as exc:
        why = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValidationError(
            f"Pattern too expensive to run ({why}): backreferences and look-arounds are not "
            "supported, and repeats may not multiply beyond 1,000.",
            code="regex_too_expensive",
        ) from None
    if compiled.search("") is not None:
        raise ValidationError("The pattern matches every meeting.", code="invalid_regex")
    return compiled


# --- compiled rules ------------------------------------------------------------------------------


class _Facts:
    """What the rules read of one meeting, each computed on first use and shared by the rules."""

    __slots__ = ("_attendees", "_folded", "_local", "_text", "meeting", "provider")

    def __init__(self, meeting, provider):
        self.meeting = meeting
        self.provider = provider
        self._text = self._folded = self._attendees = None
        self._local = {}

    @property
    def text(self) -> str:
        if self._text is None:
            m = self.meeting
            self._text = f"{m.title or ''}\n{(m.description or '')[:DESCRIPTION_CHARS]}"
        return self._text

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = self.text.casefold()
        return self._folded

    @property
    def attendee_emails(self) -> list[str]:
        if self._attendees is None:
            self._attendees = [
                (a.get("email") or "").lower()
                for a in self.meeting.attendees or []
                if isinstance(a, dict)
            ]
        return self._attendees

    def local_start(self, zone: ZoneInfo) -> datetime:
        local = self._local.get(zone)
        if local is None:
            local = self._local[zone] = self.meeting.start_time.astimezone(zone)
        return local


def _address_matcher(addresses):
    exact = frozenset(a for a in addresses if not a.startswith("@"))
    domains = tuple(a[1:] for a in addresses if a.startswith("@"))
    suffixes = tuple("." + d for d in domains)

    def matches(email: str) -> bool:
        if email in exact:
            return True
        domain = email.rpartition("@")[2]
        return bool(domain) and (domain in domains or domain.endswith(suffixes))

    return matches


@dataclass(frozen=True, eq=False)
class CompiledRule:
    """One enabled rule, ready to run: its identity, what it does and its checks."""

    id: str
    name: str
    action: str
    bot_name: str
    bot_config: dict
    is_default: bool
    priority: int
    created_at: datetime
    checks: tuple = field(repr=False)

    @property
    def will_record(self) -> bool:
        return self.action == JOIN

    @property
    def order(self) -> tuple:
        return (self.is_default, -self.priority, self.created_at, self.id)

    def matches(self, facts: _Facts) -> bool:
        for check in self.checks:  # noqa: SIM110 - no generator per rule and meeting
            if not check(facts):
                return False
        return True


# The winning rule of `match`.
Match = CompiledRule


def _checks(rule) -> tuple:
    """The rule's conditions as functions of _Facts, cheapest first; unset ones are left out."""
    checks = []
    provider = rule.calendar_provider or None
    if provider:
        checks.append(lambda f: f.provider == provider)
    if rule.recurring is not None:
        recurring = bool(rule.recurring)
        checks.append(lambda f: bool(f.meeting.is_recurring) is recurring)
    if rule.audience in ("internal", "external"):
        external = rule.audience == "external"
        checks.append(lambda f: bool(f.meeting.is_external) is external)
    if rule.meeting_platforms:
        platforms = frozenset(rule.meeting_platforms)
        checks.append(lambda f: f.meeting.meeting_platform in platforms)
    low, high = rule.min_attendees or 0, rule.max_attendees
    if high is not None:
        checks.append(lambda f: low <= len(f.meeting.attendees or ()) <= high)
    elif low:
        checks.append(lambda f: len(f.meeting.attendees or ()) >= low)
    zone = ZoneInfo(rule.timezone or "UTC")
    if rule.days_of_week and len(set(rule.days_of_week)) < 7:
        days = frozenset(rule.days_of_week)
        checks.append(lambda f: f.local_start(zone).weekday() in days)
    if rule.time_window_start is not None and rule.time_window_end is not None:
        start, end = rule.time_window_start, rule.time_window_end
        checks.append(lambda f: start <= f.local_start(zone).time() < end)
    mode = rule.match_mode or "all"
    if mode in ("organizer", "custom") and rule.organizer_emails:
        organizer = _address_matcher(rule.organizer_emails)
        checks.append(lambda f: organizer((f.meeting.organizer_email or "").lower()))
    if rule.attendee_emails:
        attendee = _address_matcher(rule.attendee_emails)
        checks.append(lambda f: any(attendee(email) for email in f.attendee_emails))
    if mode in ("keyword", "custom") and rule.keywords:
        words = tuple(k.casefold() for k in rule.keywords)
        if rule.whole_word:
            found = re.compile(
                r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)"
            ).search
            checks.append(lambda f: found(f.folded) is not None)
        else:
            checks.append(lambda f: any(w in f.folded for w in words))
    if rule.exclude_patterns:
        patterns = tuple(check_pattern(p) for p in rule.exclude_patterns)
        checks.append(lambda f: not any(p.search(f.text) for p in patterns))
    return tuple(checks)


def compile_rule(rule) -> CompiledRule:
    """One rule (an AutoJoinRule, saved or not, already validated) as the engine runs it."""
    return CompiledRule(
        id=str(rule.pk),
        name=rule.name,
        action=rule.action,
        bot_name=rule.bot_name or "",
        bot_config=dict(rule.bot_config or {}),
        is_default=rule.calendar_user_id is None,
        priority=rule.priority,
        created_at=rule.created_at or _NEWEST,
        checks=_checks(rule),
    )


class RuleSet:
    """A calendar user's enabled rules with the project's defaults, in the order they are tried
    (the first that matches wins). Empty (falsy) when there are none: decisions are then
    exactly the preferences'."""

    __slots__ = ("rules",)

    def __init__(self, rules=()):
        self.rules = tuple(sorted(rules, key=lambda r: r.order))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __add__(self, other: RuleSet) -> RuleSet:
        return RuleSet((*self.rules, *other.rules))

    def match(self, meeting, provider: str | None = None) -> Match | None:
        return match(meeting, self, provider)


EMPTY = RuleSet()


def compile_rule_set(rules) -> RuleSet:
    """Compile rules (AutoJoinRule instances: a user's and/or the project's defaults); the
    disabled ones are left out."""
    return RuleSet(compile_rule(rule) for rule in rules if rule.is_enabled)


def match(meeting, rule_set: RuleSet | None, provider: str | None = None) -> Match | None:
    """The rule that decides this meeting (see the module's docstring), or None. `meeting` is
    anything with the Meeting attributes the rules read; `provider` is its calendar's."""
    if not rule_set:
        return None
    facts = _Facts(meeting, provider)
    for rule in rule_set.rules:
        if rule.matches(facts):
            return rule
    return None

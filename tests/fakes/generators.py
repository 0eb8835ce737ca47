"""Seeded generators of realistic calendars for the fakes.

    specs = generate_calendar(seed=7, n=500, owner=Person("dana@acme.test", "Dana Lee"),
                              window_start=..., window_end=..., provider="google")
    populate(fake_google, "dana@acme.test", seed=7, n=500, window_start=..., window_end=...)

The same seed, arguments and provider always give the same events (ids included). `n` counts
event *specs*: each recurring series is one spec but expands into many instances (use
`series_ratio=0` for exactly `n` listed items).
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import string
from dataclasses import dataclass, field
from typing import Any

from .base import UTC
from .calendar_model import (
    WEEKDAYS,
    Attendee,
    Conference,
    EventSpec,
    Person,
    Recurrence,
    zone,
)

TITLES = (
    "Weekly sync",
    "Design review",
    "Sprint planning",
    "Customer call: {company}",
    "Interview: Backend engineer",
    "1:1 {first} / {other}",
    "Quarterly planning",
    "Vendor demo",
    "Board prep",
    "Incident review",
    "Pipeline review",
    "Onboarding: {other}",
    "Lunch & learn",
    "Roadmap check-in",
    "Security training",
    "Focus time",
    "Renewal discussion with {company}",
)
ALL_DAY_TITLES = ("Offsite", "Out of office", "Conference: DevDays", "Company holiday", "Travel")
FIRST_NAMES = (
    "Lee",
    "Priya",
    "Sam",
    "Noor",
    "Mateo",
    "Aiko",
    "Chen",
    "Fatima",
    "Olu",
    "Ines",
    "Tomas",
    "Zara",
)
LAST_NAMES = ("Park", "Natarajan", "Ortiz", "Haddad", "Rossi", "Tanaka", "Wei", "Okafor", "Silva")
COMPANIES = ("Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Acme")
ROOMS = ("HQ-4-Atlas (8)", "HQ-2-Borealis (4)", "HQ-6-Cosmos (12)")
LINK_KINDS = ("meet", "zoom", "teams", "webex")
#: owner's own response to meetings organised by someone else
OWNER_RESPONSES = ("accepted",) * 6 + ("tentative", "declined", "needsAction", "needsAction")
GUEST_RESPONSES = ("accepted",) * 5 + ("tentative", "declined", "needsAction", "needsAction")


@dataclass(frozen=True)
class ExceptionSpec:
    """A change to one occurrence of a generated series (applied by `populate`)."""

    series_id: str
    original_start: dt.date | dt.datetime
    cancelled: bool = False
    changes: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class GeneratedCalendar:
    events: list[EventSpec]
    exceptions: list[ExceptionSpec]


class _Generator:
    def __init__(self, seed: int, provider: str, owner: Person, internal_domain: str, tz: str):
        self.rng = random.Random(f"{seed}:{provider}")
        self.provider = provider
        self.owner = owner
        self.internal_domain = internal_domain
        self.tz = tz

    # people --------------------------------------------------------------------------------

    def person(self, external: bool) -> Person:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        domain = (
            f"{self.rng.choice(COMPANIES).lower()}.example" if external else self.internal_domain
        )
        return Person(f"{first.lower()}.{last.lower()}@{domain}", f"{first} {last}")

    def attendees(self, organizer: Person) -> tuple[Attendee, ...]:
        rng = self.rng
        people = {organizer.email: organizer}
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4, 6, 9))):
            person = self.person(external=rng.random() < 0.3)
            people.setdefault(person.email, person)
        people.setdefault(self.owner.email, self.owner)
        result = []
        for email, person in people.items():
            if email == organizer.email:
                response = "accepted"
            elif email == self.owner.email:
                response = rng.choice(OWNER_RESPONSES)
            else:
                response = rng.choice(GUEST_RESPONSES)
            result.append(
                Attendee(
                    email,
                    person.name,
                    response,
                    optional=email != organizer.email and rng.random() < 0.1,
                )
            )
        if rng.random() < 0.15:
            room = rng.choice(ROOMS)
            slug = "".join(rng.choices("0123456789abcdef", k=32))
            result.append(
                Attendee(f"c_{slug}@resource.calendar.google.com", room, "accepted", resource=True)
            )
        return tuple(result)

    # links ---------------------------------------------------------------------------------

    def link(self, kind: str) -> tuple[str, str, str]:
        """(join URL, meeting code, passcode) for a conferencing kind."""
        rng = self.rng
        digits = "".join(rng.choices(string.digits, k=11))
        if kind == "meet":
            code = "-".join("".join(rng.choices(string.ascii_lowercase, k=n)) for n in (3, 4, 3))
            return f"https://meet.google.com/{code}", code, ""
        if kind == "zoom":
            password = "".join(rng.choices(string.ascii_letters + string.digits, k=32))
            host = rng.choice(("us02web.zoom.us", "us06web.zoom.us", "acme.zoom.us"))
            return f"https://{host}/j/{digits}?pwd={password}.1", digits, password[:6]
        if kind == "teams":
            thread = "".join(rng.choices(string.ascii_letters + string.digits, k=44))
            context = (
                "%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22"
                f"{digits}%22%7d"
            )
            return (
                f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0"
                f"?context={context}",
                digits,
                "",
            )
        site = rng.choice(("acme", "globex", "initech"))
        mtid = "m" + "".join(rng.choices("0123456789abcdef", k=32))
        return f"https://{site}.webex.com/{site}/j.php?MTID={mtid}", digits[:10], ""

    def conferencing(self, kind: str | None) -> dict[str, Any]:
        """Fields carrying the join link where each provider's users really put it."""
        if kind is None:
            return {}
        rng = self.rng
        url, code, passcode = self.link(kind)
        text_invite = {
            "zoom": f'Join Zoom Meeting<br><a href="{url}">{url}</a><br><br>Meeting ID: {code}'
            f"<br>Passcode: {passcode}",
            "teams": "________________________________________________________________________________"
            f"<br>Microsoft Teams meeting<br>Join on your computer, mobile app or room device<br>"
            f'<a href="{url}">Click here to join the meeting</a>',
            "webex": f'Join Webex meeting<br><a href="{url}">{url}</a><br>Meeting number: {code}',
            "meet": f"Join with Google Meet: {url}",
        }[kind]
        structured = Conference(kind, url, code, passcode)
        if self.provider == "google":
            if kind == "meet":
                return {"conference": structured}
            if kind == "teams":
                return {"description": text_invite, "location": "Microsoft Teams Meeting"}
            placement = rng.random()
            if placement < 0.35:
                return {"description": text_invite, "location": url}
            if placement < 0.6 and kind == "zoom":
                return {"description": text_invite, "conference": structured}
            if placement < 0.8:
                return {"location": url}
            return {"description": text_invite}
        if kind == "teams":
            return {"conference": structured}
        if rng.random() < 0.3:
            return {"description": text_invite, "location": url}
        return {"description": text_invite}

    # events --------------------------------------------------------------------------------

    def event_id(self) -> str:
        if self.provider == "google":
            return "".join(self.rng.choices("0123456789abcdefghijklmnopqrstuv", k=26))
        raw = self.rng.randbytes(67)
        return "AAMkAG" + base64.urlsafe_b64encode(raw).decode()

    def common(self, window_start: dt.datetime) -> dict[str, Any]:
        rng = self.rng
        roll = rng.random()
        organizer = self.owner if roll < 0.4 else self.person(external=roll > 0.75)
        created = window_start - dt.timedelta(
            days=rng.randint(1, 60), seconds=rng.randint(0, 86399)
        )
        visibility = rng.choices(("default", "private", "public", "confidential"), (85, 10, 3, 2))[
            0
        ]
        fields: dict[str, Any] = {
            "organizer": None if organizer == self.owner else organizer,
            "attendees": self.attendees(organizer) if rng.random() < 0.85 else (),
            "visibility": visibility,
            "created": created,
            "show_as": rng.choices(("busy", "tentative", "free"), (88, 7, 5))[0],
            "time_zone": self.tz,
        }
        if self.provider == "microsoft" and visibility == "private" and rng.random() < 0.3:
            fields["sensitivity"] = "personal"
        return fields

    def title(self) -> str:
        other = self.rng.choice(FIRST_NAMES)
        return self.rng.choice(TITLES).format(
            company=self.rng.choice(COMPANIES),
            first=self.owner.name.split()[0] if self.owner.name else "Me",
            other=other,
        )

    def link_kind(self, no_link_ratio: float) -> str | None:
        if self.rng.random() < no_link_ratio:
            return None
        weights = (30, 35, 20, 15) if self.provider == "google" else (8, 27, 55, 10)
        return self.rng.choices(LINK_KINDS, weights)[0]

    def timed_slot(self, start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        rng = self.rng
        days = max(1, (end - start).days)
        tz = zone(self.tz)
        day = (start.astimezone(tz) + dt.timedelta(days=rng.randrange(days))).date()
        local = dt.datetime.combine(
            day, dt.time(rng.randint(8, 17), rng.choice((0, 0, 15, 30, 30, 45))), tz
        )
        if local < start:  # the window starts mid-day in this zone
            local += dt.timedelta(days=1)
        if local >= end:
            local -= dt.timedelta(days=1)
        duration = dt.timedelta(minutes=rng.choice((15, 25, 30, 30, 30, 45, 60, 60, 90)))
        return local, local + duration


def generate_calendar(
    *,
    seed: int,
    n: int,
    owner: Person,
    window_start: dt.datetime,
    window_end: dt.datetime,
    provider: str = "google",
    internal_domain: str | None = None,
    time_zone: str = "America/New_York",
    series_ratio: float = 0.1,
    all_day_ratio: float = 0.06,
    no_link_ratio: float = 0.25,
) -> GeneratedCalendar:
    """`n` event specs between `window_start` and `window_end` for `owner`'s calendar.

    Mix: Meet/Zoom/Teams/Webex links placed as each provider's users really have them (Google:
    Meet in conferenceData, others in location/description, some Zoom add-on conferenceData;
    Graph: Teams in onlineMeeting, others in the body), link-less events, all-day events,
    weekly/daily/monthly series (some with a moved and/or a cancelled occurrence), internal and
    external attendees with mixed responses, owner as organizer or guest, and visibility /
    sensitivity values. Cancellations and later edits are the tests' job (control API).
    """
    if provider not in ("google", "microsoft"):
        raise ValueError("provider must be 'google' or 'microsoft'")
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise ValueError("window bounds must be timezone-aware")
    gen = _Generator(seed, provider, owner, internal_domain or owner.email.split("@")[1], time_zone)
    rng = gen.rng
    events: list[EventSpec] = []
    exceptions: list[ExceptionSpec] = []
    for _ in range(n):
        fields = gen.common(window_start)
        fields.update(gen.conferencing(gen.link_kind(no_link_ratio)))
        fields["id"] = gen.event_id()
        roll = rng.random()
        if roll < all_day_ratio:
            start, _ = gen.timed_slot(window_start, window_end)
            first_day = start.date()
            fields.update(
                summary=rng.choice(ALL_DAY_TITLES),
                start=first_day,
                end=first_day + dt.timedelta(days=rng.choice((1, 1, 1, 2, 3))),
                show_as="free" if rng.random() < 0.5 else "oof",
                attendees=(),
                organizer=None,
            )
            if provider == "google" and fields["show_as"] == "oof":
                fields["show_as"] = "free"
            fields.pop("conference", None)
        elif roll < all_day_ratio + series_ratio:
            start, end = gen.timed_slot(window_start, window_start + dt.timedelta(days=7))
            recurrence = _recurrence(rng, start, window_end)
            fields.update(summary=gen.title(), start=start, end=end, recurrence=recurrence)
            exceptions.extend(_exceptions(rng, fields["id"], start, end, recurrence, time_zone))
        else:
            start, end = gen.timed_slot(window_start, window_end)
            fields.update(summary=gen.title(), start=start, end=end)
        events.append(EventSpec(**fields))
    return GeneratedCalendar(events, exceptions)


def _recurrence(rng: random.Random, start: dt.datetime, window_end: dt.datetime) -> Recurrence:
    kind = rng.choice(("weekly", "weekly", "weekly", "weekdays", "biweekly", "monthly"))
    if kind == "weekdays":
        rule = {"freq": "WEEKLY", "by_day": ("MO", "TU", "WE", "TH", "FR")}
    elif kind == "biweekly":
        rule = {"freq": "WEEKLY", "interval": 2}
    elif kind == "monthly":
        rule = {"freq": "MONTHLY"}
    else:  # one or two weekdays, always including the first occurrence's day
        own = WEEKDAYS[start.weekday()]
        extra = rng.sample(WEEKDAYS[:5], rng.choice((0, 0, 1)))
        rule = {"freq": "WEEKLY", "by_day": tuple(d for d in WEEKDAYS if d in {own, *extra})}
    ending = rng.random()
    if ending < 0.4:
        rule["count"] = rng.randint(3, 20)
    elif ending < 0.7:
        rule["until"] = window_end.astimezone(UTC).replace(microsecond=0)
    return Recurrence(**rule)


def _exceptions(rng, series_id, start, end, recurrence, tz) -> list[ExceptionSpec]:
    local_first = start.astimezone(zone(tz)).replace(tzinfo=None)
    occurrences = []
    for local in recurrence.starts(local_first, tz, local_first + dt.timedelta(days=120)):
        occurrences.append(local.replace(tzinfo=zone(tz)))
        if len(occurrences) >= 6:
            break
    result = []
    if len(occurrences) >= 3 and rng.random() < 0.35:
        original = occurrences[1]
        shift = dt.timedelta(hours=rng.choice((1, 2, -1, 24)))
        result.append(
            ExceptionSpec(
                series_id,
                original,
                changes={"start": original + shift, "end": original + shift + (end - start)},
            )
        )
    if len(occurrences) >= 4 and rng.random() < 0.35:
        result.append(ExceptionSpec(series_id, occurrences[2], cancelled=True))
    return result


def populate(
    fake: Any,
    email: str,
    *,
    seed: int,
    n: int,
    window_start: dt.datetime | None = None,
    window_end: dt.datetime | None = None,
    calendar_id: str | None = None,
    **options: Any,
) -> GeneratedCalendar:
    """Generate a calendar for `email` (the account must exist) and load it into `fake`.

    The window defaults to [today - 7 days, today + 28 days) by the fake's clock, so pass it
    explicitly when results must not depend on the date. Exceptions are applied through the
    control API, so active channels/subscriptions are notified of those.
    """
    from .google import FakeGoogle

    provider = "google" if isinstance(fake, FakeGoogle) else "microsoft"
    today = fake.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    window_start = window_start or today - dt.timedelta(days=7)
    window_end = window_end or today + dt.timedelta(days=28)
    account = fake.accounts[email]
    generated = generate_calendar(
        seed=seed,
        n=n,
        owner=Person(email, account.name),
        window_start=window_start,
        window_end=window_end,
        provider=provider,
        **options,
    )
    fake.add_events(email, generated.events, calendar_id=calendar_id)
    for exception in generated.exceptions:
        if exception.cancelled:
            fake.cancel_instance(exception.series_id, exception.original_start)
        else:
            fake.update_instance(exception.series_id, exception.original_start, **exception.changes)
    return generated


def add_meeting_soon(fake: Any, email: str, *, minutes_ahead: int = 4) -> str:
    """Add an external meeting with a Meet link that starts `minutes_ahead` minutes from now (by
    the fake's clock, rounded up to the minute) and lasts 30 minutes; return its id.

    For `./dev up --demo`: with the project's default join lead (2 minutes) its bot goes from
    scheduled to dispatched within the first minutes, where the newcomer can watch it.
    """
    now = fake.now().astimezone(UTC)
    start = (now + dt.timedelta(minutes=minutes_ahead, seconds=59)).replace(second=0, microsecond=0)
    account = fake.accounts[email]
    owner = Person(email, account.name)
    guest = Person("sam.ortiz@globex.example", "Sam Ortiz")
    return fake.add_event(
        email,
        summary="Demo: customer call with Globex (a bot joins this one)",
        start=start,
        end=start + dt.timedelta(minutes=30),
        description="Made by ./dev up --demo a few minutes ahead, so its bot is dispatched soon.",
        organizer=owner,
        attendees=(
            Attendee(owner.email, owner.name, "accepted"),
            Attendee(guest.email, guest.name, "accepted"),
        ),
        conference=Conference("meet", "https://meet.google.com/dem-oqui-cks", "dem-oqui-cks"),
    )

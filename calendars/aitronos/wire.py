"""Aitronos's names for our things, each mapping written once: calendar providers, meeting
platforms, and an event's `auto_join_status` (a query, so a list can filter on it in SQL)."""

from django.db.models import Case, OuterRef, QuerySet, Subquery, UUIDField, Value, When

from bots.models import Bot, BotStatus
from calendars.platforms import Platform
from meetings.models import Meeting

# --- calendar providers ------------------------------------------------------------------------

PROVIDERS = {"google_calendar": Platform.GOOGLE, "outlook_calendar": Platform.MICROSOFT}
PROVIDER_NAMES = {platform: name for name, platform in PROVIDERS.items()}
# Aitronos's other providers: accepted as filters (nothing matches), refused on connect.
UNSUPPORTED_PROVIDERS = ("zoom", "apple_calendar")
ALL_PROVIDERS = (*PROVIDERS, *UNSUPPORTED_PROVIDERS)


def provider_name(platform: str) -> str:
    """Aitronos's name of a calendar provider (a provider it does not know keeps ours)."""
    return PROVIDER_NAMES.get(platform, platform)


# --- meeting platforms (meetings/links/platforms.py ids) ---------------------------------------

# Where Aitronos's name differs from ours; the other platforms keep our id.
MEETING_PLATFORM_NAMES = {"microsoft_teams": "teams"}
MEETING_PLATFORMS = {name: ours for ours, name in MEETING_PLATFORM_NAMES.items()}


def meeting_platform_name(platform: str | None) -> str | None:
    return MEETING_PLATFORM_NAMES.get(platform, platform) if platform else None


def meeting_platform_id(name: str) -> str:
    return MEETING_PLATFORMS.get(name, name)


# --- auto_join_status ---------------------------------------------------------------------------

# A meeting's bots, best first: one that joined the call (or finished), one on its way
# (scheduled, dispatched, joining, in the waiting room), one that failed. Cancelled bots are
# history (the meeting was re-decided or moved) and never count.
JOINED = (
    BotStatus.IN_CALL_NOT_RECORDING,
    BotStatus.RECORDING_PERMISSION_ALLOWED,
    BotStatus.RECORDING_PERMISSION_DENIED,
    BotStatus.IN_CALL_RECORDING,
    BotStatus.CALL_ENDED,
    BotStatus.DONE,
)
ON_ITS_WAY = (
    BotStatus.SCHEDULED,
    BotStatus.DISPATCHED,
    BotStatus.JOINING_CALL,
    BotStatus.IN_WAITING_ROOM,
)
FAILED = (BotStatus.FATAL,)
BOT_RANKS = {"joined": (1, JOINED), "scheduled": (2, ON_ITS_WAY), "failed": (3, FAILED)}

AUTO_JOIN_STATUSES = ("pending", "scheduled", "joined", "skipped", "failed")
AUTO_JOIN_STATUS_HELP = (
    "From the recording decision and the meeting's bot (its best bot counts: one that joined, "
    "else one on its way, else one that failed; cancelled bots never count): `joined` - the bot "
    "is in the call or has finished; `scheduled` - a bot is scheduled, dispatched, joining or "
    "in the waiting room; `failed` - the bot failed; otherwise `pending` - the meeting is to be "
    "recorded and has no bot yet; `skipped` - the meeting is not recorded."
)


def _best_bot():
    """The meeting's best bot (BOT_RANKS), as a subquery of the meetings queryset."""
    links = Bot.meetings.through.objects.filter(meeting_id=OuterRef("pk"))
    rank = Case(
        *(When(bot__status__in=statuses, then=Value(n)) for n, statuses in BOT_RANKS.values())
    )
    counted = [status for _, statuses in BOT_RANKS.values() for status in statuses]
    return (
        links.filter(bot__status__in=counted)
        .annotate(rank=rank)
        .order_by("rank", "-bot__created_at", "bot_id")
    )


def with_auto_join_status(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    """Annotates `auto_join_status` (AUTO_JOIN_STATUS_HELP) and `session_id` (the best bot's
    id, or None): two correlated subqueries, so a page costs one query and a filter on the
    status is SQL."""
    best = _best_bot()
    meetings = meetings.annotate(
        bot_rank=Subquery(best.values("rank")[:1]),
        # Typed, so every database hands back a UUID (SQLite stores it as bare hex).
        session_id=Subquery(best.values("bot_id")[:1], output_field=UUIDField()),
    )
    return meetings.annotate(
        auto_join_status=Case(
            *(When(bot_rank=n, then=Value(name)) for name, (n, _) in BOT_RANKS.items()),
            When(will_record=True, then=Value("pending")),
            default=Value("skipped"),
        )
    )

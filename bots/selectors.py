from datetime import datetime

from django.db.models import Prefetch, QuerySet

from meetings.models import Meeting

from .models import Bot

BotMeeting = Bot.meetings.through


def bot_queryset() -> QuerySet[Bot]:
    """Bots with their meetings and calendar users in one extra query, whatever the page."""
    meetings = Meeting.objects.select_related("calendar__calendar_user").order_by(
        "start_time", "id"
    )
    return Bot.objects.prefetch_related(Prefetch("meetings", queryset=meetings))


def event_queryset() -> QuerySet[Meeting]:
    """Meetings (the server API's events) with their bots (and the bots' meetings) in two
    extra queries per page."""
    return Meeting.objects.prefetch_related(
        Prefetch("bots", queryset=bot_queryset().order_by("join_at", "id"), to_attr="all_bots")
    )


def bot_filter(
    queryset: QuerySet[Bot],
    *,
    status: list[str] | None = None,
    join_at_after: datetime | None = None,
    join_at_before: datetime | None = None,
    calendar_user_external_id: str | None = None,
    meeting_id=None,
    deduplication_key: str | None = None,
) -> QuerySet[Bot]:
    if status:
        queryset = queryset.filter(status__in=status)
    if join_at_after is not None:
        queryset = queryset.filter(join_at__gte=join_at_after)
    if join_at_before is not None:
        queryset = queryset.filter(join_at__lt=join_at_before)
    if calendar_user_external_id is not None:
        links = BotMeeting.objects.filter(
            meeting__calendar__calendar_user__external_id=calendar_user_external_id
        )
        queryset = queryset.filter(pk__in=links.values("bot_id"))
    if meeting_id is not None:
        queryset = queryset.filter(
            pk__in=BotMeeting.objects.filter(meeting_id=meeting_id).values("bot_id")
        )
    if deduplication_key is not None:
        queryset = queryset.filter(deduplication_key=deduplication_key)
    return queryset

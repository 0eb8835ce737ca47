from django.db import transaction
from django.utils import timezone

from .models import TERMINAL_STATUSES, Bot

BotMeeting = Bot.meetings.through


@transaction.atomic
def bots_release_meetings(*, meeting_ids, reason: str) -> list[Bot]:
    """Detach bots from meetings that go away; a future bot left serving nobody is cancelled.

    Runs before the meetings are deleted (the link rows go with them).
    """
    links = BotMeeting.objects.filter(meeting_id__in=meeting_ids)
    bots = list(
        Bot.objects.select_for_update()
        .filter(pk__in=links.values("bot_id"))
        .exclude(status__in=TERMINAL_STATUSES)
    )
    links.filter(bot__in=bots).delete()
    still_serving = set(
        BotMeeting.objects.filter(bot__in=bots).values_list("bot_id", flat=True).distinct()
    )
    cancelled = []
    now = timezone.now()
    for bot in bots:
        if bot.pk in still_serving or bot.status != Bot.Status.SCHEDULED or bot.join_at <= now:
            continue
        bot.set_status(Bot.Status.CANCELLED, sub_code=reason, message="No meeting left.")
        bot.save(update_fields=["status", "status_changes", "updated_at"])
        cancelled.append(bot)
    return cancelled

"""Which explicit bot request (meetings.models.BotSchedule) applies to a meeting.

A schedule on the meeting itself wins; otherwise the schedule of its recurring series, if any.
Loading is two queries for any number of meetings.
"""

from django.db.models import Q

from .models import BotSchedule, Meeting


def attach_schedules(meetings: list[Meeting]) -> list[Meeting]:
    """Set `meeting.effective_schedule` (BotSchedule or None) on each meeting."""
    by_meeting = {
        s.meeting_id: s for s in BotSchedule.objects.filter(meeting__in=[m.pk for m in meetings])
    }
    series = {(m.calendar_id, m.series_id) for m in meetings if m.series_id}
    by_series = {}
    if series:
        condition = Q()
        for calendar_id, series_id in series:
            condition |= Q(calendar_id=calendar_id, series_id=series_id)
        by_series = {
            (s.calendar_id, s.series_id): s
            for s in BotSchedule.objects.filter(condition, meeting__isnull=True)
        }
    for meeting in meetings:
        meeting.effective_schedule = by_meeting.get(meeting.pk) or by_series.get(
            (meeting.calendar_id, meeting.series_id) if meeting.series_id else None
        )
    return meetings

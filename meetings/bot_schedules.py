"""Which explicit bot request (meetings.models.BotSchedule) applies to a meeting.

A schedule on the meeting itself wins; otherwise the schedule of its recurring series, if any.
Loading is one query for any number of meetings.
"""

from collections.abc import Iterable

from django.db.models import Q

from .models import BotSchedule, Meeting


def attach_schedules(meetings: list[Meeting]) -> list[Meeting]:
    """Set `meeting.effective_schedule` (BotSchedule or None) on each meeting."""
    found = effective_schedules((m.pk, m.calendar_id, m.series_id) for m in meetings)
    for meeting in meetings:
        meeting.effective_schedule = found.get(meeting.pk)
    return meetings


def effective_schedules(meetings: Iterable[tuple]) -> dict:
    """{meeting id: BotSchedule} for the meetings, given as (id, calendar id, series id), that
    have one; meetings without are left out. One query."""
    meetings = list(meetings)
    if not meetings:
        return {}
    wanted = Q(meeting__in=[pk for pk, _, _ in meetings])
    series = {(calendar_id, series_id) for _, calendar_id, series_id in meetings if series_id}
    if series:
        # Two IN lists, not one OR of pairs: a page of 100 meetings has dozens of series, and
        # building (and planning) that OR took longer than the rest of the page. The few
        # schedules of another pair that match both lists are dropped below.
        wanted |= Q(
            meeting__isnull=True,
            calendar_id__in={calendar_id for calendar_id, _ in series},
            series_id__in={series_id for _, series_id in series},
        )
    by_meeting, by_series = {}, {}
    for schedule in BotSchedule.objects.filter(wanted):
        if schedule.meeting_id is not None:
            by_meeting[schedule.meeting_id] = schedule
        elif (schedule.calendar_id, schedule.series_id) in series:
            by_series[(schedule.calendar_id, schedule.series_id)] = schedule
    found = {}
    for pk, calendar_id, series_id in meetings:
        schedule = by_meeting.get(pk) or by_series.get(
            (calendar_id, series_id) if series_id else None
        )
        if schedule is not None:
            found[pk] = schedule
    return found

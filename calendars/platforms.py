from django.db import models


class Platform(models.TextChoices):
    """The stored names of the registered calendar providers (calendars/providers/); a contract
    test keeps the two equal. Wire names follow Recall V1 and Attendee.

    "Platform" here (`Calendar.platform`, the `platform` of the APIs' calendars) is the calendar
    provider. The meeting tool a join link leads to (Zoom, Teams, ...) is a different thing:
    `Meeting.meeting_platform`, named in meetings/links/platforms.py."""

    GOOGLE = "google", "Google Calendar"
    MICROSOFT = "microsoft", "Microsoft Outlook"

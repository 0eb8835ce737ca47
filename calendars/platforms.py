from django.db import models


class Platform(models.TextChoices):
    """The stored names of the registered calendar providers (calendars/providers/); a contract
    test keeps the two equal. Wire names follow Recall V1 and Attendee."""

    GOOGLE = "google", "Google Calendar"
    MICROSOFT = "microsoft", "Microsoft Outlook"

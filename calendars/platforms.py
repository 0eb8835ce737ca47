from django.db import models


class Platform(models.TextChoices):
    """Calendar providers. Wire names follow Recall V1 and Attendee (`google`, `microsoft`)."""

    GOOGLE = "google", "Google Calendar"
    MICROSOFT = "microsoft", "Microsoft Outlook"

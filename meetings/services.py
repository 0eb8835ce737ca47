from django.db import transaction

from .models import Meeting


@transaction.atomic
def meeting_set_override(*, meeting: Meeting, value: bool | None) -> Meeting:
    """Set `override_should_record` (true: record, false: don't, null: preferences decide)."""
    from bots.reconcile import reconcile_meetings

    if meeting.override_should_record != value:
        meeting.override_should_record = value
        meeting.save(update_fields=["override_should_record", "updated_at"])
        reconcile_meetings(meeting_ids=[meeting.pk])
        meeting.refresh_from_db()
    return meeting

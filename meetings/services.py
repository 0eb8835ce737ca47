from .models import Meeting


def meeting_set_override(*, meeting: Meeting, value: bool | None) -> Meeting:
    """Set `override_should_record` (true: record, false: don't, null: preferences decide)."""
    if meeting.override_should_record != value:
        meeting.override_should_record = value
        meeting.save(update_fields=["override_should_record", "updated_at"])
    return meeting

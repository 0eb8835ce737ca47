from django.contrib import admin

from projects.admin_utils import BigTableAdmin

from .models import Meeting


@admin.register(Meeting)
class MeetingAdmin(BigTableAdmin):
    list_display = [
        "title",
        "start_time",
        "meeting_platform",
        "will_record",
        "is_deleted",
        "calendar",
        "project",
    ]
    list_filter = ["meeting_platform", "will_record", "is_deleted", "status", "project"]
    list_select_related = ["calendar", "project"]
    search_fields = [
        "=id",
        "title",
        "=ical_uid",
        "=platform_event_id",
        "=organizer_email",
        "calendar__email",
    ]
    raw_id_fields = ["project", "calendar"]
    readonly_fields = ["id", "created_at", "updated_at", "raw"]

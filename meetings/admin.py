from django.contrib import admin
from django.utils import timezone

from projects.admin_utils import BigTableAdmin

from .models import AutoJoinRule, Meeting


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


@admin.register(AutoJoinRule)
class AutoJoinRuleAdmin(admin.ModelAdmin):
    """Staff read and edit rules with the same validation as the API (AutoJoinRule.clean). A
    change here marks the meetings it may re-decide; the periodic drain (every minute) then
    reconciles them. The API's services (calendars/rule_services.py) reconcile at once."""

    list_display = [
        "name",
        "calendar_user",
        "project",
        "priority",
        "action",
        "match_mode",
        "is_enabled",
        "updated_at",
    ]
    list_filter = ["is_enabled", "action", "match_mode", "project"]
    list_select_related = ["calendar_user", "project"]
    search_fields = ["=id", "name", "calendar_user__external_id"]
    raw_id_fields = ["project", "calendar_user"]
    readonly_fields = ["id", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        now = timezone.now()
        if change:  # the rule's old owner too, if staff moved it
            AutoJoinRule.objects.get(pk=obj.pk).mark_upcoming(now)
        super().save_model(request, obj, form, change)
        obj.mark_upcoming(now)

    def delete_model(self, request, obj):
        obj.mark_upcoming(timezone.now())
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        now = timezone.now()
        for rule in queryset:
            rule.mark_upcoming(now)
        super().delete_queryset(request, queryset)

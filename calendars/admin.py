from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from meetings.models import Meeting
from projects.admin_utils import BigTableAdmin, masked_secret

from .models import Calendar, CalendarUser, OAuthApp


@admin.register(OAuthApp)
class OAuthAppAdmin(admin.ModelAdmin):
    list_display = ["project", "platform", "client_id", "updated_at"]
    list_filter = ["platform", "project"]
    list_select_related = ["project"]
    search_fields = ["client_id", "=id", "project__name"]
    raw_id_fields = ["project"]
    readonly_fields = [masked_secret("client_secret")]


class CalendarInline(admin.TabularInline):
    model = Calendar
    fields = ["platform", "email", "state", "last_successful_sync_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CalendarUser)
class CalendarUserAdmin(BigTableAdmin):
    list_display = ["external_id", "id", "project", "created_at"]
    list_filter = ["project"]
    list_select_related = ["project"]
    search_fields = ["external_id", "=id", "calendars__email"]
    raw_id_fields = ["project"]
    readonly_fields = ["id", "preferences_id", "created_at", "updated_at"]
    inlines = [CalendarInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "external_id":
            kwargs["strip"] = False  # matched exactly: surrounding whitespace is refused
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(Calendar)
class CalendarAdmin(BigTableAdmin):
    list_display = [
        "id",
        "platform",
        "email",
        "state",
        "failure_reason",
        "meeting_count",
        "project",
        "calendar_user",
        "last_successful_sync_at",
        "last_attempted_sync_at",
    ]
    actions = ["sync_now", "disconnect"]
    list_filter = ["platform", "state", "project"]
    list_select_related = ["project", "calendar_user"]
    search_fields = ["email", "=id", "calendar_user__external_id", "deduplication_key"]
    raw_id_fields = ["project", "calendar_user"]
    readonly_fields = [
        "id",
        "created_at",
        "updated_at",
        masked_secret("refresh_token"),
        masked_secret("oauth_client_secret"),
        "state_history",
        "sync_cursor",
        "sync_lease_owner",
        "sync_lease_expires_at",
        "last_attempted_sync_at",
        "last_successful_sync_at",
        "consecutive_sync_failures",
        "push_channel_id",
        "push_resource_id",
        "push_expires_at",
        "meeting_count",
    ]

    def get_queryset(self, request):
        # A correlated count: evaluated for the page's rows only, not the whole table.
        meetings = (
            Meeting.objects.filter(calendar=OuterRef("pk"), is_deleted=False)
            .order_by()
            .values("calendar")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(_meetings=Coalesce(Subquery(meetings), 0))

    @admin.display(description="meetings", ordering="_meetings")
    def meeting_count(self, calendar) -> int:
        return calendar._meetings

    @admin.display(description="failure")
    def failure_reason(self, calendar) -> str:
        failure = calendar.connection_failure_data or {}
        return failure.get("error", "") if isinstance(failure, dict) else ""

    @admin.action(description="Sync now (in the background)")
    def sync_now(self, request, queryset):
        from .services import calendar_request_sync

        count = 0
        for calendar in queryset.live():
            calendar_request_sync(calendar=calendar)
            count += 1
        messages.success(request, f"Queued a sync of {count} calendar(s).")

    @admin.action(description="Disconnect (stop syncing, cancel upcoming bots)")
    def disconnect(self, request, queryset):
        from .providers.base import PermanentError
        from .services import calendar_mark_disconnected

        for calendar in queryset:
            calendar_mark_disconnected(
                calendar=calendar,
                error=PermanentError(f"Disconnected by {request.user} in the admin."),
            )
        messages.success(request, f"Disconnected {queryset.count()} calendar(s).")

"""Admin of calendar users and calendars: safe by design.

What the sync owns (state, times, cursor, failures, the account's address) is read-only. What
staff may change goes through the service the API uses and leaves an audit entry (the admin's
LogEntry: who, when, what): resync and disconnect a calendar, change a calendar user's
recording preferences (which re-decides their upcoming meetings).
"""

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from meetings.models import Meeting
from projects.admin_utils import BigTableAdmin, masked_secret, with_zone

from . import services
from .console import timelines
from .models import Calendar, CalendarUser, OAuthApp
from .providers.base import PermanentError

RESYNC_LIMIT = 10  # calendars synced in one request; more are queued for the workers


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


PREFERENCE_FIELDS = list(services.PREFERENCE_FIELDS)


@admin.register(CalendarUser)
class CalendarUserAdmin(BigTableAdmin):
    list_display = ["external_id", "id", "project", "calendar_count", "created"]
    list_filter = ["project"]
    list_select_related = ["project"]
    search_fields = ["external_id", "=id", "calendars__email"]
    ordering = ["-created_at"]
    raw_id_fields = ["project"]
    inlines = [CalendarInline]

    def get_queryset(self, request):
        # A correlated count, evaluated for the page's rows only (a JOIN with GROUP BY would
        # aggregate every calendar user before the page is cut).
        calendars = (
            Calendar.objects.filter(calendar_user=OuterRef("pk"))
            .order_by()
            .values("calendar_user")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(_calendars=Coalesce(Subquery(calendars), 0))

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the API's delete cancels bots and tells the customer; a cascade would not

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["project", "external_id", *PREFERENCE_FIELDS]
        return [
            "external_id",
            "project",
            "timeline_link",
            *PREFERENCE_FIELDS,
            "id",
            "preferences_id",
            "created_at",
            "updated_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The customer's own id and the tenant are theirs to change, through the API.
        return [
            "external_id",
            "project",
            "timeline_link",
            "id",
            "preferences_id",
            "created_at",
            "updated_at",
        ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "external_id":
            kwargs["strip"] = False  # matched exactly: surrounding whitespace is refused
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="calendars", ordering="_calendars")
    def calendar_count(self, calendar_user) -> int:
        return calendar_user._calendars

    @admin.display(description="created", ordering="created_at")
    def created(self, calendar_user) -> str:
        return with_zone(calendar_user.created_at)

    @admin.display(description="timeline")
    def timeline_link(self, calendar_user) -> str:
        url = reverse("admin:calendars_calendaruser_timeline", args=[calendar_user.pk])
        return format_html(
            '<a id="calendar-user-timeline-link" href="{}">Upcoming meetings on a timeline »</a>',
            url,
        )

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Through the service of the V1 API's PATCH: the preferences are saved, the customer
        # hears calendar_user.updated and the user's upcoming meetings are decided again.
        stored = CalendarUser.objects.select_related("project").get(pk=obj.pk)
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        services.calendar_user_update(
            calendar_user=stored,
            preferences={k: v for k, v in changed.items() if k in PREFERENCE_FIELDS},
        )

    def construct_change_message(self, request, form, formsets, add=False):
        if add or not form.changed_data:
            return super().construct_change_message(request, form, formsets, add)
        changes = ", ".join(
            f"{name} {form.initial.get(name)!r} → {form.cleaned_data.get(name)!r}"
            for name in form.changed_data
        )
        return (
            f"Preferences changed through calendar_user_update ({changes}); "
            "upcoming meetings decided again."
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/timeline/",
                self.admin_site.admin_view(self.timeline_view),
                name="calendars_calendaruser_timeline",
            ),
            *super().get_urls(),
        ]

    def timeline_view(self, request, object_id):
        calendar_user = get_object_or_404(
            CalendarUser.objects.select_related("project"), pk=object_id
        )
        if not self.has_view_permission(request, calendar_user):
            return HttpResponseRedirect(reverse("admin:index"))
        try:
            days = min(max(int(request.GET.get("days", 7)), 1), 14)
        except ValueError:
            days = 7
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": calendar_user,
            "title": f"Timeline of {calendar_user.external_id}",
            "timeline": timelines.user_timeline(calendar_user, days=days),
            "meetings_url": reverse("admin:meetings_meeting_changelist"),
        }
        return TemplateResponse(request, "admin/calendars/calendaruser/timeline.html", context)


class CalendarHealthFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [("failing", "Failing (retrying or disconnected)"), ("healthy", "Syncing")]

    def queryset(self, request, queryset):
        failing = Q(state=Calendar.State.DISCONNECTED) | Q(consecutive_sync_failures__gt=0)
        if self.value() == "failing":
            return queryset.filter(failing)
        if self.value() == "healthy":
            return queryset.exclude(failing)
        return queryset


# Staff may change the customer's metadata; everything else the sync or the API owns.
CALENDAR_EDITABLE = ["metadata"]
CALENDAR_FIELDS = [
    "id",
    "project",
    "calendar_user",
    "platform",
    "email",
    "platform_calendar_id",
    "state",
    "failure",
    "state_timeline",
    "meetings_link",
    "metadata",
    "deduplication_key",
    "oauth_client_id",
    "refresh_token_masked",
    "oauth_client_secret_masked",
    "last_attempted_sync_at",
    "last_successful_sync_at",
    "sync_finished_at",
    "consecutive_sync_failures",
    "sync_due_at",
    "sync_window_start",
    "sync_window_end",
    "sync_lease_owner",
    "sync_lease_expires_at",
    "push_channel_id",
    "push_expires_at",
    "created_at",
    "updated_at",
]


@admin.register(Calendar)
class CalendarAdmin(BigTableAdmin):
    list_display = [
        "id",
        "platform_label",
        "email",
        "state",
        "failure_reason",
        "meeting_count",
        "project",
        "calendar_user",
        "last_success",
        "last_attempt",
    ]
    actions = ["resync", "sync_in_background", "disconnect"]
    list_filter = [CalendarHealthFilter, "platform", "state", "project"]
    list_select_related = ["project", "calendar_user"]
    search_fields = [
        "email",
        "=id",
        "calendar_user__external_id",
        "=calendar_user__id",
        "deduplication_key",
        "=platform_calendar_id",
    ]
    ordering = ["-created_at"]
    fields = CALENDAR_FIELDS
    refresh_token_masked = masked_secret("refresh_token")
    oauth_client_secret_masked = masked_secret("oauth_client_secret")
    readonly_fields = [name for name in CALENDAR_FIELDS if name not in CALENDAR_EDITABLE]
    change_form_template = "admin/calendars/calendar/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False  # connected through the OAuth flow or the API, which check the grant

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the API's delete cancels bots and tells the customer; a cascade would not

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

    @admin.display(description="platform", ordering="platform")
    def platform_label(self, calendar) -> str:
        return calendar.get_platform_display()

    @admin.display(description="meetings", ordering="_meetings")
    def meeting_count(self, calendar) -> str:
        return format_html(
            '<a class="meetings-link" href="{}?calendar={}">{}</a>',
            reverse("admin:meetings_meeting_changelist"),
            calendar.pk,
            calendar._meetings,
        )

    @admin.display(description="meetings")
    def meetings_link(self, calendar) -> str:
        count = getattr(calendar, "_meetings", None)
        if count is None:
            count = calendar.meetings.filter(is_deleted=False).count()
        return format_html(
            '<a id="calendar-meetings-link" href="{}?calendar={}">Meetings: {}</a>',
            reverse("admin:meetings_meeting_changelist"),
            calendar.pk,
            count,
        )

    @admin.display(description="failure")
    def failure_reason(self, calendar) -> str:
        failure = calendar.connection_failure_data or {}
        return failure.get("error", "") if isinstance(failure, dict) else ""

    @admin.display(description="failure")
    def failure(self, calendar) -> str:
        failure = calendar.connection_failure_data
        if not isinstance(failure, dict):
            return "—"
        return format_html(
            "<strong>{}</strong> {} <span class='quiet'>({}{})</span>",
            failure.get("error", ""),
            failure.get("message", ""),
            failure.get("timestamp", ""),
            ", retrying" if failure.get("retrying") else "",
        )

    @admin.display(description="state history")
    def state_timeline(self, calendar) -> str:
        lines = timelines.state_timeline(calendar)
        if not lines:
            return "—"
        return format_html(
            '<ol class="console-history" id="calendar-state-history">{}</ol>',
            format_html_join(
                "",
                '<li><time>{}</time> <span class="console-badge state-{}">{}</span> {}</li>',
                (
                    (with_zone(line["at"]), line["state"], line["state"], line["reason"])
                    for line in lines
                ),
            ),
        )

    @admin.display(description="last success", ordering="last_successful_sync_at")
    def last_success(self, calendar) -> str:
        return with_zone(calendar.last_successful_sync_at)

    @admin.display(description="last attempt", ordering="last_attempted_sync_at")
    def last_attempt(self, calendar) -> str:
        return with_zone(calendar.last_attempted_sync_at)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        calendar = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if calendar is not None:
            extra_context["sync_history"] = timelines.sync_history(calendar)
            extra_context["resync_url"] = reverse(
                "admin:calendars_calendar_resync", args=[calendar.pk]
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/resync/",
                self.admin_site.admin_view(self.resync_view),
                name="calendars_calendar_resync",
            ),
            *super().get_urls(),
        ]

    def resync_view(self, request, object_id):
        """The change page's "Resync now" button (POST): the resync action for one calendar."""
        change_url = reverse("admin:calendars_calendar_change", args=[object_id])
        if request.method != "POST" or not self.has_change_permission(request):
            return HttpResponseRedirect(change_url)
        self.resync(request, Calendar.objects.filter(pk=object_id))
        return HttpResponseRedirect(change_url)

    @admin.action(description="Resync now (as the API's sync: in this request, up to 10)")
    def resync(self, request, queryset):
        calendars = list(queryset.select_related("project").order_by("created_at"))
        now, later = calendars[:RESYNC_LIMIT], calendars[RESYNC_LIMIT:]
        summary = services.calendars_sync_now(calendars=now)
        errors = dict(summary.errors)
        for calendar in now:
            outcome = errors.get(calendar.pk) or "synced"
            self.log_change(request, calendar, f"Resync in the admin: {outcome}.")
        for calendar in later:
            services.calendar_request_sync(calendar=calendar)
            self.log_change(request, calendar, "Resync in the admin: queued for a worker.")
        text = (
            f"Synced {len(summary.synced_calendars)} calendar(s): {summary.new_events} new, "
            f"{summary.updated_events} updated event(s)."
        )
        if later:
            text += f" {len(later)} more queued for the workers."
        messages.success(request, text)
        for calendar_id, error in summary.errors:
            messages.error(request, f"Calendar {calendar_id}: {error}")

    @admin.action(description="Sync in the background (queue for the workers)")
    def sync_in_background(self, request, queryset):
        count = 0
        for calendar in queryset.live():
            services.calendar_request_sync(calendar=calendar)
            self.log_change(request, calendar, "Sync queued in the admin.")
            count += 1
        messages.success(request, f"Queued a sync of {count} calendar(s).")

    @admin.action(description="Disconnect (stop syncing, cancel upcoming bots)")
    def disconnect(self, request, queryset):
        count = 0
        for calendar in queryset.live():
            # The service a revoked grant goes through: state `disconnected` with the reason,
            # push channel forgotten, the bots of its upcoming meetings cancelled. The rows stay
            # (unlike the API's disconnect, which deletes them): support can see what happened,
            # and new credentials through the API reconnect it.
            services.calendar_mark_disconnected(
                calendar=calendar,
                error=PermanentError(f"Disconnected by {request.user} in the admin."),
            )
            self.log_change(
                request, calendar, "Disconnected in the admin; upcoming bots cancelled."
            )
            count += 1
        messages.success(request, f"Disconnected {count} calendar(s).")

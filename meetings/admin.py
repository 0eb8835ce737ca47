"""Admin of meetings and auto-join rules.

Meetings are safe by design: every field the sync or the decision owns is read-only, and the
only thing staff change on a meeting is `override_should_record`. Saving it, the "Why?" panel
(the decision step by step, meetings/decisions.py `trace`) and the "re-decide" action need the
apps above this one (the override service, reconciliation, the providers' link detection), so
the registered admin is calendars/meeting_admin.py's subclass of `MeetingAdmin`, which adds
them (tests/test_layering.py keeps meetings below calendars).

Lists stay fast with 100k+ meetings: no COUNT(*) of the table (`CappedPaginator`), the page's
calendars, users and bots in a fixed number of queries, and searches that use the indexes.
"""

import json
import re
import uuid

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from projects.admin_utils import BigTableAdmin, with_zone

from .links import PLATFORMS, platform_label
from .models import AutoJoinRule, Meeting
from .selectors import attendee_match

REASON_CHARS = 60


class CappedPaginator(Paginator):
    """Counts at most `cap` rows (a COUNT over a LIMITed subquery): a list of 100k meetings
    does not count them all on every page, and shows the first `cap // per_page` pages."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.cap].count()


class PlatformFilter(admin.SimpleListFilter):
    """The meeting platforms by name, from the known list: Django's default filter would read
    the distinct values of the whole table on every page."""

    title = "platform"
    parameter_name = "platform"

    def lookups(self, request, model_admin):
        return [("none", "No join link"), *((p, platform_label(p)) for p in PLATFORMS)]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(meeting_platform__isnull=True)
        if self.value():
            return queryset.filter(meeting_platform=self.value())
        return queryset


class MeetingChangeList(ChangeList):
    # What the list's columns read, nothing more: the page is the top 50 of a sort over every
    # matching meeting, and PostgreSQL sorts whole rows (the payload, the calendar's history...).
    COLUMNS = (
        "id",
        "title",
        "start_time",
        "meeting_platform",
        "will_record",
        "will_record_reason",
        "calendar__id",
        "calendar__email",
        "calendar__calendar_user__id",
        "calendar__calendar_user__external_id",
        "project__id",
        "project__name",
    )

    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).only(*self.COLUMNS)


def _uuid(text: str):
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def readable_json(value) -> str:
    if value in (None, "", [], {}):
        return "—"
    return format_html("<pre class='meeting-json'>{}</pre>", json.dumps(value, indent=2))


class MeetingAdmin(BigTableAdmin):
    """The meetings list and a meeting's page (registered by calendars/meeting_admin.py)."""

    paginator = CappedPaginator
    list_display = [
        "title_display",
        "when",
        "platform",
        "decision",
        "bot",
        "calendar_email",
        "calendar_user",
        "project",
    ]
    list_display_links = ["title_display"]
    list_filter = ["will_record", PlatformFilter, "is_deleted", "status", "project"]
    list_select_related = ["calendar__calendar_user", "project"]
    # Newest and upcoming first: what support is asked about.
    ordering = ["-start_time", "-id"]
    # Used only for the search box to show; get_search_results does the searching.
    search_fields = ["title"]
    search_help_text = (
        "An organizer's or attendee's e-mail, a calendar user's external id, a meeting URL, "
        "an id (meeting, calendar, calendar user, bot), a provider event id or iCal UID, or "
        "words of the title."
    )
    change_form_template = "admin/meetings/meeting/change_form.html"
    fieldsets = [
        (
            "Recording",
            {
                "fields": ["override_should_record", "will_record", "will_record_reason"],
                "description": "Only the override is yours to change: it goes through the same "
                "service as the API and the meeting is decided again at once. Everything else "
                "comes from the calendar sync and the decision.",
            },
        ),
        (
            "Meeting",
            {
                "fields": [
                    "title",
                    "start",
                    "end",
                    "status",
                    "is_all_day",
                    "is_deleted",
                    "calendar_link",
                    "project",
                    "organizer_email",
                    "attendee_list",
                    "is_external",
                    "is_hosted_by_me",
                    "is_recurring",
                    "visibility",
                ]
            },
        ),
        ("Join link", {"fields": ["platform", "meeting_url", "invite"]}),
        (
            "From the provider",
            {
                "classes": ["collapse"],
                "fields": [
                    "platform_event_id",
                    "ical_uid",
                    "series_id",
                    "provider_updated_at",
                    "location",
                    "description",
                    "raw_payload",
                ],
            },
        ),
        ("Record", {"fields": ["id", "created_at", "updated_at"]}),
    ]
    EDITABLE = ("override_should_record",)

    def get_readonly_fields(self, request, obj=None):
        # Every field but the override, whatever the fieldsets show: a POSTed value of a
        # read-only field is ignored.
        shown = [name for _, options in self.fieldsets for name in options["fields"]]
        model_fields = [f.name for f in Meeting._meta.concrete_fields]
        return [
            name for name in dict.fromkeys([*shown, *model_fields]) if name not in self.EDITABLE
        ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "override_should_record":
            field.label = "Recording override"
            field.widget.choices = [
                ("unknown", "Not set: the preferences and rules decide"),
                ("true", "Record this meeting"),
                ("false", "Don't record this meeting"),
            ]
        return field

    def get_changelist(self, request, **kwargs):
        return MeetingChangeList

    def has_add_permission(self, request) -> bool:
        return False  # meetings come from calendars

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the sync owns them; a deletion would leave bots behind

    def get_queryset(self, request):
        bots = Prefetch(
            "bots",
            queryset=Meeting._meta.get_field("bots")
            .related_model.objects.only("id", "status", "join_at", "created_at")
            .order_by("-created_at"),
        )
        return super().get_queryset(request).prefetch_related(bots)

    def get_search_results(self, request, queryset, search_term):
        """Each term the way an index finds it: an e-mail (organizer, attendee, calendar), an
        id, a URL; other words in the title, provider ids and external ids."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if _EMAIL.match(term):
            email = term.lower()
            match = (
                Q(organizer_email__iexact=email)
                | attendee_match(email)
                | Q(calendar__email__iexact=email)
                | Q(ical_uid=term)  # iCal UIDs often look like addresses
            )
        elif (value := _uuid(term)) is not None:
            match = (
                Q(pk=value)
                | Q(calendar_id=value)
                | Q(calendar__calendar_user_id=value)
                | Q(bots__id=value)
            )
            return queryset.filter(match).distinct(), True
        elif "://" in term or term.startswith(("zoom.us/", "meet.google.com/", "teams.")):
            match = Q(meeting_url=term) | Q(meeting_url=f"https://{term}")
        else:
            match = (
                Q(platform_event_id=term)
                | Q(ical_uid=term)
                | Q(calendar__calendar_user__external_id=term)
                | Q(title__icontains=term)
            )
        return queryset.filter(match), False

    # --- columns -----------------------------------------------------------------------------

    @admin.display(description="title", ordering="title")
    def title_display(self, meeting: Meeting) -> str:
        return meeting.title or "(untitled)"

    @admin.display(description="starts", ordering="start_time")
    def when(self, meeting: Meeting) -> str:
        return format_html('<span class="nowrap">{}</span>', with_zone(meeting.start_time))

    @admin.display(description="platform", ordering="meeting_platform")
    def platform(self, meeting: Meeting) -> str:
        return platform_label(meeting.meeting_platform) if meeting.meeting_platform else "—"

    @admin.display(description="decision", ordering="will_record")
    def decision(self, meeting: Meeting) -> str:
        reason = meeting.will_record_reason or ""
        short = reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"
        return format_html(
            '<span class="console-badge decision-{}" title="{}">{}</span> <span title="{}">{}</span>',
            "recorded" if meeting.will_record else "skipped",
            reason,
            "✔ records" if meeting.will_record else "✘ no bot",
            reason,
            short,
        )

    @admin.display(description="bot")
    def bot(self, meeting: Meeting) -> str:
        bots = list(meeting.bots.all())  # prefetched, newest first
        live = [b for b in bots if not b.is_terminal]
        shown = (live or bots)[:1]
        if not shown:
            return "—"
        bot = shown[0]
        return format_html(
            '<a class="meeting-bot-link nowrap" href="{}" title="{}">{} · {}</a>',
            reverse("admin:bots_bot_change", args=[bot.pk]),
            bot.pk,
            bot.get_status_display(),
            timezone.localtime(bot.join_at).strftime("%H:%M %Z"),
        )

    @admin.display(description="calendar", ordering="calendar__email")
    def calendar_email(self, meeting: Meeting) -> str:
        return meeting.calendar.email or "—"

    @admin.display(description="calendar user")
    def calendar_user(self, meeting: Meeting) -> str:
        user = meeting.calendar.calendar_user
        return user.external_id if user else "—"

    # --- the change page's read-only displays ---------------------------------------------------

    @admin.display(description="starts")
    def start(self, meeting: Meeting) -> str:
        return with_zone(meeting.start_time)

    @admin.display(description="ends")
    def end(self, meeting: Meeting) -> str:
        return with_zone(meeting.end_time)

    @admin.display(description="calendar")
    def calendar_link(self, meeting: Meeting) -> str:
        calendar = meeting.calendar
        user = calendar.calendar_user
        return format_html(
            '<a href="{}">{} ({})</a>{}',
            reverse("admin:calendars_calendar_change", args=[calendar.pk]),
            calendar.email or calendar.pk,
            calendar.get_platform_display(),
            format_html(
                ' of <a href="{}">{}</a>',
                reverse("admin:calendars_calendaruser_change", args=[user.pk]),
                user.external_id,
            )
            if user
            else "",
        )

    @admin.display(description="attendees")
    def attendee_list(self, meeting: Meeting) -> str:
        people = [a for a in meeting.attendees or [] if isinstance(a, dict)]
        if not people:
            return "—"
        return format_html(
            "<ul class='meeting-attendees'>{}</ul>",
            format_html_join(
                "",
                "<li>{} &lt;{}&gt; <span class='quiet'>{}{}</span></li>",
                (
                    (
                        a.get("name") or "",
                        a.get("email") or "",
                        a.get("status") or "",
                        ", organizer" if a.get("is_organizer") else "",
                    )
                    for a in people
                ),
            ),
        )

    @admin.display(description="invite")
    def invite(self, meeting: Meeting) -> str:
        return readable_json(meeting.meeting_invite)

    @admin.display(description="provider payload")
    def raw_payload(self, meeting: Meeting) -> str:
        return readable_json(meeting.raw)


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

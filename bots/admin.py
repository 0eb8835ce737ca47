"""Admin of bots and their dispatch backends.

A bot's page is read-only but for its config and metadata: its status, times and backend
fields change through reconciliation, the hand-over and the actions below, which also tell the
backend and the customer. Actions (cancel, dispatch again, dispatch now) go through the services
the API and the jobs use and leave a LogEntry (who, when, what).
"""

import socket
from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from config import http
from meetings.admin import CappedPaginator
from meetings.models import Meeting
from projects.admin_utils import BigTableAdmin, masked_secret, with_zone

from . import dispatch, services
from .models import Bot, BotBackendConfig, base_url_problem

DISPATCH_NOW_LIMIT = 20  # bots dispatched in one request


def status_timeline(bot: Bot) -> list[dict]:
    """The bot's status changes, oldest first, as support reads them."""
    labels = dict(Bot.Status.choices)
    lines = []
    for change in bot.status_changes or []:
        if not isinstance(change, dict):
            continue
        raw_at = change.get("created_at") or ""
        try:
            at = datetime.fromisoformat(raw_at)
        except (TypeError, ValueError):
            at = None
        code = change.get("code") or ""
        lines.append(
            {
                "at": timezone.localtime(at) if at and at.tzinfo else at,
                "raw_at": raw_at,
                "code": code,
                "label": labels.get(code, code),
                "sub_code": change.get("sub_code") or "",
                "message": change.get("message") or "",
            }
        )
    return lines


class BackendStateFilter(admin.SimpleListFilter):
    title = "hand-over"
    parameter_name = "handover"

    def lookups(self, request, model_admin):
        return [("failing", "Failing"), ("retrying", "Retry pending")]

    def queryset(self, request, queryset):
        if self.value() == "failing":
            return queryset.exclude(backend_error="")
        if self.value() == "retrying":
            return queryset.filter(backend_retry_at__isnull=False)
        return queryset


# What the dispatch backend was told and answered (read-only: the hand-over job owns them).
BACKEND_FIELDS = [
    "backend",
    "backend_bot_id",
    "dispatched_at",
    "backend_join_at",
    "backend_meeting_url",
    "backend_name",
    "backend_synced_at",
    "backend_error",
    "backend_attempts",
    "backend_retry_at",
]


class BotChangeList(ChangeList):
    # The list's columns only: the page is the top 50 of a sort over every matching bot, and
    # PostgreSQL sorts whole rows (config, metadata, status history).
    COLUMNS = (
        "id",
        "name",
        "meeting_url",  # str(bot)
        "status",
        "join_at",
        "backend",
        "backend_error",
        "backend_synced_at",
        "project__id",
        "project__name",
    )

    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).only(*self.COLUMNS)


@admin.register(Bot)
class BotAdmin(BigTableAdmin):
    paginator = CappedPaginator
    list_display = [
        "name",
        "status_badge",
        "joins",
        "calendar_meetings",
        "backend",
        "handover",
        "project",
        "short_id",
    ]
    list_display_links = ["name"]
    ordering = ["-join_at", "-id"]
    list_filter = ["status", BackendStateFilter, "meeting_platform", "backend", "project"]
    list_select_related = ["project"]
    search_fields = [
        "=id",
        "=deduplication_key",
        "=backend_bot_id",
        "=meeting_url",
        "=meetings__id",
    ]
    raw_id_fields = ["project", "meetings"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "id",
                    "project",
                    "name",
                    "status",
                    "join_time",
                    "meeting_url",
                    "meeting_platform",
                    "deduplication_key",
                    "calendar_meetings",
                    "metadata",
                    "config",
                ]
            },
        ),
        ("Status history", {"fields": ["status_history", "created_at", "updated_at"]}),
        (
            "Dispatch backend",
            {"fields": BACKEND_FIELDS},
        ),
    ]
    # Status, times and links change through reconciliation and the actions below, which also
    # tell the backend and the customer; an edit here would do neither.
    readonly_fields = [
        "id",
        "project",
        "name",
        "status",
        "join_at",
        "join_time",
        "meeting_url",
        "meeting_platform",
        "deduplication_key",
        "calendar_meetings",
        *BACKEND_FIELDS,
        "status_history",
        "created_at",
        "updated_at",
    ]
    actions = ["dispatch_now", "cancel_bots", "redispatch_bots"]

    def get_queryset(self, request):
        meetings = (
            Meeting.objects.select_related("calendar__calendar_user")
            .defer("raw", "description", "meeting_invite", "attendees", "location")
            .order_by("start_time")
        )
        return super().get_queryset(request).prefetch_related(Prefetch("meetings", meetings))

    def get_changelist(self, request, **kwargs):
        return BotChangeList

    def has_add_permission(self, request) -> bool:
        return False  # bots come from meetings

    def save_model(self, request, obj, form, change):
        # Only what staff changed: a push may be writing the backend fields right now.
        obj.save(update_fields=[*form.changed_data, "updated_at"] if change else None)

    @admin.display(description="calendar meetings (calendar user): why this bot?")
    def calendar_meetings(self, bot: Bot) -> str:
        rows = [
            (
                reverse("admin:meetings_meeting_change", args=[meeting.pk]),
                meeting.title or "(untitled)",
                with_zone(meeting.start_time),
                meeting.calendar.calendar_user.external_id
                if meeting.calendar.calendar_user
                else "no calendar user",
            )
            for meeting in bot.meetings.all()
        ]
        return (
            format_html_join(
                mark_safe("<br>"),
                '<a class="bot-meeting-link" href="{}" title="Why? The meeting\'s decision, step '
                'by step">{}</a> <span class="nowrap">@ {}</span> ({})',
                rows,
            )
            or "—"
        )

    @admin.display(description="status", ordering="status")
    def status_badge(self, bot: Bot) -> str:
        return format_html(
            '<span class="console-badge status-{}">{}</span>', bot.status, bot.get_status_display()
        )

    @admin.display(description="joins", ordering="join_at")
    def joins(self, bot: Bot) -> str:
        return format_html('<span class="nowrap">{}</span>', with_zone(bot.join_at))

    @admin.display(description="joins at")
    def join_time(self, bot: Bot) -> str:
        return with_zone(bot.join_at)

    @admin.display(description="id")
    def short_id(self, bot: Bot) -> str:
        return format_html('<code title="{}">{}…</code>', bot.pk, str(bot.pk)[:8])

    @admin.display(description="hand-over")
    def handover(self, bot: Bot) -> str:
        if bot.backend_error:
            return format_html("⚠ {}", bot.backend_error[:120])
        return "synced" if bot.backend_synced_at else "—"

    @admin.display(description="status history")
    def status_history(self, bot: Bot) -> str:
        return render_to_string(
            "admin/bots/status_timeline.html", {"timeline": status_timeline(bot)}
        )

    @admin.action(description="Dispatch now (bots whose join time has come)")
    def dispatch_now(self, request, queryset):
        """What the every-minute dispatch job does (bots/dispatch.py: dispatch_bot, fenced by
        the join time read), for the selected bots, without waiting for its next tick. A bot
        whose join time has not come is left as is: reconciliation owns its join time."""
        bots = list(queryset.order_by("join_at")[: DISPATCH_NOW_LIMIT + 1])
        if len(bots) > DISPATCH_NOW_LIMIT:
            messages.error(request, f"Select at most {DISPATCH_NOW_LIMIT} bots to dispatch now.")
            return
        outcomes = []
        for bot in bots:
            outcome = dispatch.dispatch_bot(bot_id=bot.pk, join_at=bot.join_at)
            why = {
                "early": f"its join time ({with_zone(bot.join_at)}) has not come",
                "stale": f"it is {bot.get_status_display().lower()}, not scheduled, or changed",
            }.get(outcome, "")
            self.log_change(
                request,
                bot,
                f"Dispatch now in the admin: {outcome}" + (f" ({why})." if why else "."),
            )
            outcomes.append((bot, outcome, why))
        done = [bot for bot, outcome, _ in outcomes if outcome == "dispatched"]
        if done:
            messages.success(request, f"{len(done)} bot(s) dispatched.")
        for bot, outcome, why in outcomes:
            if outcome != "dispatched":
                messages.warning(
                    request, f"{bot.name} ({bot.pk}): {outcome}" + (f": {why}." if why else ".")
                )

    @admin.action(description="Cancel selected bots (not joined yet)")
    def cancel_bots(self, request, queryset):
        done, refused = 0, 0
        for bot in queryset:
            try:
                services.bot_cancel(bot=bot, message=f"Cancelled by {request.user} in the admin.")
                self.log_change(request, bot, "Cancelled in the admin (bot_cancel).")
                done += 1
            except services.BotError:
                refused += 1
        self._report(request, done, refused, "cancelled", "had joined or ended already")

    @admin.action(description="Dispatch selected bots again (failed dispatch)")
    def redispatch_bots(self, request, queryset):
        done, refused = 0, 0
        for bot in queryset:
            try:
                services.bot_redispatch(bot=bot)
                self.log_change(request, bot, "Dispatched again in the admin (bot_redispatch).")
                done += 1
            except services.BotError:
                refused += 1
        self._report(
            request, done, refused, "sent again", "had no failed dispatch or were replaced"
        )

    def _report(self, request, done: int, refused: int, verb: str, why: str) -> None:
        if done:
            messages.success(request, f"{done} bot(s) {verb}.")
        if refused:
            messages.warning(request, f"{refused} bot(s) skipped: they {why}.")


class BotBackendConfigForm(forms.ModelForm):
    base_url = forms.URLField(
        max_length=500,
        assume_scheme="https",
        help_text="The bot API's root, e.g. https://app.attendee.dev",
    )
    new_api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current key.",
    )
    allow_private_addresses = forms.BooleanField(
        required=False,
        help_text="Allow this base URL on a private, loopback or link-local address (a runner "
        "on your own network). Covers this exact URL: when it changes, the allowance ends.",
    )

    class Meta:
        model = BotBackendConfig
        fields = ["project", "base_url"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("allow_private_addresses", self.instance.allow_private_addresses)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("new_api_key") and not self.instance.api_key:
            self.add_error("new_api_key", "An API key is required.")
        url = cleaned.get("base_url")
        allow_private = cleaned.get("allow_private_addresses")
        # (A URL the model refuses - http in production, credentials - is not even resolved.)
        usable = url and not base_url_problem(url)
        if usable and not (allow_private or settings.BOTS_ALLOW_PRIVATE_ADDRESSES):
            try:
                http.check_url(url)
            except http.UnsafeDestination:
                self.add_error(
                    "base_url",
                    "The URL resolves to a private, loopback or link-local address; tick "
                    "'allow private addresses' if the bot API runs on your network.",
                )
            except (socket.gaierror, UnicodeError):
                pass  # not resolvable yet: every request checks again
        return cleaned

    def save(self, commit=True):
        if self.cleaned_data.get("new_api_key"):
            self.instance.api_key = self.cleaned_data["new_api_key"]
        # Bound to the base URL as saved now: ticked, staff approve exactly this URL.
        self.instance.allow_private_addresses = self.cleaned_data["allow_private_addresses"]
        return super().save(commit)


@admin.register(BotBackendConfig)
class BotBackendConfigAdmin(admin.ModelAdmin):
    form = BotBackendConfigForm
    list_display = ["project", "base_url", "api_key_masked", "private_allowed"]
    list_select_related = ["project"]
    search_fields = ["project__name", "base_url", "=project__id"]
    raw_id_fields = ["project"]
    api_key_masked = masked_secret("api_key")
    readonly_fields = ["api_key_masked", "created_at", "updated_at"]

    @admin.display(description="private addresses", boolean=True)
    def private_allowed(self, config: BotBackendConfig) -> bool:
        return config.allow_private_addresses

    fields = [
        "project",
        "base_url",
        "new_api_key",
        "api_key_masked",
        "allow_private_addresses",
        "created_at",
        "updated_at",
    ]

"""The meeting admin as registered: meetings/admin.py's `MeetingAdmin` with what needs the apps
above meetings - the "Why?" panel (calendars/decision_trace.py), the override saved through the
API's service (calendars/meeting_services.py: meeting_set_override) and "re-decide"
(bots/reconcile.py: reconcile_meetings, which every trigger calls). Each leaves a LogEntry
(who, when, what). Imported by CalendarsConfig.ready()."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse

from bots.admin import status_timeline
from bots.reconcile import reconcile_meetings
from meetings.admin import MeetingAdmin
from meetings.models import Meeting

from .decision_trace import decision_queryset, meeting_decision
from .meeting_services import meeting_set_override

REDECIDE_LIMIT = 500  # meetings re-decided in one request


def _override_words(value) -> str:
    return {None: "preferences decide", True: "record", False: "don't record"}[value]


@admin.register(Meeting)
class MeetingConsoleAdmin(MeetingAdmin):
    actions = ["redecide"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        found = self.get_object(request, object_id)  # None for an unknown or malformed id
        if found is not None and self.has_view_permission(request, found):
            meeting = decision_queryset().get(pk=found.pk)
            decision = extra_context["decision"] = meeting_decision(meeting)
            if decision.bot is not None:
                extra_context["bot_timeline"] = status_timeline(decision.bot)
            extra_context["redecide_url"] = reverse(
                "admin:meetings_meeting_redecide", args=[meeting.pk]
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        """Only the override is editable: saved by the API's service, which decides again."""
        if "override_should_record" in form.changed_data:
            stored = Meeting.objects.get(pk=obj.pk)
            meeting_set_override(meeting=stored, value=form.cleaned_data["override_should_record"])

    def construct_change_message(self, request, form, formsets, add=False):
        if "override_should_record" not in form.changed_data:
            return super().construct_change_message(request, form, formsets, add)
        before = _override_words(form.initial.get("override_should_record"))
        after = _override_words(form.cleaned_data.get("override_should_record"))
        meeting = Meeting.objects.only("will_record_reason").get(pk=form.instance.pk)
        return (
            f"Override changed through meeting_set_override: {before} → {after}. "
            f"Decision now: {meeting.will_record_reason}"
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/redecide/",
                self.admin_site.admin_view(self.redecide_view),
                name="meetings_meeting_redecide",
            ),
            *super().get_urls(),
        ]

    def redecide_view(self, request, object_id):
        """The change page's "Re-decide now" button (POST): the action for one meeting."""
        change_url = reverse("admin:meetings_meeting_change", args=[object_id])
        meeting = self.get_object(request, object_id)
        if meeting is not None and request.method == "POST" and self.has_change_permission(request):
            self.redecide(request, Meeting.objects.filter(pk=meeting.pk))
        return HttpResponseRedirect(change_url)

    @admin.action(description="Re-decide selected meetings now (and make their bots match)")
    def redecide(self, request, queryset):
        before = dict(
            queryset.order_by("-start_time").values_list("pk", "will_record_reason")[
                : REDECIDE_LIMIT + 1
            ]
        )
        if len(before) > REDECIDE_LIMIT:
            messages.error(
                request, f"Select at most {REDECIDE_LIMIT} meetings to re-decide at once."
            )
            return
        result = reconcile_meetings(meeting_ids=list(before))
        changed = 0
        for meeting in Meeting.objects.filter(pk__in=list(before)).only(
            "pk", "title", "start_time", "will_record_reason"
        ):
            old, new = before[meeting.pk], meeting.will_record_reason
            changed += old != new
            what = f"was: {old}; now: {new}" if old != new else f"unchanged: {new}"
            self.log_change(request, meeting, f"Re-decided in the admin ({what}).")
        messages.success(
            request,
            f"Re-decided {result.reconciled} meeting(s): {changed} decision(s) changed, "
            f"{len(result.created)} bot(s) created, {len(result.cancelled)} cancelled.",
        )

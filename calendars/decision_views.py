"""`GET .../decision/`: why a meeting is recorded or not, step by step, and its bot. One
serializer and one lookup for both surfaces (the server API's calendar events and the calendar
token's meetings); the trace itself is calendars/decision_trace.py."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers
from rest_framework.response import Response

from bots.serializers import StatusChangeSerializer
from config.api.schema import error_response
from meetings.decisions import DECIDED, DECISION_STEP, FAIL, PASS, SKIPPED, STEPS

from .decision_trace import decision_queryset, meeting_decision


class DecisionStepSerializer(serializers.Serializer):
    step = serializers.ChoiceField(
        choices=[*STEPS, DECISION_STEP],
        help_text="The step's id, in the order the decision evaluates them; the last is "
        "`decision`.",
    )
    label = serializers.CharField(help_text="What the step checks, in words.")
    outcome = serializers.ChoiceField(
        choices=[PASS, FAIL, DECIDED, SKIPPED],
        help_text="`pass`: checked, the meeting goes on; `fail`: a prerequisite not met (the "
        "first one decides); `decided`: this step made the decision; `skipped`: not evaluated, "
        "an earlier step decided.",
    )
    detail = serializers.CharField(help_text="What the step found for this meeting.")


class DecisionBotSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    join_at = serializers.DateTimeField()
    status_changes = StatusChangeSerializer(many=True)


class MeetingDecisionSerializer(serializers.Serializer):
    meeting_id = serializers.UUIDField(source="meeting.pk")
    will_record = serializers.BooleanField(source="trace.decision.will_record")
    will_record_reason = serializers.CharField(source="trace.decision.reason")
    code = serializers.CharField(
        source="trace.decision.code", help_text="The reason's code (`no_link`, `rule_join`, ...)."
    )
    steps = DecisionStepSerializer(source="trace.steps", many=True)
    bot = DecisionBotSerializer(
        allow_null=True, help_text="The meeting's live bot, else its last one; null: none."
    )


EXAMPLE = {
    "meeting_id": "6f1c2a9e-4b7d-4c1e-9a3f-2d8e5b7c1a40",
    "will_record": False,
    "will_record_reason": "Not recorded: internal meeting, and only external meetings are "
    "recorded. No auto-join rule matched.",
    "code": "not_external",
    "steps": [
        {
            "step": "calendar",
            "label": "Calendar connected",
            "outcome": "pass",
            "detail": "Connected.",
        },
        {
            "step": "join_link",
            "label": "Has a join link",
            "outcome": "pass",
            "detail": "Zoom link https://zoom.us/j/81234567890 (found in the event's location)",
        },
        {
            "step": "all_day",
            "label": "Not an all-day event",
            "outcome": "pass",
            "detail": "It has start and end times.",
        },
        {
            "step": "deleted",
            "label": "Not deleted from the calendar",
            "outcome": "pass",
            "detail": "Still in the calendar.",
        },
        {
            "step": "cancelled",
            "label": "Not cancelled",
            "outcome": "pass",
            "detail": "Status: confirmed.",
        },
        {
            "step": "ended",
            "label": "Not ended",
            "outcome": "pass",
            "detail": "Ends 2026-12-03 10:30 UTC.",
        },
        {
            "step": "override",
            "label": "Per-meeting override",
            "outcome": "pass",
            "detail": "Not set: the steps below decide.",
        },
        {
            "step": "api_schedule",
            "label": "Bot scheduled through the API",
            "outcome": "pass",
            "detail": "None.",
        },
        {"step": "calendar_user", "label": "Calendar user", "outcome": "pass", "detail": "user-42"},
        {
            "step": "rules",
            "label": "Auto-join rules",
            "outcome": "pass",
            "detail": "No rule matched (2 enabled rule(s) tried).",
        },
        {
            "step": "preferences",
            "label": "Recording preferences",
            "outcome": "decided",
            "detail": "On: record_external; record_external decided: internal meeting, and only "
            "external meetings are recorded.",
        },
        {
            "step": "decision",
            "label": "Decision",
            "outcome": "decided",
            "detail": "Not recorded: internal meeting, and only external meetings are recorded. "
            "No auto-join rule matched.",
        },
    ],
    "bot": None,
}
EXAMPLE_WITH_BOT = {
    **EXAMPLE,
    "will_record": True,
    "will_record_reason": "Recorded: a bot was scheduled for this meeting through the API.",
    "code": "scheduled_by_api",
    "steps": [
        *EXAMPLE["steps"][:7],
        {
            "step": "api_schedule",
            "label": "Bot scheduled through the API",
            "outcome": "decided",
            "detail": "A bot was requested for this meeting through the API.",
        },
        *(
            {**step, "outcome": "skipped", "detail": "An earlier step decided."}
            for step in EXAMPLE["steps"][8:11]
        ),
        {
            "step": "decision",
            "label": "Decision",
            "outcome": "decided",
            "detail": "Recorded: a bot was scheduled for this meeting through the API.",
        },
    ],
    "bot": {
        "id": "0b7e4d2c-1f3a-4e5b-8c9d-7a6f5e4d3c2b",
        "status": "scheduled",
        "join_at": "2026-12-03T09:58:00Z",
        "status_changes": [
            {
                "code": "scheduled",
                "sub_code": None,
                "message": None,
                "created_at": "2026-12-02T08:00:00Z",
            }
        ],
    },
}

DESCRIPTION = (
    "Why the meeting is recorded or not: each step of the recording decision in the order it "
    "is evaluated (calendar connected, join link and which event field it came from, all-day, "
    "deleted, cancelled, ended, the per-meeting override, a bot scheduled through the API, the "
    "calendar user, the auto-join rules and which rule matched, the recording preferences and "
    "which one decided), ending in the decision, and the meeting's bot with its status "
    "history. Computed now by the same code that decides (a change not reconciled yet already "
    "shows). calsync's own endpoint."
)


def schema(not_found: str) -> dict:
    """`extend_schema` arguments of a decision endpoint."""
    return {
        "request": None,
        "responses": {
            200: OpenApiResponse(
                MeetingDecisionSerializer,
                examples=[
                    OpenApiExample("Not recorded", value=EXAMPLE, response_only=True),
                    OpenApiExample(
                        "Recorded, with its bot", value=EXAMPLE_WITH_BOT, response_only=True
                    ),
                ],
            ),
            404: error_response(not_found),
        },
        "description": DESCRIPTION,
    }


def decision_response(pk, **scope) -> Response:
    """The decision of meeting `pk` among the meetings the `scope` filters select (the caller's
    tenant: any other id is a 404)."""
    meeting = get_object_or_404(decision_queryset().filter(**scope), pk=pk)
    return Response(MeetingDecisionSerializer(meeting_decision(meeting)).data)

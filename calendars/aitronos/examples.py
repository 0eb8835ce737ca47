"""Request and response examples of the Aitronos meeting-buddy surface, for the OpenAPI
document (seed 002's sync and 401 answers among them)."""

from drf_spectacular.utils import OpenApiExample

CREDENTIAL_ID = "3f0c7a52-6c1e-4f0e-9a39-7f8e4c2b9d10"
EVENT_ID = "8a1d2e34-5b6c-4d7e-8f90-a1b2c3d4e5f6"
RULE_ID = "5b2e9c1d-7a3f-4e8b-9c0d-1e2f3a4b5c6d"
BOT_ID = "c7d8e9f0-1a2b-4c3d-8e4f-5a6b7c8d9e0f"


def _response(name: str, value, summary: str = "", status_codes=None) -> OpenApiExample:
    return OpenApiExample(
        name, value=value, summary=summary, response_only=True, status_codes=status_codes
    )


def _request(name: str, value, summary: str = "") -> OpenApiExample:
    return OpenApiExample(name, value=value, summary=summary, request_only=True)


UNAUTHENTICATED = _response(
    "Unauthorized",
    {
        "success": False,
        "error": {
            "code": "AUTHENTICATION_REQUIRED",
            "message": "Authentication is required to access this resource.",
            "type": "client_error",
            "status": 401,
            "details": {},
            "trace_id": "abc-123-def",
            "timestamp": "2026-03-03T10:00:00Z",
        },
    },
    "No bearer token",
    status_codes=["401"],
)

CONNECTION = {
    "credential_id": CREDENTIAL_ID,
    "provider": "google_calendar",
    "account_email": "dana@acme.com",
    "is_active": True,
    "last_sync_at": "2026-03-03T09:58:12.481Z",
    "event_count": 42,
}
# The list's example shows one connection: the document wraps a list's example in the list.
LIST_CONNECTIONS = [_response("Connections", CONNECTION), UNAUTHENTICATED]

CONNECT = [
    _request("Google Calendar", {"provider": "google_calendar"}),
    _response(
        "Authorization URL",
        {
            "provider": "google_calendar",
            "authorization_url": "https://accounts.google.com/o/oauth2/v2/auth?client_id=1234"
            "567890-abc.apps.googleusercontent.com&redirect_uri=https%3A%2F%2Fcalsync.acme.com"
            "%2Fapi%2Fv1%2Fcalendar%2Fgoogle_oauth_callback%2F&response_type=code&access_type="
            "offline&prompt=consent&scope=...&state=...",
            "state": '{"recall_calendar_auth_token":"eyJhbGciOi...","google_oauth_redirect_url":'
            '"https://calsync.acme.com/api/v1/calendar/google_oauth_callback/"}',
            "redirect_uri": "https://calsync.acme.com/api/v1/calendar/google_oauth_callback/",
        },
        status_codes=["200"],
    ),
    _response(
        "Provider not supported",
        {
            "success": False,
            "error": {
                "code": "PROVIDER_NOT_SUPPORTED",
                "message": "zoom cannot be connected here: calsync connects google_calendar "
                "and outlook_calendar.",
                "type": "client_error",
                "status": 400,
                "details": {
                    "provider": [
                        "zoom cannot be connected here: calsync connects google_calendar and "
                        "outlook_calendar."
                    ]
                },
                "trace_id": "4f1c2b9e0d8a4c7b9e6f5a3d2c1b0a99",
                "timestamp": "2026-03-03T10:00:00Z",
            },
        },
        status_codes=["400"],
    ),
]

EVENT = {
    "id": EVENT_ID,
    "calendar_provider": "google_calendar",
    "title": "Customer call: Globex",
    "start_time": "2026-03-04T15:00:00Z",
    "end_time": "2026-03-04T15:30:00Z",
    "timezone": "UTC",
    "meeting_link": "https://meet.google.com/abc-defg-hij",
    "meeting_platform": "google_meet",
    "organizer_email": "dana@acme.com",
    "attendee_count": 3,
    "is_recurring": False,
    "status": "confirmed",
    "auto_join_status": "scheduled",
    "session_id": BOT_ID,
    "synced_at": "2026-03-03T09:58:12.481Z",
    "created_at": "2026-03-01T08:30:00.125Z",
    "auto_join_reason": f'Recorded: rule:{RULE_ID} "Customer calls" joins this meeting.',
}
LIST_EVENTS = [
    _response(
        "A page",
        {
            "items": [
                EVENT,
                {
                    **EVENT,
                    "id": "1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90",
                    "title": "1:1",
                    "start_time": "2026-03-04T16:00:00Z",
                    "end_time": "2026-03-04T16:30:00Z",
                    "meeting_link": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x",
                    "meeting_platform": "teams",
                    "attendee_count": 2,
                    "auto_join_status": "skipped",
                    "session_id": None,
                    "auto_join_reason": "Not recorded: no recording preference is on. No "
                    "auto-join rule matched.",
                },
            ],
            "total": 12,
            "skip": 0,
            "limit": 2,
            "has_more": True,
        },
    ),
    UNAUTHENTICATED,
]
GET_EVENT = [_response("Event", EVENT)]

SYNC = [
    _response(
        "200 OK",
        {"synced_calendars": 2, "new_events": 15, "updated_events": 3, "errors": []},
        status_codes=["200"],
    ),
    _response(
        "200 OK (with errors)",
        {
            "synced_calendars": 1,
            "new_events": 8,
            "updated_events": 1,
            "errors": [
                "outlook_calendar: auth_revoked: Microsoft refused the refresh token "
                "(invalid_grant)."
            ],
        },
        status_codes=["200"],
    ),
    UNAUTHENTICATED,
]

RULE = {
    "id": RULE_ID,
    "name": "Customer calls",
    "is_enabled": True,
    "calendar_provider": None,
    "match_mode": "custom",
    "keywords": ["customer", "demo"],
    "organizer_emails": ["@acme.com"],
    "exclude_patterns": ["^internal"],
    "min_attendees": 2,
    "max_attendees": None,
    "time_window_start": "09:00",
    "time_window_end": "18:00",
    "days_of_week": [0, 1, 2, 3, 4],
    "timezone": "Europe/Berlin",
    "bot_name": "Acme Notetaker",
    "priority": 10,
    "created_at": "2026-03-01T08:30:00.125Z",
    "updated_at": "2026-03-02T11:12:13.456Z",
    "action": "join",
    "whole_word": False,
    "attendee_emails": [],
    "audience": "any",
    "recurring": None,
    "meeting_platforms": [],
    "bot_config": {},
}
RULE_BODY = {
    key: RULE[key]
    for key in (
        "name",
        "match_mode",
        "keywords",
        "organizer_emails",
        "exclude_patterns",
        "min_attendees",
        "time_window_start",
        "time_window_end",
        "days_of_week",
        "timezone",
        "bot_name",
        "priority",
    )
}
LIST_RULES = [_response("Rules", {"items": [RULE], "total": 1}), UNAUTHENTICATED]
GET_RULE = [_response("Rule", RULE)]
CREATE_RULE = [
    _request("Customer calls", RULE_BODY),
    _response("Created", RULE, status_codes=["201"]),
    _response(
        "Refused",
        {
            "success": False,
            "error": {
                "code": "INVALID_TIMEZONE",
                "message": "timezone: Unknown time zone; use an IANA name such as Europe/Berlin.",
                "type": "client_error",
                "status": 400,
                "details": {
                    "timezone": ["Unknown time zone; use an IANA name such as Europe/Berlin."]
                },
                "trace_id": "4f1c2b9e0d8a4c7b9e6f5a3d2c1b0a99",
                "timestamp": "2026-03-03T10:00:00Z",
            },
        },
        status_codes=["400"],
    ),
]
UPDATE_RULE = [
    _request("Disable", {"is_enabled": False}),
    _response("Updated", {**RULE, "is_enabled": False}, status_codes=["200"]),
]

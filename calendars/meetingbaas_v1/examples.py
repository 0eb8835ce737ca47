"""Request and response examples of the Meeting BaaS v1 surface, for the OpenAPI document."""

from drf_spectacular.utils import OpenApiExample

CALENDAR_UUID = "3f0c7a52-6c1e-4f0e-9a39-7f8e4c2b9d10"
EVENT_UUID = "8a1d2e34-5b6c-4d7e-8f90-a1b2c3d4e5f6"

CREDENTIALS = {
    "oauth_client_id": "1234567890-abc.apps.googleusercontent.com",
    "oauth_client_secret": "GOCSPX-your-client-secret",
    "oauth_refresh_token": "1//0g-the-users-refresh-token",
    "platform": "Google",
}

CALENDAR = {
    "uuid": CALENDAR_UUID,
    "name": "dana@acme.com",
    "email": "dana@acme.com",
    "google_id": "dana@acme.com",
    "resource_id": "c2b7e0b4-2a8f-4f5e-9d3c-6a1e0f9b8c7d",
}

BOT_PARAM = {
    "bot_name": "Acme Notetaker",
    "deduplication_key": None,
    "bot_image": "https://cdn.acme.com/bot.png",
    "enter_message": None,
    "extra": {"customer_id": "c-42"},
    "noone_joined_timeout": 600,
    "waiting_room_timeout": None,
    "silence_timeout": None,
    "recording_mode": "speaker_view",
    "speech_to_text_provider": "Gladia",
    "speech_to_text_api_key": None,
    "streaming_audio_frequency": None,
    "streaming_input": None,
    "streaming_output": None,
    "transcription_custom_parameters": None,
    "webhook_url": "https://api.acme.com/meetingbaas/webhook",
    "zoom_sdk_id": None,
    "zoom_sdk_pwd": None,
    "zoom_obf_token": None,
    "zoom_obf_token_url": None,
    "zoom_obf_token_user_id": None,
    "zoom_access_token_url": None,
}


def event(uuid: str, start: str, end: str, bot_param: dict | None) -> dict:
    return {
        "uuid": uuid,
        "calendar_uuid": CALENDAR_UUID,
        "google_id": f"4k9v2m1s0q8p7o6n5l4k3j2h1g_{start[:10].replace('-', '')}T150000Z",
        "name": "Standup",
        "meeting_url": "https://meet.google.com/abc-defg-hij",
        "start_time": start,
        "end_time": end,
        "is_organizer": True,
        "is_recurring": True,
        "recurring_event_id": "4k9v2m1s0q8p7o6n5l4k3j2h1g",
        "attendees": [
            {"email": "dana@acme.com", "name": "Dana"},
            {"email": "lee@globex.com", "name": None},
        ],
        "deleted": False,
        "last_updated_at": "2026-12-01T08:30:12.481Z",
        "raw": {"id": "4k9v2m1s0q8p7o6n5l4k3j2h1g_20261214T150000Z", "status": "confirmed"},
        "bot_param": bot_param,
    }


NEXT_CURSOR = "cD0yMDI2LTEyLTE0KzE1JTNBMDAlM0EwMCUyQjAwJTNBMDA="

EVENT = event(EVENT_UUID, "2026-12-14T15:00:00Z", "2026-12-14T15:15:00Z", None)
EVENT_WITH_BOT = {**EVENT, "bot_param": BOT_PARAM}


def _response(name: str, value, summary: str = "") -> OpenApiExample:
    return OpenApiExample(name, value=value, summary=summary, response_only=True)


def _request(name: str, value, summary: str = "") -> OpenApiExample:
    return OpenApiExample(name, value=value, summary=summary, request_only=True)


LIST_RAW_CALENDARS = [
    _request("Credentials", CREDENTIALS),
    _response(
        "The account's calendars",
        {
            "calendars": [
                {"id": "dana@acme.com", "email": "dana@acme.com", "is_primary": True},
                {
                    "id": "c_0a1b2c3d4e5f@group.calendar.google.com",
                    "email": "",
                    "is_primary": False,
                },
            ]
        },
    ),
]
CREATE_CALENDAR = [
    _request("Primary calendar", CREDENTIALS),
    _request(
        "A chosen calendar",
        {**CREDENTIALS, "raw_calendar_id": "c_0a1b2c3d4e5f@group.calendar.google.com"},
    ),
    _response(
        "Created",
        {
            "calendar": {
                **CALENDAR,
                "name": "primary",
                "email": "",
                "google_id": "primary",
                "resource_id": None,
            }
        },
        "Before its first sync the account's address is not known yet.",
    ),
]
LIST_CALENDARS = [_response("Calendars", CALENDAR)]
GET_CALENDAR = [_response("Calendar", CALENDAR)]
UPDATE_CALENDAR = [
    _request("New refresh token", {**CREDENTIALS, "oauth_refresh_token": "1//0g-a-new-one"}),
    _response("Updated", {"calendar": {**CALENDAR, "resource_id": None}}),
]
RESYNC_ALL = [
    _response(
        "Synced",
        {
            "synced_calendars": [CALENDAR_UUID],
            "errors": [
                [
                    "0d5e6f70-8192-4a3b-9c4d-5e6f708192a3",
                    "auth_revoked: The calendar is disconnected: update its credentials.",
                ]
            ],
        },
    )
]
LIST_EVENTS = [_response("A page", EVENT)]
GET_EVENT = [_response("Event", EVENT)]
SCHEDULE_BOT = [
    _request(
        "A bot",
        {
            "bot_name": "Acme Notetaker",
            "bot_image": "https://cdn.acme.com/bot.png",
            "extra": {"customer_id": "c-42"},
            "noone_joined_timeout": 600,
            "recording_mode": "speaker_view",
            "speech_to_text": "Gladia",
            "webhook_url": "https://api.acme.com/meetingbaas/webhook",
        },
    ),
    _response("The updated events", EVENT_WITH_BOT),
]
PATCH_BOT = [
    _request("Rename", {"bot_name": "Acme Recorder", "recording_mode": "audio_only"}),
    _response(
        "The updated events",
        {
            **EVENT,
            "bot_param": {**BOT_PARAM, "bot_name": "Acme Recorder", "recording_mode": "audio_only"},
        },
    ),
]
UNSCHEDULE_BOT = [_response("The updated events", EVENT)]

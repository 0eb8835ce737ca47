"""One domain error base, mapped once by the API (issue 14, item 3)."""

import pytest
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from rest_framework.request import Request

from bots.services import BotError
from calendars.meeting_services import ScheduleError
from calendars.oauth import ConnectError
from calendars.services import CalendarError
from config.api.exceptions import ApiError, api_error_for, handle_exception
from config.errors import DomainError
from projects.services import LastActiveKey
from webhooks.services import EndpointDisabled


@pytest.mark.parametrize(
    "error",
    [
        BotError("bot_terminal", "The bot has ended.", 409),
        ScheduleError("event_ended", "The event has already ended."),
        CalendarError("deduplication_key_conflict", "Taken.", 409, existing_id="abc"),
        ConnectError("redirect_not_allowed", "the redirect URL is not valid"),
        LastActiveKey(),
        EndpointDisabled(),
    ],
)
def test_every_refusal_is_a_domain_error(error):
    assert isinstance(error, DomainError)
    mapped = api_error_for(error)
    assert isinstance(mapped, ApiError)
    assert (mapped.code, mapped.message, mapped.status_code) == (
        error.code,
        error.message,
        error.status,
    )


def _answer(error: Exception, rf_request=None):
    request = Request(HttpRequest())
    return handle_exception(error, {"request": request, "view": None})


def test_envelope_of_a_domain_error(db):
    response = _answer(DomainError("endpoint_disabled", "Enable it first.", 409))
    assert response.status_code == 409
    assert response.data["code"] == "endpoint_disabled"
    assert response.data["message"] == response.data["detail"] == "Enable it first."
    assert "errors" not in response.data


def test_extra_detail_goes_to_errors(db):
    response = _answer(CalendarError("deduplication_key_conflict", "Taken.", 409, existing_id=7))
    assert response.data["errors"] == {"existing_id": "7"}


def test_a_field_error_names_the_field(db):
    error = DomainError("conflict", "Taken.", 409, field="external_id")
    assert _answer(error).data["errors"] == {"external_id": ["Taken."]}


def test_connect_error_keeps_the_page_wording():
    error = ConnectError("access_denied", "the calendar owner denied access")
    assert error.message == error.reason == "the calendar owner denied access"
    assert error.page_message == (
        "Calendar connection failed! (reason: the calendar owner denied access)"
    )


def test_a_model_validation_error_has_the_serializer_shape(db):
    response = _answer(ValidationError({"url": ["Enter a valid URL."]}))
    assert response.status_code == 400
    assert response.data["code"] == "invalid_request_data"
    assert response.data["errors"] == {"url": ["Enter a valid URL."]}


def test_a_value_that_cannot_be_converted_stays_invalid_request(db):
    response = _answer(ValidationError("“x” is not a valid UUID."))
    assert response.data["code"] == "invalid_request"

from rest_framework import exceptions, status
from rest_framework.views import exception_handler

from .errors import STATUS_CODES, VALIDATION_MESSAGE, error_body


class ApiError(exceptions.APIException):
    """A domain error with its own code: `raise ApiError("calendar_disconnected", "...", 409)`."""

    def __init__(
        self,
        code: str,
        message: str,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        errors: dict | None = None,
    ):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.errors = errors


def handle_exception(exc, context):
    """DRF's handler, then one envelope. Anything it does not handle reaches the middleware (500)."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    errors = getattr(exc, "errors", None)
    if isinstance(exc, exceptions.ValidationError):
        code, message = "invalid_request_data", VALIDATION_MESSAGE
        errors = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        code = codes if isinstance(codes, str) else STATUS_CODES.get(response.status_code, "error")
        detail = response.data.get("detail") if isinstance(response.data, dict) else None
        message = str(detail) if detail is not None else str(exc)
    response.data = error_body(code, message, errors=errors)
    return response

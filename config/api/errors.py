"""The one error envelope of the API.

    {"code": "not_found", "message": "Not found.", "detail": "Not found.",
     "errors": {...field errors, validation only...}, "request_id": "..."}

`code` is stable and machine-readable; `detail` repeats the message for clients written against
Django REST Framework's default shape.
"""

from django.http import JsonResponse

from config.logging import current_request_id

VALIDATION_MESSAGE = (
    "Unable to process request because invalid data was submitted. "
    "Check `errors` field for more details."
)

STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
}

STATUS_MESSAGES = {
    400: "Bad request.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "The request body is too large.",
    500: "An unexpected error occurred. Quote the request id when reporting it.",
    503: "The service is busy. Try again shortly.",
}


def error_body(code: str, message: str, *, errors: dict | None = None) -> dict:
    body = {"code": code, "message": message, "detail": message}
    if errors is not None:
        body["errors"] = errors
    body["request_id"] = current_request_id()
    return body


def error_response(
    status: int,
    *,
    code: str | None = None,
    message: str | None = None,
    headers: dict | None = None,
    errors: dict | None = None,
) -> JsonResponse:
    body = error_body(
        code or STATUS_CODES.get(status, "error"),
        message or STATUS_MESSAGES.get(status, "Request failed."),
        errors=errors,
    )
    return JsonResponse(body, status=status, headers=headers)

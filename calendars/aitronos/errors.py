"""Aitronos's error envelope (seed 002), for every error under this surface's prefix:

    {"success": false, "error": {"code": "AUTHENTICATION_REQUIRED", "message": "...",
     "type": "client_error", "status": 401, "details": {}, "trace_id": "...",
     "timestamp": "2026-03-03T10:00:00Z"}}

Errors are made once, in our envelope (config/api/errors.py); config/middleware.py hands an
error answered under the prefix to `aitronos_error_body`, which says the same in Aitronos's
words: `code` in upper snake case (the generic ones renamed as in CODES, every other code of
ours upper-cased: `provider_not_supported` -> `PROVIDER_NOT_SUPPORTED`, a rule's
`invalid_timezone` -> `INVALID_TIMEZONE`), `details` our field errors (`{}` without),
`trace_id` our request id (the `X-Request-ID` header).
"""

from django.utils import timezone
from rest_framework import serializers

from .fields import AitronosEnum

CODES = {
    "invalid_request_data": "VALIDATION_ERROR",
    "not_authenticated": "AUTHENTICATION_REQUIRED",
    "authentication_failed": "AUTHENTICATION_REQUIRED",
    "not_found": "NOT_FOUND",
    "method_not_allowed": "METHOD_NOT_ALLOWED",
    "throttled": "RATE_LIMIT_EXCEEDED",
}
# Aitronos's words when no credentials were sent (seed 002); a token that fails its check keeps
# our message, which says why (expired, tampered with, ...).
AUTHENTICATION_REQUIRED = "Authentication is required to access this resource."


def aitronos_code(code: str) -> str:
    return CODES.get(code) or code.upper()


def aitronos_error_body(status: int, body: dict) -> dict:
    """Our error envelope (`body`, answered with `status`) in Aitronos's."""
    code = str(body.get("code") or "error")
    message = AUTHENTICATION_REQUIRED if code == "not_authenticated" else body.get("message")
    return {
        "success": False,
        "error": {
            "code": aitronos_code(code),
            "message": message or "Request failed.",
            "type": "server_error" if status >= 500 else "client_error",
            "status": status,
            "details": body.get("errors") or {},
            "trace_id": body.get("request_id") or "",
            "timestamp": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


# --- OpenAPI -----------------------------------------------------------------------------------


class AitronosErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Upper snake case: `VALIDATION_ERROR` (with `details`), "
        "`AUTHENTICATION_REQUIRED`, `NOT_FOUND`, `METHOD_NOT_ALLOWED`, `RATE_LIMIT_EXCEEDED`, "
        "`RETRY_LATER`, or the operation's own code."
    )
    message = serializers.CharField(help_text="For people.")
    type = AitronosEnum(["client_error", "server_error"], component="AitronosErrorType")
    status = serializers.IntegerField(help_text="The HTTP status.")
    details = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Field errors by field (`{}` when the error is not about fields).",
    )
    trace_id = serializers.CharField(
        help_text="Our request id (also the `X-Request-ID` header): quote it when asking for help."
    )
    timestamp = serializers.DateTimeField()


class AitronosErrorSerializer(serializers.Serializer):
    """Every error of the Aitronos meeting-buddy surface."""

    success = serializers.BooleanField(help_text="Always false.")
    error = AitronosErrorDetailSerializer()

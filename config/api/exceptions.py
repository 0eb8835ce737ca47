import logging

from django.conf import settings
from django.core import exceptions as django_exceptions
from django.db import DatabaseError, DataError, IntegrityError
from django.http import Http404
from rest_framework import exceptions, status

from config.db import is_transient
from config.errors import DomainError

from .errors import STATUS_CODES, VALIDATION_MESSAGE, error_body

logger = logging.getLogger("calsync.errors")

# What a transient database conflict (deadlock, serialization failure, lock not available)
# tells the caller to wait before trying again.
RETRY_AFTER_SECONDS = 1


class ApiError(exceptions.APIException):
    """An error as the API answers it (code, message, status, `errors`, headers). Services
    raise a `config.errors.DomainError`, which `api_error_for` turns into one of these; this
    module and the middleware raise it for what is wrong with the request itself."""

    def __init__(
        self,
        code: str,
        message: str,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        errors: dict | None = None,
        headers: dict | None = None,
    ):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.errors = errors
        self.headers = headers or {}

    @property
    def code(self) -> str:
        return self.get_codes()

    @property
    def message(self) -> str:
        return str(self.detail)


def invalid_request(message: str) -> ApiError:
    """Input no endpoint can accept (NUL characters, nesting too deep, a malformed header)."""
    return ApiError("invalid_request", message, status.HTTP_400_BAD_REQUEST)


def retry_later() -> ApiError:
    return ApiError(
        "retry_later",
        "The request ran into a concurrent change (deadlock, serialization failure or lock "
        "time-out). Try again.",
        status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _update_of_deleted_row(exc: BaseException) -> bool:
    # Model.save(update_fields=...) on a row another request deleted. Django 6 raises
    # NotUpdated (an ObjectDoesNotExist) here; 5.2 raises a bare DatabaseError with this text.
    return type(exc) is DatabaseError and "did not affect any rows" in str(exc)


def api_error_for(exc: BaseException) -> ApiError | None:
    """The answer to an exception that is not a bug of ours, for every view (DRF or plain):
    a refusal by a service (`DomainError`, mapped here and nowhere else), input Django refused
    (host, body size, too many fields), a row deleted by a concurrent request (404), a
    transient database conflict (503 `retry_later`), a write that lost a race against a
    constraint (409) or a value the database cannot store (400). None: a bug, 500."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, DomainError):
        return ApiError(exc.code, exc.message, exc.status, errors=exc.errors, headers=exc.headers)
    if isinstance(exc, Http404):
        return ApiError("not_found", "Not found.", status.HTTP_404_NOT_FOUND)
    if isinstance(exc, django_exceptions.ObjectDoesNotExist) or _update_of_deleted_row(exc):
        # A row deleted by a concurrent request between this one's reads and writes.
        logger.warning("row gone, answered 404: %s", exc)
        return ApiError("not_found", "Not found.", status.HTTP_404_NOT_FOUND)
    if isinstance(exc, django_exceptions.PermissionDenied):
        return ApiError(
            "permission_denied",
            "You do not have permission to perform this action.",
            status.HTTP_403_FORBIDDEN,
        )
    if isinstance(exc, django_exceptions.RequestDataTooBig):
        return payload_too_large()
    if isinstance(exc, django_exceptions.DisallowedHost):
        return invalid_request("The Host header names a host this service does not answer to.")
    if isinstance(exc, django_exceptions.SuspiciousOperation):
        # TooManyFieldsSent (over DATA_UPLOAD_MAX_NUMBER_FIELDS query or form fields) and kin.
        return invalid_request("The request was refused: it is malformed or too large.")
    if isinstance(exc, django_exceptions.ValidationError) and hasattr(exc, "error_dict"):
        # A service refused input field by field (model validation): the serializer's shape.
        return ApiError(
            "invalid_request_data",
            VALIDATION_MESSAGE,
            status.HTTP_400_BAD_REQUEST,
            errors=exc.message_dict,
        )
    if isinstance(exc, django_exceptions.ValidationError):
        # A value a model field could not convert (a lookup by a malformed id or date).
        return invalid_request("; ".join(exc.messages)[:500] or "Invalid value.")
    if is_transient(exc):
        logger.warning("transient database conflict, answered 503: %s", exc)
        return retry_later()
    if isinstance(exc, IntegrityError):
        logger.warning("integrity error, answered 409", exc_info=exc)
        return ApiError(
            "conflict",
            "The request conflicts with a concurrent change. Read the object again and retry.",
            status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DataError):
        logger.warning("data error, answered 400", exc_info=exc)
        return invalid_request(
            "A value cannot be stored (too long, out of range, or with characters the "
            "database refuses)."
        )
    return None


def payload_too_large() -> ApiError:
    return ApiError(
        "payload_too_large",
        f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def handle_exception(exc, context):
    """DRF's handler, then one envelope. Anything neither handles reaches the middleware (500)."""
    # Not at the top: rest_framework.views loads the parser classes, which import this module.
    from rest_framework.views import exception_handler

    exc = api_error_for(exc) or exc
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
    for name, value in getattr(exc, "headers", {}).items():
        response[name] = value
    # The middleware retries a read-only request that met a transient conflict.
    response.transient_db_error = code == "retry_later"
    return response

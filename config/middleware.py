import logging
import re
import time
import uuid

from django.http import (
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
    HttpResponseNotFound,
    HttpResponseServerError,
)

from .api.errors import error_response
from .logging import reset_log_context

logger = logging.getLogger("calsync.request")
error_logger = logging.getLogger("calsync.errors")

REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


class RequestIdMiddleware:
    """Gives every request an id (a caller's well-formed X-Request-ID, else a new one), puts it
    in the log context and the response, and logs one line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        reset_log_context(request_id=request.request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            reset_log_context()


# The responses Django itself makes for errors (resolver 404, require_http_methods 405, CSRF 403,
# DisallowedHost 400, the 500 handler). Pages a view renders on purpose are left alone.
DJANGO_ERROR_RESPONSES = (
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
    HttpResponseNotFound,
    HttpResponseServerError,
)


class ApiErrorMiddleware:
    """Under /api/, errors that Django answers itself (404 of an unknown path, 405 of a plain
    view, an unhandled exception) get the API's JSON envelope instead of an HTML page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_api_path(request.path) and isinstance(response, DJANGO_ERROR_RESPONSES):
            headers = {"Allow": response["Allow"]} if response.has_header("Allow") else None
            return error_response(response.status_code, headers=headers)
        return response

    def process_exception(self, request, exception):
        if not is_api_path(request.path):
            return None
        error_logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500)

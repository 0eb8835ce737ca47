import json
import logging
import re
import time
import uuid

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import (
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
    HttpResponseNotFound,
    HttpResponseServerError,
    JsonResponse,
)
from django.utils.module_loading import import_string

from .api.errors import error_response
from .api.exceptions import ApiError, api_error_for, invalid_request, payload_too_large
from .api.parsers import loads as load_json
from .logging import reset_log_context

logger = logging.getLogger("calsync.request")
error_logger = logging.getLogger("calsync.errors")

REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


# The API, and the peer-compatible surfaces mounted beside it (/compat/meetingbaas/).
API_PREFIXES = ("/api/", "/compat/")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


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
            logger.log(
                _request_log_level(request.path, response.status_code),
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


def _request_log_level(path: str, status: int) -> int:
    """A served static file (the admin's and the API docs' assets, a dozen per page) is logged
    at DEBUG only: at INFO it drowned the requests worth reading. Its errors stay at INFO."""
    static_prefix = "/" + settings.STATIC_URL.lstrip("/")
    if path.startswith(static_prefix) and status < 400:
        return logging.DEBUG
    return logging.INFO


# The responses Django itself makes for errors (resolver 404, require_http_methods 405, CSRF 403,
# DisallowedHost 400, the 500 handler). Pages a view renders on purpose are left alone.
DJANGO_ERROR_RESPONSES = (
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
    HttpResponseNotFound,
    HttpResponseServerError,
)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Pauses before the new attempts of a read-only request that met a transient database conflict.
RETRY_PAUSES = (0.05, 0.2)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def api_error_response(error: ApiError) -> JsonResponse:
    response = error_response(
        error.status_code,
        code=error.code,
        message=error.message,
        headers=error.headers,
        errors=error.errors,
    )
    response.transient_db_error = error.code == "retry_later"
    return response


class ApiErrorMiddleware:
    """Under /api/, every error has the JSON envelope: the ones Django answers itself (404 of
    an unknown path, 405 of a plain view, an exception), and DRF's errors on views whose
    renderer is not JSON (the schema's YAML); under a peer's prefix (PEER_ERROR_ENVELOPES),
    the peer's envelope. A read-only request that met a transient database
    conflict (deadlock, serialization failure) runs again before it answers 503 `retry_later`;
    a write is not repeated here (its body is consumed, and it may have done things a database
    rollback does not undo): the client retries it after `Retry-After`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not is_api_path(request.path):
            return response
        if request.method in SAFE_METHODS:
            for pause in RETRY_PAUSES:
                if not getattr(response, "transient_db_error", False):
                    break
                _sleep(pause)
                response = self.get_response(request)
        if isinstance(response, DJANGO_ERROR_RESPONSES):
            response = _with_headers_of(response, error_response(response.status_code))
        elif getattr(response, "exception", False) and not _is_json(response):
            # A DRF error (its data is the envelope) from a view whose renderer is not JSON.
            response = _with_headers_of(
                response, JsonResponse(response.data, status=response.status_code)
            )
        return _in_peer_envelope(request.path, response)

    def process_exception(self, request, exception):
        if not is_api_path(request.path):
            return None
        error = api_error_for(exception)
        if error is not None:
            return api_error_response(error)
        error_logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500)


# Surfaces whose clients expect a peer's error envelope: path prefix -> the function (a dotted
# path, as urls.py names the surfaces) that says our envelope's fields in theirs. Every other
# path keeps ours.
PEER_ERROR_ENVELOPES = {"/compat/aitronos/": "calendars.aitronos.errors.aitronos_error_body"}


def _in_peer_envelope(path: str, response):
    if response.status_code < 400 or not _is_json(response):
        return response
    for prefix, render in PEER_ERROR_ENVELOPES.items():
        if path.startswith(prefix):
            body = json.loads(response.content)
            if isinstance(body, dict) and "code" in body:
                peer = import_string(render)(response.status_code, body)
                return _with_headers_of(response, JsonResponse(peer, status=response.status_code))
    return response


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _with_headers_of(original, replacement):
    """The replacement keeps the original's headers (Allow, CORS, Retry-After, ...)."""
    for name, value in original.items():
        if name.lower() not in ("content-type", "content-length"):
            replacement[name] = value
    return replacement


class RequestGuardMiddleware:
    """Refuses, before any view runs, input that no view can handle: NUL characters in the path
    or query (everywhere: PostgreSQL text cannot hold them); and under /api/ a Host the service
    does not answer to, a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413 `payload_too_large`) and
    a JSON body nested too deep or with unstorable strings (`config/api/parsers.py`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = is_api_path(request.path)
        try:
            if "\x00" in request.path or _query_has_nul(request.META.get("QUERY_STRING", "")):
                raise invalid_request("NUL characters are not allowed in the path or query.")
            if api:
                self.check_api_request(request)
        except ApiError as error:
            if api:
                return api_error_response(error)
            return HttpResponseBadRequest(error.message, content_type="text/plain")
        return self.get_response(request)

    def check_api_request(self, request) -> None:
        try:
            request.get_host()
        except DisallowedHost:
            raise api_error_for(DisallowedHost()) from None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise invalid_request("The Content-Length header is not a number.") from None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            raise payload_too_large()
        if length:
            _check_json_body(request.body)


def _query_has_nul(query_string: str) -> bool:
    return "%00" in query_string or "\x00" in query_string


def _check_json_body(body: bytes) -> None:
    """Refuse a body that is JSON we do not accept. Anything that is not JSON is left to the
    view (DRF answers `parse_error` or 415; the push receivers their own 400)."""
    if body.lstrip()[:1] not in (b"{", b"["):
        return
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return
    try:
        load_json(text)
    except ValueError:
        return

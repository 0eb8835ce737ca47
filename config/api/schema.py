"""What the OpenAPI schema says beyond the serializers: the error envelope, the error statuses of
every operation, and the hosted OAuth callbacks (plain Django views, invisible to DRF).

Every operation lists the statuses it can really answer. Most follow from what the operation
is, in `AutoSchema.error_responses`:

- 400 everywhere: invalid fields or parameters (`invalid_request_data` with `errors`), a body
  that is not JSON (`parse_error`), NUL characters or too deep nesting (`invalid_request`);
- 401 (and 403 on the calendar-token routes, whose projects may restrict browser origins) where
  the operation needs credentials;
- 404 where the path names an object, and on the calendar-token routes (the user can be deleted
  while a request of theirs runs);
- 409 on every write: a concurrent change got there first (`conflict`);
- 413 and 415 where a body can be sent (too large; not JSON);
- 429 where the view is throttled, with `Retry-After`;
- 503 everywhere: a transient database conflict (deadlock, serialization failure) answers
  `retry_later` with `Retry-After`; retrying is safe.

Statuses that belong to one operation (its own 409 codes, 502 from a provider, the 404 of a
filter naming an unknown object) are declared on its view with `error_response(...)`. An operation
never documents 500: that is a bug.
"""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from config.validators import JsonObjectValidator

from .errors import VALIDATION_MESSAGE
from .serializers import RejectUnknownFieldsMixin


class ErrorSerializer(serializers.Serializer):
    """The one error envelope of the API (`config/api/errors.py`)."""

    code = serializers.CharField(
        help_text="Stable and machine-readable: `invalid_request_data`, `not_found`, "
        "`authentication_failed`, `throttled`, `retry_later`, or the operation's own code."
    )
    message = serializers.CharField(help_text="For people.")
    detail = serializers.CharField(
        help_text="The same as `message` (Django REST Framework's field name)."
    )
    errors = serializers.DictField(
        required=False,
        child=serializers.JSONField(),
        help_text=f"Validation errors only, by field: {VALIDATION_MESSAGE!r}",
    )
    request_id = serializers.CharField(
        help_text="Also the `X-Request-ID` response header; quote it when asking for help."
    )

    class Meta:
        ref_name = "Error"


@extend_schema_field({"type": "object", "additionalProperties": {}})
class JsonObjectField(serializers.JSONField):
    """A JSONField the schema types as an object, where the serializer checks that it is one
    (a field with `JsonObjectValidator` among its validators is typed so without this)."""


def error_response(description: str) -> OpenApiResponse:
    """An error status of one operation, for `@extend_schema(responses={409: ...})`."""
    return OpenApiResponse(ErrorSerializer, description=description)


RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 0},
        "description": "Seconds to wait before trying again.",
    }
}

# What a failed check of each security scheme answers (names as in the security components).
AUTH_FAILURES = {
    "ApiKey": {
        401: "No API key, or a key that is unknown or revoked (`not_authenticated`, "
        "`authentication_failed`).",
    },
    "CalendarAuthToken": {
        401: "No calendar auth token, or one that is expired, tampered with, signed for "
        "another service or whose user was deleted (`not_authenticated`, "
        "`authentication_failed`).",
        403: "The browser's `Origin` is not in the project's `cors_allowed_origins` "
        "(`permission_denied`).",
    },
}

COMMON = {
    400: "Invalid request: fields or parameters that fail validation (`invalid_request_data`, "
    "listed in `errors`), a body that is not valid JSON (`parse_error`), NUL characters or "
    "nesting too deep (`invalid_request`).",
    503: "A transient database conflict (deadlock, serialization failure): `retry_later`. "
    "Nothing was changed; retry after `Retry-After` seconds.",
}
NOT_FOUND = "Not found (or another project's): `not_found`."
BODY = {
    413: "The body is larger than the service accepts (`payload_too_large`).",
    415: "The body is not `application/json` (`unsupported_media_type`).",
}
CONFLICT = "A concurrent change got there first (`conflict`): read the object again and retry."
THROTTLED = "Too many requests (`throttled`); retry after `Retry-After` seconds."


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, plus the error responses of every operation, and request
    bodies as strict as the serializers: no keys they do not know, JSON objects where only an
    object is accepted."""

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, RejectUnknownFieldsMixin):
            schema["additionalProperties"] = False
        if not type(serializer).__dict__.get("__doc__"):
            schema.pop("description", None)  # a base class' docstring says nothing of this one
        return schema

    def _get_request_for_media_type(self, serializer, direction="request"):
        # A view whose PATCH validates the whole body, as its PUT does (`patch_is_put = True`),
        # documents the PUT body for both instead of an all-optional "Patched" one.
        if self.method == "PATCH" and getattr(self.view, "patch_is_put", False):
            self.method = "PUT"
            try:
                return super()._get_request_for_media_type(serializer, direction)
            finally:
                self.method = "PATCH"
        return super()._get_request_for_media_type(serializer, direction)

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.JSONField) and any(
            isinstance(validator, JsonObjectValidator) for validator in field.validators
        ):
            schema = {**schema, "type": "object", "additionalProperties": {}}
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status, description in sorted(self.error_responses().items()):
            declared = responses.get(str(status))
            if declared is not None:  # the view's own codes first, then the common ones
                if description not in declared.get("description", ""):
                    declared["description"] = f"{declared.get('description', '')} {description}"
                continue
            response = self._get_response_for_code(error_response(description), str(status))
            if status in (429, 503):
                response["headers"] = dict(RETRY_AFTER)
            responses[str(status)] = response
        return responses

    def error_responses(self) -> dict[int, str]:
        statuses = dict(COMMON)
        schemes = {name for requirement in self.get_auth() for name in requirement}
        for scheme in sorted(schemes):
            for status, description in AUTH_FAILURES.get(scheme, {}).items():
                statuses.setdefault(status, description)
        if "{" in self.path or "CalendarAuthToken" in schemes:
            statuses[404] = NOT_FOUND
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            statuses[409] = CONFLICT
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.update(BODY)
        if self.view.get_throttles():
            statuses[429] = THROTTLED
        return statuses


# --- The hosted OAuth callbacks -------------------------------------------------------------

_HTML_PAGE = {"text/html": {"schema": {"type": "string"}}}


def _oauth_callback(provider: str) -> dict:
    parameters = [
        (
            "state",
            "The `state` sent to the provider: a JSON object (raw or URL-encoded) with "
            "`recall_calendar_auth_token`, the redirect URI and optional `success_url` / "
            "`error_url`. Up to 8,192 characters.",
        ),
        ("code", "The authorization code (on success)."),
        ("error", "The provider's error code (when the user declined or the request failed)."),
        ("error_description", "The provider's explanation of `error`."),
        ("scope", "The scopes granted (Google)."),
    ]
    failure = (
        "The connection failed and the state names no `error_url` (or the token in it could "
        "not be verified, so we do not redirect): our error page, with the reason. Codes: "
        "`invalid_state`, `invalid_token`, `redirect_not_allowed`, `access_denied`, "
        "`oauth_app_not_configured`, `invalid_grant`, `invalid_client`, "
        "`refresh_token_missing`, `invalid_scope`, `email_missing`."
    )
    return {
        "get": {
            "operationId": f"v1_calendar_{provider}_oauth_callback",
            "summary": f"Hosted OAuth callback ({provider.title()})",
            "description": "Where the provider sends the user's browser after consent. "
            "Register `PUBLIC_BASE_URL` + this path as a redirect URI of the project's OAuth "
            "app. Verifies the calendar auth token in `state`, exchanges the code, connects the "
            "calendar and sends the browser to `success_url` (or `error_url` with `error` and "
            "`error_description` added to its query); without them it answers a small page. "
            "A browser endpoint: the answers are redirects and HTML, never JSON.",
            "tags": ["Calendar V1 (Recall compatible)"],
            "security": [],
            "parameters": [
                {"in": "query", "name": name, "schema": {"type": "string"}, "description": text}
                for name, text in parameters
            ],
            "responses": {
                "200": {
                    "description": "Connected; no `success_url`: our page says so.",
                    "content": _HTML_PAGE,
                },
                "302": {
                    "description": "To `success_url`, or to `error_url` with `error` and "
                    "`error_description` in its query.",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "400": {
                    "description": f"{failure} A request the API layer refuses before the "
                    "view (NUL characters in the query) gets the JSON error envelope instead.",
                    "content": {
                        **_HTML_PAGE,
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
                    },
                },
                "401": {"description": failure, "content": _HTML_PAGE},
                "502": {
                    "description": "The provider could not be reached or failed "
                    "(`provider_unavailable`): our error page.",
                    "content": _HTML_PAGE,
                },
            },
        }
    }


OAUTH_CALLBACKS = {
    "/api/v1/calendar/google_oauth_callback/": "google",
    "/api/v1/calendar/ms_oauth_callback/": "microsoft",
}


def add_oauth_callbacks(result, generator, request, public):
    """Postprocessing hook: the hosted OAuth callbacks, which are plain Django views."""
    paths = result["paths"]
    for path, provider in OAUTH_CALLBACKS.items():
        paths.setdefault(path, _oauth_callback(provider))
    result["paths"] = dict(sorted(paths.items()))
    return result


REQUEST_ID = {
    "description": "The request's id (the caller's well-formed `X-Request-ID`, else a new one); "
    "in every log line of the request and in any error's `request_id`.",
    "required": True,
    "schema": {"type": "string"},
}


def add_request_id_header(result, generator, request, public):
    """Postprocessing hook: every response carries `X-Request-ID` (config/middleware.py)."""
    result.setdefault("components", {}).setdefault("headers", {})["X-Request-ID"] = REQUEST_ID
    for item in result["paths"].values():
        for operation in item.values():
            for response in operation.get("responses", {}).values():
                response.setdefault("headers", {})["X-Request-ID"] = {
                    "$ref": "#/components/headers/X-Request-ID"
                }
    return result

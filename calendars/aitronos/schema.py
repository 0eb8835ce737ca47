"""Authentication and OpenAPI of the Aitronos surface: the bearer scheme, and error responses
documented in Aitronos's envelope (the real answers on this prefix, errors.py)."""

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse

from calendars.authentication import CalendarTokenAuthentication
from config.api.schema import AutoSchema

from .errors import AitronosErrorSerializer, aitronos_code

SCHEME = "AitronosBearer"


class AitronosBearerAuthentication(CalendarTokenAuthentication):
    """The calendar auth token, sent as Aitronos clients send their access token:
    `Authorization: Bearer <token>` (the Recall V1 header works as well). A class of its own so
    the OpenAPI document names the bearer scheme for these operations."""


class AitronosBearerScheme(OpenApiAuthenticationExtension):
    target_class = AitronosBearerAuthentication
    name = SCHEME

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A calendar auth token from `POST /api/v1/calendar/authenticate/` "
            "(minted by your backend with its API key for one of your users): "
            "`Authorization: Bearer <token>`.",
        }


# A code of ours quoted in a shared description (config/api/schema.py), e.g. `not_found`.
_OUR_CODE = re.compile(r"`([a-z][a-z0-9_]*)`")
_NOT_CODES = {"cors_allowed_origins", "details"}


def _in_aitronos_words(description: str) -> str:
    """The common error descriptions name our codes and our `errors` field: say Aitronos's."""

    def rename(match: re.Match) -> str:
        word = match[1]
        if word == "errors":
            return "`details`"
        return match[0] if word in _NOT_CODES else f"`{aitronos_code(word)}`"

    return _OUR_CODE.sub(rename, description)


def error_response(description: str) -> OpenApiResponse:
    """An error status of one Aitronos operation, for `@extend_schema(responses={...})`."""
    return OpenApiResponse(AitronosErrorSerializer, description=description)


class AitronosAutoSchema(AutoSchema):
    """Our AutoSchema (every operation lists the error statuses it can answer), with the token's
    statuses and every error in Aitronos's envelope."""

    def error_responses(self) -> dict[int, str]:
        statuses = super().error_responses()
        statuses[401] = (
            "No token (`AUTHENTICATION_REQUIRED`), or one that is expired, tampered with, signed "
            "for another service or whose user was deleted (`AUTHENTICATION_REQUIRED`, our "
            "message says which)."
        )
        statuses[403] = (
            "The browser's `Origin` is not in the project's `cors_allowed_origins` "
            "(`PERMISSION_DENIED`)."
        )
        statuses.setdefault(404, "Not found, or not this user's (`NOT_FOUND`).")
        return statuses

    def _get_serializer_name(self, serializer, direction, bypass_extensions=False) -> str:
        # A PATCH body is `Patched<name>`: keep the prefix first (AitronosPatched...).
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        return name.replace("PatchedAitronos", "AitronosPatched", 1)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status, response in responses.items():
            if status.isdigit() and int(status) >= 400:
                response["description"] = _in_aitronos_words(response.get("description", ""))
                envelope = error_response(response["description"])
                response["content"] = self._get_response_for_code(envelope, status)["content"]
        return responses

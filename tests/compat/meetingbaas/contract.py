"""A Meeting BaaS v1 client as a generator would make it from the vendored OpenAPI document
(data/openapi_v1_calendars.json): operations by their `operationId`, request bodies and every
200 body validated against Meeting BaaS' own schemas. Only the base URL and the key are ours.

OpenAPI 3.1 schemas are JSON Schema 2020-12. Two relaxations, made here on a copy (the vendored
file stays as published):
- The document spells tuples the draft-4 way (`items: [a, b]`, in the resync responses);
  2020-12 spells that `prefixItems`, and reads a list under `items` as no schema at all.
- jsonschema checks `date-time` only with an optional package, and `int32` never: both are
  checked by the small functions below, so formats are not skipped silently.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from pathlib import Path
from urllib.parse import quote, urlencode

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_PATH = Path(__file__).parent / "data" / "openapi_v1_calendars.json"
BASE_URL = "/compat/meetingbaas"
URI = "urn:meetingbaas:v1"

# The resync paths are not in this version of the document (data/README.md); their responses
# are its two resync schemas.
EXTRA_OPERATIONS = {
    "resync_all": ("post", "/calendars/resync_all", "ResyncAllCalendarsResponse"),
    "resync_all_internal": ("post", "/internal/calendar/resync_all", "ResyncAllResponse"),
}

RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)


def _tuples_as_prefix_items(node):
    if isinstance(node, dict):
        node = {key: _tuples_as_prefix_items(value) for key, value in node.items()}
        if isinstance(node.get("items"), list):
            node["prefixItems"] = node.pop("items")
        return node
    if isinstance(node, list):
        return [_tuples_as_prefix_items(value) for value in node]
    return node


def load_document() -> dict:
    return json.loads(DOCUMENT_PATH.read_text())


DOCUMENT = load_document()
_REGISTRY = Registry().with_resource(
    URI, Resource.from_contents(_tuples_as_prefix_items(copy.deepcopy(DOCUMENT)), DRAFT202012)
)
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    datetime.datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    return True


@FORMATS.checks("int32")
def _is_int32(value) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


def _pointer(*parts: str) -> str:
    return "/".join(quote(part.replace("~", "~0").replace("/", "~1"), safe="~") for part in parts)


def validate(schema_pointer: str, instance) -> None:
    """Validate `instance` against the schema at this JSON pointer of the document."""
    schema = {"$ref": f"{URI}#{schema_pointer}"}
    Draft202012Validator(schema, registry=_REGISTRY, format_checker=FORMATS).validate(instance)


def _media_schema(*parts: str) -> str:
    """The pointer of the JSON schema of a request body or response."""
    return "/" + _pointer(*parts, "content", "application/json", "schema")


def component(name: str) -> str:
    return "/" + _pointer("components", "schemas", name)


def operations() -> dict[str, tuple[str, str]]:
    """operationId -> (method, path) of the document's calendar operations."""
    found = {}
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            found[operation["operationId"]] = (method, path)
    return found


class MeetingBaasClient:
    """Calls one operation at a time, like a generated client: the path and method from the
    document, the request body checked against its schema, a 200 expected and its body checked
    against the documented response."""

    def __init__(self, api_client, api_key: str):
        self.api = api_client
        self.api_key = api_key
        self.operations = operations()

    def request(self, operation_id: str, *, uuid=None, query=None, body=None):
        """The raw answer (any status), the request body checked first."""
        method, path = self._route(operation_id)
        if body is not None and operation_id in self.operations:
            validate(_media_schema("paths", path, method, "requestBody"), body)
        url = BASE_URL + path.replace("{uuid}", str(uuid))
        if query:
            url += "?" + urlencode(query)
        headers = {"HTTP_X_MEETING_BAAS_API_KEY": self.api_key}
        if body is not None:
            return getattr(self.api, method)(url, body, format="json", **headers)
        return getattr(self.api, method)(url, **headers)

    def call(self, operation_id: str, **kwargs):
        """A successful call: its body, valid against Meeting BaaS' schema."""
        response = self.request(operation_id, **kwargs)
        assert response.status_code == 200, (operation_id, response.status_code, response.content)
        method, path = self._route(operation_id)
        if operation_id in EXTRA_OPERATIONS:
            schema = component(EXTRA_OPERATIONS[operation_id][2])
        else:
            documented = DOCUMENT["paths"][path][method]["responses"]["200"]
            if "content" not in documented:  # "no content"
                assert response.content == b"", (operation_id, response.content)
                return None
            schema = _media_schema("paths", path, method, "responses", "200")
        assert response["Content-Type"].startswith("application/json"), operation_id
        body = response.json()
        validate(schema, body)
        return body

    def _route(self, operation_id: str) -> tuple[str, str]:
        if operation_id in EXTRA_OPERATIONS:
            method, path, _ = EXTRA_OPERATIONS[operation_id]
            return method, path
        return self.operations[operation_id]

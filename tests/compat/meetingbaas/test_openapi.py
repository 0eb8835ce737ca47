"""The surface in our OpenAPI document: its own tag, operation ids and component names (none
meets the server API's), and examples that Meeting BaaS' own schemas accept."""

import io
import json

import pytest
import schemathesis
from django.core.management import call_command

from tests.factories import CalendarFactory, MeetingFactory
from tests.test_schema import assert_documented

from .contract import BASE_URL, DOCUMENT, EXTRA_OPERATIONS, _media_schema, component, validate

TAG = "Meeting BaaS v1 compatible"
PREFIX = "meetingbaas_v1_"


@pytest.fixture(scope="module")
def raw_schema(django_db_blocker) -> dict:
    out = io.StringIO()
    with django_db_blocker.unblock():
        call_command(
            "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out
        )
    return json.loads(out.getvalue())


def ours(raw_schema):
    """(path, method, operation) of the surface, with Meeting BaaS' operationId."""
    for path, item in raw_schema["paths"].items():
        if path.startswith(BASE_URL):
            for method, operation in item.items():
                if method in ("get", "post", "patch", "delete"):
                    yield path, method, operation


def their_operations() -> dict:
    found = {
        operation["operationId"]: (path, method)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
    }
    return found


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and value.startswith("#/components/schemas/"):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def test_every_operation_of_theirs_is_served(raw_schema):
    served = {operation["operationId"].removeprefix(PREFIX) for _, _, operation in ours(raw_schema)}
    assert served == {*their_operations(), *EXTRA_OPERATIONS}
    for _, _, operation in ours(raw_schema):
        assert operation["tags"] == [TAG]
        assert operation["operationId"].startswith(PREFIX)
        assert {"MeetingBaasApiKey": []} in operation["security"]


def test_mounting_the_surface_renames_none_of_the_apis_operations(raw_schema):
    # Operation ids and default tags follow the path after SCHEMA_PATH_PREFIX (/api): a mount
    # beside it must not move the common prefix (clients generate names from these ids).
    ids = {
        operation["operationId"]
        for item in raw_schema["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    assert {"v1_api_keys_destroy", "v1_calendar_user_destroy", "v1_calendars_create"} <= ids
    assert not {name for name in ids if name.startswith("api_")}


def test_component_names_do_not_meet_the_server_apis(raw_schema):
    used = {name for _, _, operation in ours(raw_schema) for name in refs(operation)}
    schemas = raw_schema["components"]["schemas"]
    for name in list(used):
        used |= set(refs(schemas.get(name, {})))
    assert {name for name in used if "MeetingBaas" not in name} == {"Error"}


def test_examples_are_valid_for_meeting_baas(raw_schema):
    """Each request and response example of an operation validates against Meeting BaaS' own
    schema of that operation, so what we document is what their clients accept."""
    theirs = their_operations()
    checked = 0
    for _, method, operation in ours(raw_schema):
        name = operation["operationId"].removeprefix(PREFIX)
        if name in EXTRA_OPERATIONS:
            request_schema, response_schema = None, component(EXTRA_OPERATIONS[name][2])
        else:
            path, their_method = theirs[name]
            assert their_method == method
            request_schema = _media_schema("paths", path, method, "requestBody")
            response_schema = _media_schema("paths", path, method, "responses", "200")
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        assert "examples" in body or not body, name
        for example in body.get("examples", {}).values():
            validate(request_schema, example["value"])
            checked += 1
        media = operation["responses"]["200"].get("content", {}).get("application/json", {})
        assert "examples" in media or "content" not in operation["responses"]["200"], name
        for example in media.get("examples", {}).values():
            validate(response_schema, example["value"])
            checked += 1
    assert checked >= 18


def test_responses_match_our_own_document(raw_schema, mb, acme):
    schema = schemathesis.openapi.from_dict(raw_schema)
    calendar = CalendarFactory(project=acme.project, calendar_user=None)
    event = MeetingFactory(calendar=calendar)
    mb.call("schedule_record_event", uuid=event.pk, body={"bot_name": "B", "extra": {"a": 1}})
    for operation, kwargs in (
        ("list_calendars", {}),
        ("get_calendar", {"uuid": calendar.pk}),
        ("list_events", {"query": {"calendar_id": calendar.pk}}),
        ("get_event", {"uuid": event.pk}),
        ("patch_bot", {"uuid": event.pk, "body": {"bot_name": "C"}}),
        ("list_events", {"query": {"calendar_id": "not-a-uuid"}}),
        ("resync_all", {"query": {"days": 0}}),
        ("delete_calendar", {"uuid": calendar.pk}),
        ("get_calendar", {"uuid": calendar.pk}),
    ):
        response = mb.request(operation, **kwargs)
        method, path = mb._route(operation)
        documented = BASE_URL + path.rstrip("/") + "/"
        assert_documented(schema, documented, method, response)

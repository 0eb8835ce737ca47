"""The surface in /api/schema/: its own tag, scheme and `Aitronos` components; every example
valid for the schema it illustrates (response examples) or accepted by the service (request
examples); real answers, errors included, as documented."""

import io
import json

import pytest
import requests
import schemathesis
from django.core.management import call_command
from schemathesis.core.failures import Failure, FailureGroup

from calendars.aitronos import examples
from tests.factories import MeetingFactory, OAuthAppFactory
from tests.test_schema import assert_documented, operations

from .conftest import BASE

TAG = "Aitronos meeting-buddy compatible"


@pytest.fixture(scope="module")
def raw_schema(django_db_blocker) -> dict:
    out = io.StringIO()
    with django_db_blocker.unblock():
        call_command(
            "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out
        )
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def schema(raw_schema):
    return schemathesis.openapi.from_dict(raw_schema)


def aitronos_operations(raw_schema):
    return [op for op in operations(raw_schema) if op[0].startswith(f"{BASE}/")]


def refs(node) -> set[str]:
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        found = {ref.rsplit("/", 1)[1]} if ref.startswith("#/components/schemas/") else set()
        return found.union(*(refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(value) for value in node))
    return set()


def test_every_operation_is_tagged_and_takes_the_bearer_token(raw_schema):
    found = aitronos_operations(raw_schema)
    assert {(method, path.removeprefix(BASE)) for path, method, _ in found} == {
        ("get", "/calendar/connections/"),
        ("post", "/calendar/connections/"),
        ("delete", "/calendar/connections/{credential_id}/"),
        ("get", "/calendar/events/"),
        ("get", "/calendar/events/{event_id}/"),
        ("post", "/calendar/sync/"),
        ("get", "/auto-join/rules/"),
        ("post", "/auto-join/rules/"),
        ("get", "/auto-join/rules/{rule_id}/"),
        ("patch", "/auto-join/rules/{rule_id}/"),
        ("delete", "/auto-join/rules/{rule_id}/"),
    }
    scheme = raw_schema["components"]["securitySchemes"]["AitronosBearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, method, operation in found:
        where = f"{method} {path}"
        assert operation["tags"] == [TAG], where
        assert operation["security"] == [{"AitronosBearer": []}], where
        assert operation["operationId"].startswith("aitronos_"), where
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                body = response["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/AitronosError"}, (where, status)
                assert "`invalid_request_data`" not in response["description"], (where, status)


def test_components_carry_the_prefix(raw_schema):
    components = raw_schema["components"]["schemas"]
    used, todo = set(), set()
    for _, _, operation in aitronos_operations(raw_schema):
        todo |= refs(operation)
    while todo:
        name = todo.pop()
        used.add(name)
        todo |= refs(components[name]) - used
    assert used and all(name.startswith("Aitronos") for name in used), sorted(used)
    # Aitronos's names, not ours, in the enums the surface documents.
    assert components["AitronosCalendarProvider"]["enum"] == [
        "google_calendar",
        "outlook_calendar",
        "zoom",
        "apple_calendar",
    ]
    assert set(components["AitronosAutoJoinStatus"]["enum"]) == {
        "pending",
        "scheduled",
        "joined",
        "skipped",
        "failed",
    }


def documented_examples(raw_schema):
    for path, method, operation in aitronos_operations(raw_schema):
        for status, response in operation["responses"].items():
            content = response.get("content", {}).get("application/json", {})
            for name, example in content.get("examples", {}).items():
                yield path, method, int(status), name, example["value"]


def test_every_response_example_matches_its_schema(schema, raw_schema):
    seen = 0
    for path, method, status, name, value in documented_examples(raw_schema):
        request = requests.Request(method.upper(), f"http://testserver{path}").prepare()
        wire = schemathesis.Response(
            status_code=status,
            headers={"Content-Type": ["application/json"], "X-Request-ID": ["abc-123-def"]},
            content=json.dumps(value).encode(),
            request=request,
            elapsed=0.0,
            verify=True,
        )
        try:
            schema[path][method.upper()].validate_response(wire)
        except (Failure, FailureGroup) as exc:
            pytest.fail(f"{method.upper()} {path} {status} example {name!r}: {exc}")
        seen += 1
    assert seen >= 15


def test_seed_002_examples_are_documented(raw_schema):
    sync = raw_schema["paths"][f"{BASE}/calendar/sync/"]["post"]["responses"]
    values = [e["value"] for e in sync["200"]["content"]["application/json"]["examples"].values()]
    assert {"synced_calendars": 2, "new_events": 15, "updated_events": 3, "errors": []} in values
    unauthorized = sync["401"]["content"]["application/json"]["examples"]["Unauthorized"]
    assert unauthorized["value"]["error"]["code"] == "AUTHENTICATION_REQUIRED"


def test_request_examples_are_accepted(buddy, dana):
    OAuthAppFactory(project=dana.project, platform="google")
    for example in examples.CONNECT:
        if example.request_only:
            response = buddy.post(f"{BASE}/calendar/connections", example.value, format="json")
            assert response.status_code == 200, response.json()
    (create,) = [e for e in examples.CREATE_RULE if e.request_only]
    created = buddy.post(f"{BASE}/auto-join/rules", create.value, format="json")
    assert created.status_code == 201, created.json()
    (update,) = [e for e in examples.UPDATE_RULE if e.request_only]
    rule = f"{BASE}/auto-join/rules/{created.json()['id']}"
    assert buddy.patch(rule, update.value, format="json").status_code == 200


def test_real_answers_are_documented(schema, buddy, anon, google_calendar):
    meeting = MeetingFactory(calendar=google_calendar, organizer_email="", meeting_url=None)
    rule = buddy.post(f"{BASE}/auto-join/rules", {"name": "All"}, format="json")
    rule_id = rule.json()["id"]
    answers = [
        ("/calendar/connections/", "get", buddy.get(f"{BASE}/calendar/connections")),
        ("/calendar/events/", "get", buddy.get(f"{BASE}/calendar/events")),
        ("/calendar/events/", "get", buddy.get(f"{BASE}/calendar/events", {"limit": 0})),
        ("/calendar/events/{event_id}/", "get", buddy.get(f"{BASE}/calendar/events/{meeting.pk}")),
        ("/calendar/sync/", "post", anon.post(f"{BASE}/calendar/sync")),
        ("/auto-join/rules/", "post", rule),
        ("/auto-join/rules/", "get", buddy.get(f"{BASE}/auto-join/rules")),
        (
            "/auto-join/rules/{rule_id}/",
            "patch",
            buddy.patch(f"{BASE}/auto-join/rules/{rule_id}", {"timezone": "x"}, format="json"),
        ),
        (
            "/calendar/connections/",
            "post",
            buddy.post(f"{BASE}/calendar/connections", {"provider": "zoom"}, format="json"),
        ),
        (
            "/auto-join/rules/{rule_id}/",
            "delete",
            buddy.delete(f"{BASE}/auto-join/rules/{rule_id}"),
        ),
        (
            "/auto-join/rules/{rule_id}/",
            "get",
            buddy.get(f"{BASE}/auto-join/rules/{rule_id}"),
        ),
    ]
    for path, method, response in answers:
        assert_documented(schema, f"{BASE}{path}", method, response)

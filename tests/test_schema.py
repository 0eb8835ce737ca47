"""The OpenAPI schema generates cleanly and tells the truth: real responses are checked against
it with Schemathesis' own validator (the one the CI fuzz step uses)."""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
import schemathesis
from django.core.management import call_command
from schemathesis.core.failures import Failure, FailureGroup

from tests.factories import CalendarFactory, CalendarUserFactory, MeetingFactory

HTTP_METHODS = {"get", "put", "patch", "post", "delete"}
TOKEN_OPERATIONS = {"CalendarAuthToken", "AitronosBearer"}


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


def operations(raw_schema):
    for path, item in raw_schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def assert_documented(schema, path: str, method: str, response) -> None:
    """`response` (Django's test client) matches what the schema says of `method path`: its
    status is listed, its content type is the one documented for it, its body validates."""
    operation = schema.raw_schema["paths"][path][method]
    where = f"{method.upper()} {path} -> {response.status_code}"
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{where}: status not documented"
    content_type = response.get("Content-Type", "").split(";")[0]
    assert content_type in documented.get("content", {content_type: None}), where
    request = requests.Request(method.upper(), f"http://testserver{path}").prepare()
    headers: dict[str, list[str]] = {}
    for name, value in response.items():
        headers.setdefault(name, []).append(value)
    wire = schemathesis.Response(
        status_code=response.status_code,
        headers=headers,
        content=response.content,
        request=request,
        elapsed=0.0,
        verify=True,
    )
    try:
        schema[path][method.upper()].validate_response(wire)
    except (Failure, FailureGroup) as exc:
        pytest.fail(f"{where}: {exc}")


def test_openapi_schema_generates_without_warnings(raw_schema):
    assert raw_schema["openapi"].startswith("3")
    assert "ApiKey" in raw_schema["components"]["securitySchemes"]


def test_schema_and_docs_are_public(anon, db):
    assert anon.get("/api/schema/").status_code == 200
    docs = anon.get("/api/docs/")
    assert docs.status_code == 200
    assert "cdn" not in docs.content.decode().lower()  # assets are served locally


def test_error_envelope_is_a_component(raw_schema):
    error = raw_schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "detail", "request_id"}
    assert error["properties"]["errors"]["type"] == "object"


def test_every_operation_documents_its_error_statuses(raw_schema):
    for path, method, operation in operations(raw_schema):
        if path.endswith("_oauth_callback/"):
            continue  # browser pages, below
        # The Aitronos surface answers errors in Aitronos's envelope (calendars/aitronos/).
        envelope = "AitronosError" if path.startswith("/compat/aitronos/") else "Error"
        error_ref = {"$ref": f"#/components/schemas/{envelope}"}
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        for status in ("400", "503"):
            assert responses[status]["content"]["application/json"]["schema"] == error_ref, where
        assert "Retry-After" in responses["503"]["headers"], where
        schemes = {name for requirement in operation.get("security", []) for name in requirement}
        if schemes:
            assert "401" in responses, where
        if schemes & TOKEN_OPERATIONS:
            assert {"403", "404"} <= set(responses), where
        if "{" in path:
            assert "404" in responses, where
        if method in ("post", "put", "patch"):
            assert {"409", "413", "415"} <= set(responses), where
        if method == "delete":
            assert "409" in responses, where
        assert "500" not in responses, where


def test_domain_error_statuses_are_documented(raw_schema):
    paths = raw_schema["paths"]
    assert "409" in paths["/api/v1/calendars/"]["post"]["responses"]
    assert "502" in paths["/api/v1/calendars/raw/"]["post"]["responses"]
    assert "409" in paths["/api/v1/calendar_events/{id}/bot/"]["post"]["responses"]
    assert "409" in paths["/api/v1/webhooks/{id}/test/"]["post"]["responses"]
    assert "409" in paths["/api/v1/bots/{id}/status/"]["post"]["responses"]
    assert "404" in paths["/api/v1/calendar_events/"]["get"]["responses"]
    refresh = paths["/api/v1/calendar/meetings/refresh/"]["post"]["responses"]
    assert "Retry-After" in refresh["429"]["headers"]


def test_hosted_oauth_callbacks_are_documented(raw_schema):
    for path in (
        "/api/v1/calendar/google_oauth_callback/",
        "/api/v1/calendar/ms_oauth_callback/",
    ):
        operation = raw_schema["paths"][path]["get"]
        assert operation["security"] == []
        assert {"200", "302", "400"} <= set(operation["responses"])
        assert "text/html" in operation["responses"]["400"]["content"]


def test_oauth_callback_error_page_matches_the_schema(schema, anon, db):
    path = "/api/v1/calendar/google_oauth_callback/"
    response = anon.get(path, {"state": "not json", "code": "x"})
    assert response.status_code == 400
    assert_documented(schema, path, "get", response)


def test_delete_event_bot_answers_200_with_the_events(schema, raw_schema, acme):
    operation = raw_schema["paths"]["/api/v1/calendar_events/{id}/bot/"]["delete"]
    assert "204" not in operation["responses"]
    calendar = CalendarFactory(project=acme.project, calendar_user=None)
    start = datetime.now(UTC) + timedelta(hours=2)
    event = MeetingFactory(
        calendar=calendar,
        start_time=start,
        end_time=start + timedelta(minutes=30),
        meeting_url="https://meet.google.com/abc-defg-hij",
    )
    url = f"/api/v1/calendar_events/{event.pk}/bot/"
    scheduled = acme.client.post(url, {"bot_name": "Notes"}, format="json")
    assert scheduled.status_code == 200, scheduled.content
    assert_documented(schema, "/api/v1/calendar_events/{id}/bot/", "post", scheduled)
    response = acme.client.delete(url)
    assert response.status_code == 200
    assert [body["id"] for body in response.json()] == [str(event.pk)]
    assert_documented(schema, "/api/v1/calendar_events/{id}/bot/", "delete", response)


def test_calendar_without_email_matches_the_schema(schema, acme):
    user = CalendarUserFactory(project=acme.project, external_id="ext-1")
    calendar = CalendarFactory(project=acme.project, calendar_user=user, email="")
    response = acme.client.get(f"/api/v1/calendars/{calendar.pk}/")
    assert response.status_code == 200
    assert response.json()["email"] == ""
    assert_documented(schema, "/api/v1/calendars/{id}/", "get", response)
    users = acme.client.get("/api/v1/calendar_users/ext-1/")
    assert_documented(schema, "/api/v1/calendar_users/{external_id}/", "get", users)


def test_v1_users_list_matches_the_schema_in_both_shapes(schema, acme):
    user = CalendarUserFactory(project=acme.project)
    CalendarFactory(project=acme.project, calendar_user=user, email="")
    plain = acme.client.get("/api/v1/calendar/users/")
    assert isinstance(plain.json(), list)
    assert_documented(schema, "/api/v1/calendar/users/", "get", plain)
    page = acme.client.get("/api/v1/calendar/users/?paginate=true")
    assert set(page.json()) == {"next", "previous", "results"}
    assert_documented(schema, "/api/v1/calendar/users/", "get", page)


def test_error_responses_match_the_schema(schema, acme, anon):
    unknown = "00000000-0000-0000-0000-000000000000"
    not_found = acme.client.get(f"/api/v1/calendars/{unknown}/")
    assert not_found.status_code == 404
    assert_documented(schema, "/api/v1/calendars/{id}/", "get", not_found)
    invalid = acme.client.post("/api/v1/calendars/", {"platform": "nope"}, format="json")
    assert invalid.status_code == 400
    assert json.loads(invalid.content)["errors"]["platform"]
    assert_documented(schema, "/api/v1/calendars/", "post", invalid)
    unauthenticated = anon.get("/api/v1/calendars/")
    assert unauthenticated.status_code == 401
    assert_documented(schema, "/api/v1/calendars/", "get", unauthenticated)


def test_the_checks_catch_what_the_schema_does_not_say(schema, acme):
    """The helper is not a rubber stamp: an undocumented status, content type or body fails."""
    response = acme.client.get("/api/v1/calendars/")
    response.status_code = 500
    with pytest.raises(AssertionError, match="500: status not documented"):
        assert_documented(schema, "/api/v1/calendars/", "get", response)
    response.status_code = 200
    response["Content-Type"] = "text/html"
    with pytest.raises(AssertionError, match="200"):
        assert_documented(schema, "/api/v1/calendars/", "get", response)
    response["Content-Type"] = "application/json"
    response.content = b'{"results": "not a list"}'
    with pytest.raises(pytest.fail.Exception, match="200"):
        assert_documented(schema, "/api/v1/calendars/", "get", response)


def test_request_bodies_are_as_strict_as_the_serializers(raw_schema):
    """Unknown keys are refused (one policy for every write), and JSON fields that take only an
    object say so, so a client generated from the schema sends what the service accepts."""
    schemas = raw_schema["components"]["schemas"]
    create = schemas["CalendarCreateRequest"]
    assert create["additionalProperties"] is False
    assert create["properties"]["metadata"]["type"] == "object"
    assert schemas["BotCreateRequest"]["properties"]["bot_config"]["type"] == "object"
    assert schemas["PatchedProjectRequest"]["properties"]["bot_config"]["type"] == "object"
    assert schemas["AuthenticateRequest"]["additionalProperties"] is False


def test_an_unknown_key_is_refused_as_the_schema_says(acme):
    response = acme.client.post(
        "/api/v1/calendar/authenticate/", {"user_id": "u1", "usr_id": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"usr_id": ["Unknown field."]}


def test_refusing_to_revoke_the_last_key_is_documented(schema, acme):
    """The fuzz step leaves key revocation out (it could revoke its own key): checked here."""
    response = acme.client.delete(f"/api/v1/api_keys/{acme.api_key.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "last_active_key"
    assert_documented(schema, "/api/v1/api_keys/{id}/", "delete", response)


def test_v1_meeting_patch_documents_the_required_field(raw_schema, acme):
    """PATCH validates like PUT (Recall clients send the one writable key): the schema shows
    the PUT body for both, not an all-optional one the service would refuse."""
    operation = raw_schema["paths"]["/api/v1/calendar/meetings/{meeting_id}/"]["patch"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = raw_schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert body["required"] == ["override_should_record"]


def test_components_do_not_inherit_a_base_class_docstring(raw_schema):
    for name, component in raw_schema["components"]["schemas"].items():
        assert "A key the resource does not have" not in component.get("description", ""), name


def test_every_response_documents_the_request_id_header(raw_schema, acme):
    for path, _method, operation in operations(raw_schema):
        for status, response in operation["responses"].items():
            header = response["headers"]["X-Request-ID"]
            assert header == {"$ref": "#/components/headers/X-Request-ID"}, (path, status)
    assert raw_schema["components"]["headers"]["X-Request-ID"]["required"] is True
    response = acme.client.get("/api/v1/calendars/", HTTP_X_REQUEST_ID="fuzz-req-0001")
    assert response["X-Request-ID"] == "fuzz-req-0001"

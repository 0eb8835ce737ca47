"""Bad input answers a 4xx in the error envelope, never a 500 (issue 13, section 3). Each class
is fixed where every request passes: route ids, cursor decoding, the body and query guard, the
one exception handler."""

import base64
import json
import uuid

import pytest
from django.urls import NoReverseMatch, get_resolver, reverse
from rest_framework import pagination as drf_pagination

from calendars.models import CalendarUser
from config.api.pagination import CursorPagination
from config.api.parsers import MAX_JSON_DEPTH
from tests.calendars.conftest import token_client
from tests.factories import (
    BotFactory,
    CalendarFactory,
    MeetingFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)

from .test_errors import assert_envelope

BAD_UUIDS = ["-" * 36, "g" * 32, "0" * 35 + "-", "00000000-0000-0000-0000-00000000000z"]


# --- Ids in paths --------------------------------------------------------------------------------


def _id_routes():
    """Every named route with an id parameter (`pk`, `..._id`; a customer's `external_id` is not
    ours), with its parameter names."""
    resolver = get_resolver()
    for name in resolver.reverse_dict:
        if not isinstance(name, str):
            continue
        for possibility, *_ in resolver.reverse_dict.getlist(name):
            for _, params in possibility:
                ids = [p for p in params if p == "pk" or (p.endswith("_id") and p != "external_id")]
                if ids:
                    yield name, params, ids


def test_every_route_id_matches_only_uuids():
    routes = list(_id_routes())
    assert {"calendar-meeting", "webhook-delivery-retry", "bot-detail", "api-key-detail"} <= {
        name for name, _, _ in routes
    }
    for name, params, ids in routes:
        good = {param: str(uuid.uuid4()) for param in params}
        reverse(name, kwargs=good)
        reverse(name, kwargs={**good, **{p: uuid.UUID(good[p]).hex for p in ids}})  # no dashes
        for param in ids:
            for bad in BAD_UUIDS:
                with pytest.raises(NoReverseMatch):
                    reverse(name, kwargs={**good, param: bad})


def test_router_uses_the_uuid_pattern_whatever_the_viewset_says():
    from rest_framework import viewsets

    from config.api.routers import OptionalSlashRouter
    from webhooks.models import WebhookEndpoint

    class LooseViewSet(viewsets.GenericViewSet):
        queryset = WebhookEndpoint.objects.all()
        lookup_value_regex = "[0-9a-fA-F-]{36}"

        def retrieve(self, request, pk=None):
            raise AssertionError("not reached")

    router = OptionalSlashRouter()
    router.register("things", LooseViewSet, basename="thing")
    (detail,) = [url for url in router.urls if url.name == "thing-detail"]
    assert detail.pattern.match("things/" + str(uuid.uuid4()))
    assert not detail.pattern.match("things/" + "-" * 36)


@pytest.fixture
def alice(acme):
    return CalendarUser.objects.create(project=acme.project, external_id="alice")


def test_v1_meeting_id_that_is_not_a_uuid_is_404(alice):
    client = token_client(alice)
    for bad in BAD_UUIDS:
        assert_envelope(client.get(f"/api/v1/calendar/meetings/{bad}/"), 404, "not_found")
        response = client.patch(
            f"/api/v1/calendar/meetings/{bad}", {"override_should_record": True}, format="json"
        )
        assert_envelope(response, 404, "not_found")


def test_v1_meeting_id_without_dashes_still_works(alice):
    meeting = MeetingFactory(calendar=CalendarFactory(project=alice.project, calendar_user=alice))
    response = token_client(alice).get(f"/api/v1/calendar/meetings/{meeting.pk.hex}/")
    assert response.status_code == 200
    assert response.json()["id"] == str(meeting.pk)


def test_server_api_ids_that_are_not_uuids_are_404(acme):
    endpoint = WebhookEndpointFactory(project=acme.project)
    for bad in BAD_UUIDS:
        for method, url in [
            ("get", f"/api/v1/calendars/{bad}/"),
            ("post", f"/api/v1/calendars/{bad}/sync/"),
            ("get", f"/api/v1/calendar_events/{bad}/"),
            ("post", f"/api/v1/calendar_events/{bad}/bot/"),
            ("get", f"/api/v1/bots/{bad}/"),
            ("post", f"/api/v1/bots/{bad}/status/"),
            ("get", f"/api/v1/webhooks/{bad}/"),
            ("get", f"/api/v1/api_keys/{bad}/"),
            ("post", f"/api/v1/webhooks/{endpoint.pk}/deliveries/{bad}/retry/"),
        ]:
            response = getattr(acme.client, method)(url, {}, format="json")
            assert_envelope(response, 404, "not_found")


def test_retrying_a_delivery_that_does_not_exist_is_404(acme, globex):
    endpoint = WebhookEndpointFactory(project=acme.project)
    foreign = WebhookDeliveryFactory(endpoint=WebhookEndpointFactory(project=globex.project))
    for delivery_id in (uuid.uuid4(), foreign.pk):
        response = acme.client.post(
            f"/api/v1/webhooks/{endpoint.pk}/deliveries/{delivery_id}/retry/"
        )
        assert_envelope(response, 404, "not_found")


# --- Cursors -------------------------------------------------------------------------------------


def cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


TAMPERED_CURSORS = {
    "not base64": "abc",
    "position not a date": cursor("p=notadate"),
    "position a huge number": cursor("p=" + "9" * 40),
    "naive position": cursor("p=2020-01-01 00:00:00"),
    "position out of range in UTC": cursor("p=0001-01-01 00:00:00+05:00"),
    "NUL in position": cursor("p=2020-01-01 00:00:00+00:00\x00"),
    "negative offset": cursor("o=-1&p=2020-01-01 00:00:00+00:00"),
    "reverse not a number": cursor("r=yes"),
}


@pytest.fixture
def cursor_lists(acme, alice):
    """Every cursor-paginated list, each with a row or two."""
    endpoint = WebhookEndpointFactory(project=acme.project)
    WebhookDeliveryFactory(endpoint=endpoint)
    calendar = CalendarFactory(project=acme.project, calendar_user=alice)
    MeetingFactory(calendar=calendar)
    BotFactory(project=acme.project)
    return [
        "/api/v1/calendars/",
        "/api/v1/calendar_events/",
        "/api/v1/calendar_events/?ordering=-end_time",
        "/api/v1/calendar_events/?updated_at_gte=2020-01-01T00:00:00Z",
        "/api/v1/calendar_users/",
        "/api/v1/bots/",
        f"/api/v1/webhooks/{endpoint.pk}/deliveries/",
        "/api/v1/calendar/users/?paginate=true",
    ]


@pytest.mark.parametrize("tampered", TAMPERED_CURSORS.values(), ids=TAMPERED_CURSORS.keys())
def test_tampered_cursor_is_400_on_every_cursor_list(acme, cursor_lists, tampered):
    for url in cursor_lists:
        separator = "&" if "?" in url else "?"
        response = acme.client.get(f"{url}{separator}cursor={tampered}")
        body = assert_envelope(response, 400, "invalid_cursor")
        assert "cursor" in body["message"]


def test_cursors_we_make_still_work(acme):
    calendars = {str(CalendarFactory(project=acme.project).pk) for _ in range(3)}
    seen, url = [], "/api/v1/calendars/?page_size=1"
    while url:
        page = acme.client.get(url).json()
        seen += [calendar["id"] for calendar in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(calendars)
    previous = acme.client.get(page["previous"])
    assert previous.status_code == 200 and previous.json()["results"]


def test_every_cursor_pagination_is_the_checked_one():
    import config.urls  # noqa: F401  (imports every view)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [
        cls
        for cls in subclasses(drf_pagination.CursorPagination)
        if cls.__module__.split(".")[0] not in ("rest_framework", "tests")
    ]
    assert len(ours) >= 5
    assert all(issubclass(cls, CursorPagination) for cls in ours), ours


# --- NUL characters and unpaired surrogates ------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"bot_config": {"bot_name": "x\u0000y"}},
        {"bot_config": {"key\u0000": "value"}},
        {"bot_config": {"nested": ["fine", {"deeper": "\u0000"}]}},
        {"bot_config": {"name": "\ud800"}},
    ],
    ids=["in a value", "in a key", "nested", "unpaired surrogate"],
)
def test_unstorable_json_strings_are_400(acme, body):
    # json.dumps writes both as \u escapes, as a client's JSON library would.
    response = acme.client.patch(
        "/api/v1/project/", json.dumps(body), content_type="application/json"
    )
    body = assert_envelope(response, 400, "invalid_request")
    assert "NUL" in body["message"]


def test_nul_in_calendar_metadata_is_400(acme):
    calendar = CalendarFactory(project=acme.project)
    response = acme.client.patch(
        f"/api/v1/calendars/{calendar.pk}/",
        {"metadata": {"note": "a\u0000b"}},
        format="json",
    )
    assert_envelope(response, 400, "invalid_request")
    calendar.refresh_from_db()
    assert "note" not in (calendar.metadata or {})


def test_escaped_backslash_u0000_is_text_not_nul(acme):
    calendar = CalendarFactory(project=acme.project)
    response = acme.client.patch(
        f"/api/v1/calendars/{calendar.pk}/", {"metadata": {"note": "\\u0000"}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["metadata"] == {"note": "\\u0000"}


def test_nul_in_query_and_path_is_400(acme, alice):
    for response in (
        acme.client.get("/api/v1/calendar/users/?email=%00"),
        acme.client.get("/api/v1/calendars/?deduplication_key=a%00b"),
        acme.client.get("/api/v1/calendar_users/%00/"),
        token_client(alice).get("/api/v1/calendar/meetings/?ical_uid=%00"),
    ):
        body = assert_envelope(response, 400, "invalid_request")
        assert "NUL" in body["message"]


def test_nul_outside_the_api_is_a_plain_400(admin_client):
    response = admin_client.get("/admin/projects/project/?q=%00")
    assert response.status_code == 400


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1.5e400"])
def test_numbers_beyond_a_double_are_400(acme, number):
    # Python reads them as infinity, which jsonb refuses and no JSON response can carry.
    response = acme.client.patch(
        "/api/v1/project/", f'{{"bot_config": {{"x": {number}}}}}', content_type="application/json"
    )
    body = assert_envelope(response, 400, "invalid_request")
    assert "range" in body["message"]


def test_ordinary_numbers_are_fine(acme):
    from config.api.parsers import loads

    assert loads('{"a": 1.5e300, "b": -2.0, "c": 12345678901234567890}') == {
        "a": 1.5e300,
        "b": -2.0,
        "c": 12345678901234567890,
    }


# --- Nesting -------------------------------------------------------------------------------------


def nested(depth: int) -> str:
    """A JSON object `depth` levels deep in all (the body's own braces included)."""
    return '{"metadata": ' + '{"a": ' * (depth - 2) + "{}" + "}" * (depth - 2) + "}"


def test_json_nested_a_thousand_levels_is_400(acme):
    response = acme.client.patch(
        "/api/v1/project/",
        '{"bot_config": ' + "[" * 1000 + "]" * 1000 + "}",
        content_type="application/json",
    )
    body = assert_envelope(response, 400, "invalid_request")
    assert str(MAX_JSON_DEPTH) in body["message"]


def test_nesting_limit_is_exact(acme):
    calendar = CalendarFactory(project=acme.project)
    url = f"/api/v1/calendars/{calendar.pk}/"
    deepest = acme.client.patch(url, nested(MAX_JSON_DEPTH), content_type="application/json")
    # The view saw it (the metadata rules may refuse it: that is their answer, not ours).
    assert deepest.status_code in (200, 400)
    assert deepest.json().get("code") != "invalid_request"
    too_deep = acme.client.patch(url, nested(MAX_JSON_DEPTH + 1), content_type="application/json")
    assert_envelope(too_deep, 400, "invalid_request")


def test_deep_json_to_a_plain_view_is_400(anon, db):
    # The Graph push receiver parses its body itself: the guard runs before it.
    response = anon.post(
        "/api/v1/push/microsoft/", "[" * 5000 + "]" * 5000, content_type="application/json"
    )
    assert_envelope(response, 400, "invalid_request")


def test_malformed_json_is_still_a_parse_error(acme):
    response = acme.client.patch(
        "/api/v1/project/", '{"bot_config": [[[', content_type="application/json"
    )
    assert_envelope(response, 400, "parse_error")


# --- Size ----------------------------------------------------------------------------------------


def test_body_over_the_upload_limit_is_413(acme, settings):
    body = json.dumps({"bot_config": {"pad": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}})
    response = acme.client.patch("/api/v1/project/", body, content_type="application/json")
    body = assert_envelope(response, 413, "payload_too_large")
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in body["message"]


def test_body_just_under_the_limit_is_read(acme, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    body = json.dumps({"unknown_padding": "x" * 150})
    assert len(body) <= 200
    response = acme.client.patch("/api/v1/project/", body, content_type="application/json")
    assert response.status_code == 400  # read and validated: an unknown field
    assert response.json()["code"] == "invalid_request_data"


def test_content_length_that_is_not_a_number_is_400(acme):
    response = acme.client.generic(
        "PATCH", "/api/v1/project/", b"{}", "application/json", CONTENT_LENGTH="ten"
    )
    assert_envelope(response, 400, "invalid_request")


def test_too_many_query_fields_is_400(acme, settings):
    query = "&".join(["state=connected"] * (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    assert_envelope(acme.client.get(f"/api/v1/calendars/?{query}"), 400, "invalid_request")


# --- Rows that disappear under a request ------------------------------------------------------------


USER_URL = "/api/v1/calendar/user/"


def _delete_first(monkeypatch, target: str, calendar_user):
    """Run `target` only after another request deleted the user (a DELETE that won the race)."""
    from calendars import services

    module_name, name = target.rsplit(".", 1)
    module = __import__(module_name, fromlist=[name])
    original = getattr(module, name)

    def racing(*args, **kwargs):
        services.calendar_user_delete(calendar_user=CalendarUser.objects.get(pk=calendar_user.pk))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, racing)


@pytest.mark.parametrize(
    "target",
    ["calendars.services.calendar_user_update", "calendars.recall_v1.views.user_response"],
    ids=["deleted before the update", "deleted after the update"],
)
def test_patching_a_user_deleted_meanwhile_is_404(alice, monkeypatch, target):
    client = token_client(alice)
    _delete_first(monkeypatch, target, alice)
    response = client.patch(USER_URL, {"preferences": {"record_external": True}}, format="json")
    assert_envelope(response, 404, "not_found")
    assert not CalendarUser.objects.filter(pk=alice.pk).exists()  # not brought back


@pytest.mark.urls("tests.config.urls")
@pytest.mark.parametrize("name", ["does-not-exist", "update-of-deleted-row"])
def test_row_gone_is_404_for_every_view(anon, db, name):
    assert_envelope(anon.get(f"/api/test/raise/{name}/"), 404, "not_found")


@pytest.mark.urls("tests.config.urls")
def test_http404_from_a_plain_view_is_404_not_500(anon, db):
    assert_envelope(anon.get("/api/test/plain-not-found/"), 404, "not_found")


@pytest.mark.urls("tests.config.urls")
def test_database_input_errors_are_4xx(anon, db):
    assert_envelope(anon.patch("/api/test/raise/data-error/"), 400, "invalid_request")
    body = assert_envelope(anon.patch("/api/test/raise/integrity-error/"), 409, "conflict")
    assert "duplicate key" not in body["message"]  # the database's words stay in the log


@pytest.mark.urls("tests.config.urls")
def test_other_database_errors_stay_500(anon, db):
    assert_envelope(anon.get("/api/test/raise/other-database-error/"), 500, "internal_error")

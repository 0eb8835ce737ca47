"""One error shape everywhere under /api/, and nothing outside it (issue 13, section 6)."""

import logging

import pytest
from django.test import Client

from config.logging import RequestIdFilter

from .test_errors import Collect, assert_envelope

CALLBACKS = ["/api/v1/calendar/google_oauth_callback/", "/api/v1/calendar/ms_oauth_callback"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_schema_refuses_other_methods_in_the_envelope(anon, db, method):
    response = getattr(anon, method)("/api/schema/")
    assert_envelope(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_schema_itself_is_still_yaml_or_json(anon, db):
    assert anon.get("/api/schema/")["Content-Type"].startswith("application/vnd.oai.openapi")
    assert anon.get("/api/schema/?format=json")["Content-Type"].startswith(
        "application/vnd.oai.openapi+json"
    )


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("url", CALLBACKS)
def test_oauth_callbacks_answer_405_not_csrf_403(db, url, method):
    browser = Client(enforce_csrf_checks=True)
    response = getattr(browser, method)(url)
    assert_envelope(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"


def test_oauth_callback_get_is_still_a_page(db):
    response = Client(enforce_csrf_checks=True).get(CALLBACKS[0])
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("debug", [True, False])
def test_bad_host_under_api_is_the_envelope(anon, db, settings, debug):
    settings.DEBUG = debug
    response = anon.get("/api/v1/project/", HTTP_HOST="evil.example.net")
    body = assert_envelope(response, 400, "invalid_request")
    assert "Host" in body["message"]


@pytest.fixture
def django_request_log():
    handler = Collect()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


@pytest.mark.urls("tests.config.urls")
def test_django_request_log_lines_carry_the_request_id(anon, db, django_request_log):
    response = anon.get("/api/test/crash/", HTTP_X_REQUEST_ID="trace-crash-0001")
    assert response.status_code == 500
    assert django_request_log, "Django logs a 5xx on django.request"
    assert {record.request_id for record in django_request_log} == {"trace-crash-0001"}


def test_log_lines_outside_a_request_say_so():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "no request here", None, None)
    RequestIdFilter().filter(record)
    assert record.request_id == "-"


def test_browser_can_read_refusals_on_calendar_token_routes(db):
    """Errors made outside the views keep the CORS headers of the browser routes."""
    origin = {"HTTP_ORIGIN": "https://app.example.com"}
    browser = Client()
    refused = browser.get("/api/v1/calendar/meetings/?ical_uid=%00", **origin)
    assert_envelope(refused, 400, "invalid_request")
    unknown = browser.get("/api/v1/calendar/no-such-route/", **origin)
    assert_envelope(unknown, 404, "not_found")
    for response in (refused, unknown):
        assert response["Access-Control-Allow-Origin"] in ("*", origin["HTTP_ORIGIN"])

import logging

import pytest

from config.logging import RequestIdFilter


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert body["detail"] == body["message"]
    assert body["request_id"] == response["X-Request-ID"]
    return body


def test_400_validation_has_field_errors(acme):
    response = acme.client.patch("/api/v1/project/", {"sync_days_future": 0}, format="json")
    body = assert_envelope(response, 400, "invalid_request_data")
    assert "sync_days_future" in body["errors"]


def test_400_malformed_json(acme):
    response = acme.client.patch("/api/v1/project/", "{not json", content_type="application/json")
    body = assert_envelope(response, 400, "parse_error")
    assert "errors" not in body


def test_401(anon, db):
    assert_envelope(anon.get("/api/v1/project/"), 401, "not_authenticated")


def test_404_from_drf(acme):
    response = acme.client.get("/api/v1/api_keys/00000000-0000-0000-0000-000000000000/")
    assert_envelope(response, 404, "not_found")


def test_404_from_django_router_is_json_under_api(anon, db):
    assert_envelope(anon.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_404_outside_api_is_not_json(anon, db):
    response = anon.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_405_from_drf(acme):
    response = acme.client.delete("/api/v1/project/")
    assert_envelope(response, 405, "method_not_allowed")


@pytest.mark.urls("tests.config.urls")
def test_405_from_plain_django_view_is_json(anon, db):
    response = anon.get("/api/test/post-only/")
    assert_envelope(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


@pytest.mark.urls("tests.config.urls")
def test_500_is_json_and_does_not_leak(anon, db, caplog):
    response = anon.get("/api/test/crash/")
    body = assert_envelope(response, 500, "internal_error")
    assert "boom" not in response.content.decode()
    assert body["request_id"] in body["message"] or body["request_id"]
    assert any("Unhandled error" in r.getMessage() for r in caplog.records)


def test_incoming_request_id_is_kept_and_bad_one_replaced(anon, db):
    kept = anon.get("/api/v1/nothing/", HTTP_X_REQUEST_ID="req-1234567890")
    assert kept["X-Request-ID"] == "req-1234567890"
    assert kept.json()["request_id"] == "req-1234567890"
    replaced = anon.get("/api/v1/nothing/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert replaced["X-Request-ID"] != "bad id\nwith newline"
    assert len(replaced["X-Request-ID"]) == 32


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []
        self.addFilter(RequestIdFilter())

    def emit(self, record):
        self.records.append(record)


def test_request_log_line_carries_request_id_and_project(acme):
    handler = Collect()
    logger = logging.getLogger("calsync.request")
    logger.addHandler(handler)
    try:
        response = acme.client.get("/api/v1/project/", HTTP_X_REQUEST_ID="trace-abcdefgh")
    finally:
        logger.removeHandler(handler)
    (record,) = handler.records
    assert record.request_id == "trace-abcdefgh" == response["X-Request-ID"]
    assert record.project_id == str(acme.project.id)
    assert (record.method, record.path, record.status) == ("GET", "/api/v1/project/", 200)

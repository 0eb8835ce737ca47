import io

from django.core.management import call_command


def test_openapi_schema_generates_without_warnings(db):
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = out.getvalue()
    assert "openapi: 3" in schema
    assert "ApiKey" in schema


def test_schema_and_docs_are_public(anon, db):
    assert anon.get("/api/schema/").status_code == 200
    docs = anon.get("/api/docs/")
    assert docs.status_code == 200
    assert "cdn" not in docs.content.decode().lower()  # assets are served locally

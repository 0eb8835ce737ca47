from config import views


def test_healthz_ok(anon, db):
    response = anon.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["queue"]["ok"] is True
    assert body["checks"]["queue"]["broker"] in ("orm", "redis")


def test_healthz_reports_a_failing_dependency(anon, db, monkeypatch):
    def broken():
        raise ConnectionError("down")

    monkeypatch.setitem(views.CHECKS, "queue", broken)
    response = anon.get("/healthz/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["queue"] == {"ok": False, "error": "ConnectionError", "broker": "orm"}
    assert body["checks"]["database"]["ok"] is True


def test_healthz_database_down(anon, db, monkeypatch):
    def broken():
        raise OSError("db unreachable")

    monkeypatch.setitem(views.CHECKS, "database", broken)
    assert anon.get("/healthz").status_code == 503

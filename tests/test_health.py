def test_healthz_is_ok_at_head(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "migrations": "head"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_reports_unmigrated_database(make_app, empty_db_url):
    response = make_app(empty_db_url).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["migrations"] == "behind"
    assert "db upgrade" in response.json["hint"]


def test_healthz_reports_unreachable_database(make_app, tmp_path):
    missing = tmp_path / "no-such-dir" / "db.sqlite3"
    response = make_app(f"sqlite:///{missing}").test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}

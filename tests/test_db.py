"""The request boundary commits once on success and rolls back on any error; SQLite is set up safely."""
import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from lti_tool import db
from lti_tool.errors import BadRequest
from lti_tool.people.models import District, School, User


def _routes(app):
    @app.post("/t/ok")
    def ok():
        db.session().add(District(slug="ok", name="Committed"))
        db.session().flush()
        return "ok"

    @app.post("/t/refused")
    def refused():
        db.session().add(District(slug="refused", name="Rolled back"))
        db.session().flush()
        raise BadRequest("no")

    @app.post("/t/crash")
    def crash():
        db.session().add(District(slug="crash", name="Rolled back"))
        db.session().flush()
        raise RuntimeError("boom")


def _slugs(session):
    session.expire_all()
    return set(session.scalars(select(District.slug)))


def test_success_commits_errors_roll_back(app, client, session):
    _routes(app)
    assert client.post("/t/ok").status_code == 200
    assert client.post("/t/refused").status_code == 400
    assert client.post("/t/crash").status_code == 500
    assert _slugs(session) == {"ok"}


def test_utc_datetimes_round_trip_as_aware(session):
    moment = datetime(2026, 11, 22, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    district = District(slug="tz", name="TZ", created_at=moment)
    session.add(district)
    session.commit()
    session.expire_all()
    stored = session.get(District, district.id).created_at
    assert stored.tzinfo is not None and stored == moment
    with pytest.raises(Exception, match="naive"):
        session.add(District(slug="naive", name="N", created_at=datetime(2026, 1, 1)))
        session.flush()
    session.rollback()


def test_user_identity_is_unique_per_issuer_and_subject(session):
    district = District(slug="d", name="D")
    session.add(district)
    session.flush()
    session.add(User(district_id=district.id, issuer="https://canvas.instructure.com", subject="abc"))
    session.add(User(district_id=district.id, issuer="https://other.example", subject="abc"))
    session.flush()
    session.add(User(district_id=district.id, issuer="https://canvas.instructure.com", subject="abc"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_school_codes_are_unique_within_a_district_only(session):
    one, two = District(slug="one", name="One"), District(slug="two", name="Two")
    session.add_all([one, two])
    session.flush()
    session.add_all([School(district_id=one.id, code="LES", name="A"), School(district_id=two.id, code="LES", name="B")])
    session.flush()
    session.add(School(district_id=one.id, code="LES", name="C"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_foreign_keys_are_enforced(session):
    session.add(School(district_id=999_999, code="X", name="Orphan"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_deleting_a_district_cascades_to_its_schools(session):
    district = District(slug="gone", name="Gone")
    session.add(district)
    session.flush()
    session.add(School(district_id=district.id, code="S", name="S"))
    session.commit()
    session.execute(text("DELETE FROM district WHERE slug = 'gone'"))
    session.commit()
    assert session.scalar(select(func.count()).select_from(School)) == 0


def test_sqlite_runs_with_wal_and_foreign_keys(make_app, sqlite_leg):
    url = sqlite_leg.fresh_url()
    app = make_app(url)
    with app.app_context():
        with db.engine().connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    sqlite_leg.drop(url)


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_a_new_sqlite_file_holding_private_keys_is_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "keys.sqlite3"
        engine = db.make_engine(f"sqlite:///{path}")
        with engine.begin() as connection:  # WAL: the -wal and -shm files appear now
            connection.exec_driver_sql("CREATE TABLE t (x)")
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
            assert {p.name for p in tmp_path.iterdir()} >= {"keys.sqlite3", "keys.sqlite3-wal", "keys.sqlite3-shm"}
            assert {_mode(p) for p in tmp_path.iterdir()} == {0o600}
        engine.dispose()
    finally:
        os.umask(old)


def test_an_existing_sqlite_file_readable_by_others_is_tightened(tmp_path):
    path = tmp_path / "old.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"old.sqlite3{suffix}").touch()
        (tmp_path / f"old.sqlite3{suffix}").chmod(0o644)
    db.make_engine(f"sqlite:///{path}").dispose()
    assert {_mode(p) for p in tmp_path.iterdir()} == {0o600}


def test_in_memory_sqlite_needs_no_file():
    engine = db.make_engine("sqlite://")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    engine.dispose()

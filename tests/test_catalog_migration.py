"""The catalog's data migrations on rows written before them: each MC and stack gets its published-version
pointer, and the policy values the old schema forced on every MC are removed so the district's rules apply."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command

from lti_tool.migrate import alembic_config
from tests.support import catalog_docs
from tests.support.migrations import database_at

FORCED = {"plan_approval": False, "attempts": 3, "cooldown_days": 30, "window_days": None}
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc).replace(tzinfo=None)


def _old(slug: str, version: int = 1, **policy) -> dict:
    """An MC document as the old schema required it: every policy value set, after the prerequisites."""
    document = {}
    for key, value in catalog_docs.mc(slug, version).items():
        document[key] = value
        if key == "prerequisites":
            document["policy"] = dict(FORCED, **policy)
    return document


def _rows(engine, sql: str) -> list:
    with engine.connect() as connection:
        return connection.execute(sa.text(sql)).all()


@pytest.fixture
def old_database(empty_db_url):
    """A database at revision 0005 holding a small catalog, as the previous release left it."""
    config = alembic_config(empty_db_url)
    engine, t = database_at(empty_db_url, "0005")
    version = {"title": "T", "summary": "S", "grade_band": "K-12", "topics": [], "effort_hours": 8, "created_at": NOW,
               "edit_lock": 1}
    documents = {1: _old("plain", 1), 2: _old("plain", 2), 3: _old("leader", plan_approval=True, attempts=5),
                 4: _old("untimed", window_days=0), 5: _old("draft-only")}
    with engine.begin() as connection:
        connection.execute(t["district"].insert(), [{"id": 1, "slug": "lakeside", "name": "Lakeside", "policy": {},
                                                     "created_at": NOW}])
        connection.execute(t["micro_credential"].insert(), [
            {"id": i, "district_id": 1, "slug": slug, "status": status, "created_at": NOW}
            for i, slug, status in ((1, "plain", "published"), (2, "leader", "retired"), (3, "untimed", "published"),
                                    (4, "draft-only", "draft"))])
        connection.execute(t["mc_version"].insert(), [
            dict(version, id=vid, mc_id=mc, number=number, state=state, document=documents[vid])
            for vid, mc, number, state in ((1, 1, 1, "superseded"), (2, 1, 2, "published"), (3, 2, 1, "published"),
                                           (4, 3, 1, "published"), (5, 4, 1, "draft"))])
        connection.execute(t["stack"].insert(), [{"id": 1, "district_id": 1, "slug": "s", "status": "published",
                                                  "created_at": NOW}])
        connection.execute(t["stack_version"].insert(), [
            {"id": 1, "stack_id": 1, "number": 1, "state": "published", "title": "S", "summary": "S",
             "document": catalog_docs.stack("s", ["plain"]), "created_at": NOW, "edit_lock": 1}])
    yield config, engine, documents
    engine.dispose()


def _documents(engine) -> dict[int, dict]:
    return {vid: json.loads(text) if isinstance(text, str) else text
            for vid, text in _rows(engine, "SELECT id, document FROM mc_version")}


def test_upgrade_points_at_published_versions_and_lets_the_district_rules_apply(old_database):
    config, engine, before = old_database
    command.upgrade(config, "head")
    assert _rows(engine, "SELECT id, published_version_id FROM micro_credential ORDER BY id") == [
        (1, 2), (2, 3), (3, 4), (4, None)]  # the retired MC keeps its version; a draft-only MC has none
    assert _rows(engine, "SELECT published_version_id FROM stack") == [(1,)]
    after = _documents(engine)
    assert len(after) == 5  # adding the column copied no table (a copy would cascade to the versions)
    assert "policy" not in after[1] and "policy" not in after[2] and "policy" not in after[5]
    assert after[3]["policy"] == {"plan_approval": True, "attempts": 5}  # the deliberate overrides stay
    assert after[4]["policy"] == {"window_days": "none"}  # 0 days was shown as "no window"
    assert {k: v for k, v in after[2].items() if k != "policy"} == {k: v for k, v in before[2].items()
                                                                     if k != "policy"}


def test_downgrade_writes_the_old_required_rules_back(old_database):
    config, engine, before = old_database
    command.upgrade(config, "head")
    command.downgrade(config, "0005")
    after = _documents(engine)
    for vid in (1, 2, 3, 5):
        assert json.dumps(after[vid]) == json.dumps(before[vid]), vid  # the same canonical text again
    assert after[4]["policy"]["window_days"] is None
    assert len(_rows(engine, "SELECT id FROM stack_version")) == 1

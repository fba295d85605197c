"""Migration 0008 on rows written before it: the sites of the stored course contexts' services become
frame origins, so pages a known Canvas site frames stay framable after the upgrade."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from tests.support.migrations import database_at, upgrade

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc).replace(tzinfo=None)


def test_course_context_sites_become_frame_origins(empty_db_url):
    engine, t = database_at(empty_db_url, "0007")
    with engine.begin() as connection:
        connection.execute(t["district"].insert(), [{"id": 1, "slug": "d", "name": "D", "policy": {},
                                                     "created_at": NOW}])
        connection.execute(t["lti_registration"].insert(), [{
            "id": 1, "district_id": 1, "name": "Canvas", "issuer": "https://canvas.instructure.com", "client_id": "1",
            "auth_login_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "auth_token_url": "https://sso.canvaslms.com/login/oauth2/token",
            "key_set_url": "https://sso.canvaslms.com/api/lti/security/jwks", "created_at": NOW}])
        connection.execute(t["lti_course_context"].insert(), [
            {"id": i, "district_id": 1, "registration_id": 1, "deployment_id": "1:d", "context_id": f"c{i}",
             "line_items_url": lines, "memberships_url": members, "updated_at": NOW}
            for i, lines, members in ((1, "https://Canvas.District.org/api/lti/courses/1/line_items",
                                       "https://canvas.district.org/api/lti/courses/1/names_and_roles"),
                                      (2, None, "https://lakeside.instructure.com/api/lti/courses/2/names_and_roles"),
                                      (3, "javascript:alert(1)", None))])
    upgrade(empty_db_url, "0008")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT registration_id, origin FROM lti_frame_origin ORDER BY origin")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(1, "https://canvas.district.org"), (1, "https://lakeside.instructure.com")]

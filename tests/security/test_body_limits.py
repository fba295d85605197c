"""Request bodies: 1 MiB everywhere, refused before they are read; upload endpoints raise it for themselves."""
from __future__ import annotations

import io
import re

import pytest

from lti_tool.lti.roles import Role
from lti_tool.security import UPLOAD_LIMITS, body_limit
from tests.support import factories

MiB = 1024 * 1024


class CountingBody(io.RawIOBase):
    """``size`` bytes of form data, counting how many the server reads."""

    def __init__(self, size: int) -> None:
        self.size, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b"a" * n
        self.read_bytes += n
        return n


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
@pytest.mark.parametrize("path", ["/lti/login", "/lti/launch"])
def test_a_2_mib_post_to_the_launch_endpoints_is_a_413_unread(client, path):
    body = CountingBody(2 * MiB)
    response = client.post(path, content_type="application/x-www-form-urlencoded",
                           environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(2 * MiB)})
    assert response.status_code == 413
    assert body.read_bytes == 0
    assert "more than Microcred accepts in one request (at most 1 MB here)" in response.text
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_a_body_without_a_length_is_cut_off_at_the_limit(client):
    """Chunked (no Content-Length; browsers never send forms so): Werkzeug stops reading at the limit, and the
    truncated form is refused like any other bad launch."""
    body = CountingBody(4 * MiB)
    response = client.post("/lti/launch", content_type="application/x-www-form-urlencoded",
                           environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True,
                                              "HTTP_TRANSFER_ENCODING": "chunked"})
    assert response.status_code in (400, 413)
    assert body.read_bytes <= MiB


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_json_callers_get_a_json_413(client):
    response = client.post("/lti/login", data=b"x" * (MiB + 1), content_type="application/json")
    assert response.status_code == 413 and response.json["error"] == "request_entity_too_large"


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_the_limits_by_endpoint(app):
    with app.test_request_context():
        assert body_limit("lti.launch") == body_limit(None) == MiB == app.config["MAX_CONTENT_LENGTH"]
        assert body_limit("catalog.import_documents") == 8 * MiB
    assert set(UPLOAD_LIMITS) <= set(app.view_functions)  # a renamed endpoint must not silently lose its limit


@pytest.fixture
def district_admin(client, session):
    district = factories.district(session)
    registration = factories.platform(session, district)
    token, _actor = factories.signed_in(session, registration, {Role.DISTRICT_ADMIN})
    session.commit()
    client.set_cookie("mc_session", token, domain="localhost")
    page = client.get("/catalog/manage/import")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_the_catalog_import_accepts_uploads_over_the_default_limit(client, district_admin):
    # 1.5 MiB is past the 1 MiB default: the view itself reads the file (and finds it is not UTF-8).
    response = client.post("/catalog/manage/import", content_type="multipart/form-data", data={
        "csrf_token": district_admin, "documents": [(io.BytesIO(b"\xff" * (3 * MiB // 2)), "big.json")]})
    assert response.status_code == 400 and "big.json is not UTF-8 text" in response.text


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_the_catalog_import_refuses_more_than_its_own_limit(client, district_admin):
    response = client.post("/catalog/manage/import", content_type="multipart/form-data", data={
        "csrf_token": district_admin, "documents": [(io.BytesIO(b"{}" * (9 * MiB // 2)), "huge.json")]})
    assert response.status_code == 413 and "at most 8 MB here" in response.text

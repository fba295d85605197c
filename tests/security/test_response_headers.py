"""Hardening headers: frame-ancestors names the registered platforms only, HSTS in production over https,
and no copy of a private page in any cache (static files stay cacheable)."""
from __future__ import annotations

import pytest

from config import ConfigError
from lti_tool import security
from lti_tool.lti import registry
from tests.support import factories

STRONG = "k3Jd8s-2LmQp9xVz7RtYw4NbC6hF1gAeUo5iX0Ws"
pytestmark = pytest.mark.parametrize("leg", ["sqlite"], indirect=True)


def _ancestors(response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    return policy.split("frame-ancestors ")[1].split(";")[0].split()


def test_frame_ancestors_are_this_site_and_the_registered_platforms(app, client, session):
    district = factories.district(session)
    factories.platform(session, district)  # Canvas cloud: issuer canvas.instructure.com, login sso.canvaslms.com
    registry.add_platform(session, district=district, name="Moodle", client_id="m1", deployment_ids=["1"],
                          endpoints=registry.PlatformEndpoints("https://moodle.district.org",
                                                               "https://moodle.district.org/mod/lti/auth.php",
                                                               "https://moodle.district.org/mod/lti/token.php",
                                                               "https://moodle.district.org/mod/lti/certs.php"))
    session.commit()
    ancestors = _ancestors(client.get("/no/such/page"))
    assert ancestors == ["'self'", "https://canvas.instructure.com", "https://moodle.district.org",
                         "https://sso.canvaslms.com"]
    assert "https:" not in ancestors and not any(a.startswith("http://") for a in ancestors)


def test_only_the_login_flow_may_be_framed_by_any_canvas_cloud_site(app, client, session):
    """The login and launch answers come before the tool knows which Canvas site frames it; they hold no session
    and nothing to click but "open in a new window". Every other page names exact sites, so another district's
    (or an attacker's own) Canvas cannot frame a signed-in page, though partitioned cookies are shared across
    *.instructure.com."""
    factories.platform(session, factories.district(session))
    session.commit()
    login = client.get("/lti/login", query_string={"iss": "https://canvas.instructure.com", "login_hint": "x",
                                                   "client_id": "10000000000001", "deployment_id": "1:deploy",
                                                   "lti_storage_target": "post_message_forwarding"},
                       headers={"Sec-Fetch-Dest": "iframe"})
    assert login.status_code == 200 and "https://*.instructure.com" in _ancestors(login)
    refused = client.post("/lti/launch", data={"id_token": "x", "state": "y"})
    assert "https://*.instructure.com" in _ancestors(refused)
    assert "https://*.instructure.com" not in _ancestors(client.get("/"))


def test_the_sites_launches_came_from_may_frame_the_tool(app, client, session):
    """Canvas on a district's own domain: launches come from there (return URL, services)."""
    from lti_tool.lti.models import FrameOrigin

    registration = factories.platform(session, factories.district(session))
    session.add(FrameOrigin(registration_id=registration.id, origin="https://canvas.district.org"))
    session.commit()
    assert "https://canvas.district.org" in _ancestors(client.get("/no/such/page"))


def test_frame_ancestors_are_cached_briefly_and_can_be_refreshed(app, client, session):
    assert _ancestors(client.get("/no/such/page")) == ["'self'"]
    factories.platform(session, factories.district(session))
    session.commit()
    assert _ancestors(client.get("/no/such/page")) == ["'self'"]  # cached (FRAME_ANCESTORS_TTL)
    security.forget_frame_ancestors(app)
    assert "https://canvas.instructure.com" in _ancestors(client.get("/no/such/page"))


def test_a_canvas_on_the_districts_own_domain_is_named_in_a_setting(make_app, db_url):
    app = make_app(db_url, FRAME_ANCESTORS="https://canvas.district.org")
    assert _ancestors(app.test_client().get("/x")) == ["'self'", "https://canvas.district.org"]
    with pytest.raises(ConfigError, match="FRAME_ANCESTORS"):
        make_app(db_url, FRAME_ANCESTORS="https://canvas.district.org/courses")


def test_production_never_allows_plain_http_ancestors(make_app, db_url):
    with pytest.raises(ConfigError, match="FRAME_ANCESTORS"):
        make_app(db_url, ENV="production", SECRET_KEY=STRONG, FRAME_ANCESTORS="http://localhost:8000")
    app = make_app(db_url, ENV="production", SECRET_KEY=STRONG)
    policy = app.test_client().get("/x", base_url="https://tool.test").headers["Content-Security-Policy"]
    assert "http://localhost" not in policy and "http://127.0.0.1" not in policy
    assert _ancestors(app.test_client().get("/x", base_url="https://tool.test")) == ["'self'"]


def test_the_practice_lms_may_frame_the_tool_under_its_loopback_names(make_app, db_url):
    app = make_app(db_url, TOOL_BASE_URL="https://localhost:8443", PRACTICE_LMS=True)
    ancestors = _ancestors(app.test_client().get("/x"))
    assert {"https://localhost:8443", "https://127.0.0.1:8443", "https://[::1]:8443"} <= set(ancestors)


def test_hsts_in_production_over_https_only(make_app, db_url):
    production = make_app(db_url, ENV="production", SECRET_KEY=STRONG).test_client()
    over_https = production.get("/healthz", base_url="https://tool.test")
    assert over_https.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in production.get("/healthz", base_url="http://tool.test").headers
    development = make_app(db_url).test_client()
    assert "Strict-Transport-Security" not in development.get("/healthz", base_url="https://tool.test").headers


def test_pages_and_session_requests_are_never_stored_static_files_are(client, session):
    assert client.get("/no/such/page").headers["Cache-Control"] == "no-store"  # every HTML page
    anonymous_jwks = client.get("/lti/jwks")
    assert anonymous_jwks.headers["Cache-Control"] == "public, max-age=300"

    registration = factories.platform(session, factories.district(session))
    token, _actor = factories.signed_in(session, registration, set())
    session.commit()
    assert client.get(f"/lti/jwks?mcs={token}").headers["Cache-Control"] == "no-store"
    client.set_cookie("mc_session", token, domain="localhost")
    assert client.get("/lti/jwks").headers["Cache-Control"] == "no-store"
    css = client.get("/static/microcred.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("Cache-Control", "")

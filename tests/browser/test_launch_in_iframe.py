"""A teacher opens Microcred inside a course page of another site, as Canvas frames it — with third-party
cookies allowed, blocked by the browser's setting, and with every cookie of the tool's site refused (then
LTI Platform Storage carries the login)."""
from __future__ import annotations

import pytest

from lti_tool.lti import registry
from lti_tool.people.models import User
from lti_tool.people.service import set_district_admin
from tests.browser.platform_app import TEACHER, create_platform
from tests.support import factories, live
from tests.support.signer import Signer


def start_platform(live_server, roles, *, district_admin: bool = False):
    """The stand-in LMS on https://127.0.0.1:PORT — another site than the tool's https://localhost:PORT.
    ``district_admin``: its user is designated district admin beforehand, as district IT would."""
    port = live.free_port()
    signer = Signer(issuer=f"https://127.0.0.1:{port}")
    server = live.start(create_platform(signer, live_server.url, roles), port, live_server.cert_path.parent)
    with live_server.app.app_context():
        from lti_tool.db import session_scope

        with session_scope() as session:
            base = f"https://127.0.0.1:{port}"
            registry.add_platform(session, district=factories.district(session), name="Stand-in LMS",
                                  endpoints=registry.PlatformEndpoints(base, f"{base}/auth", f"{base}/token",
                                                                       f"{base}/jwks"),
                                  client_id=signer.client_id, deployment_ids=[signer.deployment_id])
            if district_admin:
                district = factories.district(session)
                user = User(district_id=district.id, issuer=base, subject="user-1")
                session.add(user)
                session.flush()
                set_district_admin(session, district.id, user, on=True, actor_user_id=None, by="test")
    return server


@pytest.fixture
def platform(live_server):
    server = start_platform(live_server, TEACHER)
    yield server
    server.server.shutdown()
    server.server.server_close()


def open_course(context, platform, screenshots, name):
    page = context.new_page()
    page.goto(f"{platform.url.replace('localhost', '127.0.0.1')}/course")
    frame = page.frame_locator("iframe[name=tool]")
    try:
        frame.get_by_role("heading", name="Welcome, Ana Teacher").wait_for(timeout=15_000)
    except Exception:
        page.screenshot(path=str(screenshots / f"{name}-failed.png"), full_page=True)
        raise AssertionError("the tool did not open: " + page.frame(name="tool").inner_text("body")[:800])
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    return page, page.frame(name="tool")


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_launch_in_a_cross_site_iframe(open_browser, platform, screenshots, leg):
    page, frame = open_course(open_browser(), platform, screenshots, "launch")
    assert frame.url.startswith("https://localhost:") and "Teacher" in frame.content()
    assert not frame.url.count("mcs=")  # the Partitioned session cookie carried the session


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_launch_with_third_party_cookies_blocked(open_browser, platform, screenshots, leg):
    page, frame = open_course(open_browser(block_third_party_cookies=True), platform, screenshots, "blocked-3pc")
    assert "Welcome, Ana Teacher" in frame.content()


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_launch_when_the_tool_site_may_set_no_cookie_uses_platform_storage(open_browser, platform, live_server,
                                                                           screenshots, leg):
    context = open_browser(block_cookies_for=f"https://localhost:{live_server.port}")
    page, frame = open_course(context, platform, screenshots, "platform-storage")
    assert "mcs=" in frame.url  # no cookie anywhere: the session travels in the URL
    frame.get_by_role("link", name="Browse micro-credentials").click()
    frame.wait_for_load_state()
    assert page.frame(name="tool").url.count("mcs=") == 1

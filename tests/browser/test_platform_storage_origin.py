"""Login CSRF through Platform Storage (issue 7), in Chromium: the tool's storage pages take answers only from
the platform's own origin."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_platform_storage_answers_from_another_origin_are_ignored(open_browser, live_server, leg):
    """The course page and its storage frame are served from https://localhost:PORT while the registered
    platform's OIDC endpoint is https://127.0.0.1:PORT: a page that frames the tool with its own storage frame
    (here the same server under another origin) cannot hand the tool a secret, so the launch is not bound."""
    from lti_tool.db import session_scope
    from lti_tool.lti import registry
    from tests.browser.platform_app import TEACHER, create_platform
    from tests.support import factories, live
    from tests.support.signer import Signer

    port = live.free_port()
    platform_origin = f"https://127.0.0.1:{port}"
    signer = Signer(issuer=platform_origin)
    server = live.start(create_platform(signer, live_server.url, TEACHER), port, live_server.cert_path.parent)
    try:
        with live_server.app.app_context(), session_scope() as session:
            registry.add_platform(session, district=factories.district(session), name="Stand-in LMS",
                                  endpoints=registry.PlatformEndpoints(platform_origin, f"{platform_origin}/auth",
                                                                       f"{platform_origin}/token",
                                                                       f"{platform_origin}/jwks"),
                                  client_id=signer.client_id, deployment_ids=[signer.deployment_id])
        # The hostile page may frame the tool (CSP frame-ancestors lets any *.instructure.com site frame it
        # for a Canvas cloud registration, an attacker's own Canvas among them).
        live_server.app.config["FRAME_ANCESTORS"] = f"https://localhost:{port}"
        live_server.app.extensions.pop("frame_ancestors", None)
        context = open_browser(block_cookies_for=f"https://localhost:{live_server.port}")
        page = context.new_page()
        page.goto(f"https://localhost:{port}/course")  # not the platform's origin
        frame = page.frame_locator("iframe[name=tool]")
        frame.get_by_role("heading", name="Your browser blocked Microcred inside Canvas").wait_for(timeout=20_000)
        assert "Welcome" not in page.frame(name="tool").content()
    finally:
        server.server.shutdown()
        server.server.server_close()

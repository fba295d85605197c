"""What a test needs to act as a signed-in person in the test client: the session cookie and a form's CSRF."""
from __future__ import annotations

import re

BASE = "https://localhost"


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def use_session(client, token: str):
    """Make the test client present this session token as the tool's cookie (as the browser would)."""
    client.set_cookie("mc_session", token, domain="localhost")
    return client


def csrf_for(app, token: str) -> str:
    """The CSRF token the app puts in forms for this session (for posting to a page one may not open)."""
    from flask import g

    from lti_tool.lti.session import csrf_token

    with app.test_request_context():
        g.session_token = token
        return csrf_token()

"""Key sets across launches: the tool caches the platform's JWKS and refetches it when the platform signs
with a new kid; the platform caches the tool's JWKS the same way."""
from __future__ import annotations

from datetime import timedelta

from lti_tool.db import session_scope, utcnow
from lti_tool.lti import keys
from lti_tool.lti.services import PlatformClient, ags, scopes, tokens


def test_the_platform_jwks_is_fetched_once_and_again_after_a_rotation(demo, browser, practice):
    browser.launch("teacher")
    browser.launch("teacher2")
    assert practice.store.jwks_hits == 1  # the second launch used the cached key set

    old, new = practice.key(), practice.rotate_key()
    assert old.kid != new.kid
    with demo.app.app_context(), session_scope() as session:
        # As if the last fetch were minutes ago: the tool refetches an unknown kid at most every 30 seconds.
        practice.registration(session).key_set_fetched_at = utcnow() - timedelta(minutes=5)
    landed = browser.launch("teacher")
    assert landed.page.status_code == 200 and "Welcome" in landed.page.text
    assert practice.store.jwks_hits == 2
    with demo.app.app_context(), session_scope() as session:
        cached = {k["kid"] for k in practice.registration(session).key_set["keys"]}
    assert cached == {old.kid, new.kid}  # the previous key stays published until the next rotation
    browser.launch("teacher2")
    assert practice.store.jwks_hits == 2


def test_a_token_from_an_unpublished_kid_does_not_refetch_within_the_interval(demo, browser, practice):
    browser.launch("teacher")
    practice.rotate_key()
    fields = browser.authorize("teacher")  # signed with the new kid, fetched less than 30 s ago
    page = browser.post_launch(fields)
    assert page.status_code == 400 and "has no key with kid" in page.text
    assert practice.store.jwks_hits == 1


def test_the_platform_caches_the_tool_jwks_and_refetches_after_the_tool_rotates(demo, browser, practice):
    browser.launch("teacher")  # registers the practice platform
    with demo.app.app_context(), session_scope() as session:
        registration = practice.registration(session)
        client = PlatformClient(session, registration)
        lineitems = f"{demo.url}/practice/ags/lineitems"
        ags.create_line_item(client, lineitems, label="One", score_maximum=1)
        tokens.fetch_token(session, registration, [scopes.SCORE], client.http)
        assert practice.store.tool_jwks_fetches == 1  # two client assertions, one fetch
        keys.generate_key(session)  # the tool rotates: its next assertion names a kid the platform lacks
        session.commit()  # published at /lti/jwks
        tokens.fetch_token(session, registration, [scopes.NRPS], client.http)
    assert practice.store.tool_jwks_fetches == 2

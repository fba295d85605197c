"""Refused launches: each answers 400, 401 or 403 with a page that tells IT what to fix — never a 500 — and
stores nothing (no user, no launch, no session). The bad tokens are the practice platform's own id_token
with claims changed or removed, signed again with the platform's key, as a broken platform would send."""
from __future__ import annotations

import base64
import html
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.platform import resign

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def refused(response, status: int, *words: str) -> None:
    alert = re.search(r'<section[^>]*role="alert".*?</section>', response.text, re.S)  # the error page
    shown = html.unescape(alert.group(0)) if alert else response.text[:800]
    assert response.status_code == status and alert, (response.status_code, shown)
    for word in words:
        assert word in shown, (word, shown)


BAD_TOKENS = {  # case: (claims to change, claims to remove, what the page tells IT)
    "expired": (lambda: dict(iat=int(time.time()) - 900, exp=int(time.time()) - 600), (), "expired"),
    "wrong audience": (lambda: dict(aud="some-other-tool", azp="some-other-tool"), (), "not registered"),
    "unknown issuer": (lambda: dict(iss="https://lms.unknown.example"), (), "https://lms.unknown.example"),
    "unknown deployment": (lambda: dict(claims={CLAIM + "deployment_id": "deployment-nobody-made"}), (),
                           "deployment-nobody-made"),
    "no message type": (dict, (CLAIM + "message_type",), "Invalid message type"),
    "no version": (dict, (CLAIM + "version",), "version"),
    "no roles": (dict, (CLAIM + "roles",), "Roles"),
    "no sub": (dict, ("sub",), "sub"),
    "wrong nonce": (lambda: dict(nonce="a-nonce-from-another-login"), (), "nonce"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_a_bad_id_token_is_refused_with_a_hint_and_stores_nothing(demo, browser, practice, case):
    changes, drop, hint = BAD_TOKENS[case]
    fields = browser.authorize("teacher")
    before = practice.rows()
    key = practice.key()
    bad = resign(fields["id_token"], key.private_pem, key.kid, drop=drop, **changes())
    refused(browser.post_launch({**fields, "id_token": bad}), 400, hint)
    assert practice.rows() == before
    # The failed attempt consumed nothing: the genuine token for the same login still launches.
    assert browser.post_launch(fields).status_code == 303


def _with_body(token: str, **changes) -> str:
    """The token with its body edited and its signature kept: what a tampering browser could post."""
    header, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps({**claims, **changes}).encode()).rstrip(b"=").decode()
    return f"{header}.{edited}.{signature}"


@pytest.mark.parametrize("mangle, hint", [
    (lambda token: "not-a-jwt", "3 parts"),
    (lambda token: token.rsplit(".", 1)[0] + ".c2lnbmF0dXJl", "Signature verification failed"),
    (lambda token: _with_body(token, sub="practice-district_admin"), "Signature verification failed"),
])
def test_a_malformed_or_tampered_id_token_is_refused(demo, browser, practice, mangle, hint):
    fields = browser.authorize("teacher")
    before = practice.rows()
    refused(browser.post_launch({**fields, "id_token": mangle(fields["id_token"])}), 400, hint)
    assert practice.rows() == before


def test_a_token_signed_by_an_unpublished_key_is_refused(demo, browser, practice):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    fields = browser.authorize("teacher")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    refused(browser.post_launch({**fields, "id_token": resign(fields["id_token"], stranger, "kid-never-published")}),
            400, "kid-never-published")
    # A token whose signature failed spends its login: the genuine token cannot follow it.
    refused(browser.post_launch(fields), 403, "already used")
    fields = browser.authorize("teacher")
    bad = resign(fields["id_token"], stranger, practice.key().kid)  # a published kid, the wrong key
    refused(browser.post_launch({**fields, "id_token": bad}), 400, "Signature verification failed")
    refused(browser.post_launch(fields), 403, "already used")


def test_a_replayed_launch_is_refused(demo, browser, practice):
    fields = browser.authorize("teacher")
    assert browser.post_launch(fields).status_code == 303
    after_first = practice.rows()
    refused(browser.post_launch(fields), 403, "already used")
    assert practice.rows() == after_first


def test_a_state_from_another_browser_is_refused(demo, browser, open_practice_browser, practice):
    fields = browser.authorize("teacher")
    before = practice.rows()
    thief = open_practice_browser()  # no state cookie: it never started this login
    page = thief.post_launch(fields)
    refused(page, 401, "Open Microcred in a new window", "No state cookie")
    assert practice.rows() == before
    assert browser.post_launch(fields).status_code == 303  # the browser that logged in still can


def test_an_unknown_state_is_refused(demo, browser):
    fields = browser.authorize("teacher")
    refused(browser.post_launch({**fields, "state": "a-state-nobody-issued"}), 400, "state")
    refused(browser.post_launch({"state": fields["state"]}), 400, "no id_token")


def test_an_unknown_deployment_or_platform_is_refused_at_login(demo, browser, practice):
    start = browser.login("teacher", storage=False)
    login_url = start.history[1].url  # the tool's /lti/login, as the platform sent the frame there
    params = {k: v[0] for k, v in parse_qs(urlsplit(login_url).query).items()}
    before = practice.rows()
    for changes, hint in (({"deployment_id": "nope", "lti_deployment_id": "nope"}, "Deployment nope"),
                          ({"iss": "https://lms.unknown.example"}, "https://lms.unknown.example"),
                          ({"client_id": "another-client"}, "another-client"),
                          ({"login_hint": ""}, "login_hint")):
        refused(browser.get("/lti/login", params={**params, **changes}, allow_redirects=False), 400, hint)
    assert practice.rows() == before


def test_the_platform_refuses_a_bad_authorization_request(demo, browser):
    start = browser.login("teacher", storage=False)
    auth_url = start.url  # the platform's /practice/auth, with the tool's parameters
    params = {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}
    for changes, hint in (({"redirect_uri": "https://evil.example/collect"}, "redirect_uri must be"),
                          ({"client_id": "someone"}, "client_id must be"),
                          ({"response_type": "code"}, "response_type must be"),
                          ({"scope": "profile"}, "scope must include openid"),
                          ({"nonce": ""}, "nonce"),
                          ({"login_hint": "practice-district_admin"}, "login_hint"),
                          ({"lti_message_hint": "forged"}, "lti_message_hint")):
        page = browser.get("/practice/auth", params={**params, **changes})
        refused(page, 400, hint)
        assert 'name="id_token"' not in page.text

"""The fake keeps Canvas's rules even for requests the client never sends, so the client tests mean something."""
import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lti_tool.lti import keys
from lti_tool.lti.services import tokens
from lti_tool.lti.services.scopes import LINEITEM, NRPS, SCORE
from tests.services.fake_canvas import FakeCanvas

SCORE_MEDIA = "application/vnd.ims.lis.v1.score+json"


@pytest.fixture
def bare_canvas():
    fake = FakeCanvas().start()
    try:
        yield fake
    finally:
        fake.stop()


def _token(session, registration, scopes) -> str:
    return tokens.fetch_token(session, registration, scopes, requests.Session())


def _post(url, token, body, content_type=SCORE_MEDIA):
    return requests.post(url, data=json.dumps(body),
                         headers={"Authorization": f"Bearer {token}", "Content-Type": content_type}, timeout=5)


def test_token_endpoint_checks_the_assertion(session, registration, fake_canvas):
    key = keys.current_key(session)
    now = int(time.time())
    good = {"iss": registration.client_id, "sub": registration.client_id, "aud": fake_canvas.token_url, "iat": now,
            "exp": now + 300, "jti": "x"}

    def ask(claims, scope=NRPS, kid=key.kid, pem=key.private_pem):
        assertion = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})
        return requests.post(fake_canvas.token_url, timeout=5, data={
            "grant_type": "client_credentials", "scope": scope, "client_assertion": assertion,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})

    assert ask(good).status_code == 200
    assert ask({**good, "aud": "https://elsewhere.test/token"}).json()["error"] == "invalid_request"
    assert ask({**good, "exp": now - 10}).status_code == 400
    assert ask({k: v for k, v in good.items() if k != "iss"}).status_code == 400
    assert ask(good, kid="unknown").json()["error_description"] == "JWS signature invalid."
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    assert ask(good, pem=stranger).json()["error_description"] == "JWS signature invalid."
    assert ask(good, scope="https://purl.imsglobal.org/spec/lti-ags/scope/other").json()["error"] == "invalid_scope"


def test_services_refuse_missing_expired_and_unscoped_tokens(session, registration, fake_canvas, course):
    url = fake_canvas.memberships_url(course)
    assert requests.get(url, timeout=5).json()["errors"]["message"] == "Missing access token"
    score_token = _token(session, registration, [SCORE])
    refused = requests.get(url, headers={"Authorization": f"Bearer {score_token}"}, timeout=5)
    assert refused.status_code == 401 and refused.json()["errors"]["message"] == "Insufficient permissions"
    nrps_token = _token(session, registration, [NRPS])
    fake_canvas.tokens[nrps_token].expires_at = time.time() - 1
    expired = requests.get(url, headers={"Authorization": f"Bearer {nrps_token}"}, timeout=5)
    assert expired.status_code == 401 and expired.json()["errors"]["message"] == "Access token expired"


def test_score_rules(session, registration, fake_canvas, course):
    token = _token(session, registration, [LINEITEM, SCORE])
    item = _post(fake_canvas.lineitems_url(course), token, {"label": "MC", "scoreMaximum": 1},
                 "application/vnd.ims.lis.v2.lineitem+json").json()
    scores = item["id"] + "/scores"
    student = course.students[0].lti_id
    base = {"userId": student, "activityProgress": "Completed", "gradingProgress": "FullyGraded",
            "timestamp": "2026-11-22T10:00:00.000+00:00"}
    no_max = _post(scores, token, {**base, "scoreGiven": 1})
    assert no_max.status_code == 422 and "ScoreMaximum not supplied" in no_max.text
    for param in ("activityProgress", "gradingProgress", "timestamp"):
        missing = _post(scores, token, {k: v for k, v in base.items() if k != param})
        assert missing.status_code == 400 and param in missing.text
    assert _post(scores, token, base, content_type="text/plain").status_code == 422  # body not read: no user
    assert _post(scores, token, {**base, "timestamp": "yesterday"}).status_code == 400
    future = {**base, "https://canvas.instructure.com/lti/submission": {"submitted_at": "2099-01-01T00:00:00Z"}}
    assert "in the future" in _post(scores, token, future).text
    assert _post(scores, token, base).status_code == 200
    assert _post(scores, token, {**base, "timestamp": "2026-11-22T09:59:59.000+00:00"}).status_code == 400


def test_line_items_need_score_maximum_and_label(session, registration, fake_canvas, course):
    token = _token(session, registration, [LINEITEM])
    media = "application/vnd.ims.lis.v2.lineitem+json"
    assert _post(fake_canvas.lineitems_url(course), token, {"label": "MC"}, media).status_code == 400
    assert _post(fake_canvas.lineitems_url(course), token, {"scoreMaximum": 1}, media).status_code == 400
    assert _post(fake_canvas.lineitems_url(course), token, {"scoreMaximum": 1, "label": "MC"}, media).status_code == 201


def test_unknown_developer_key(session, registration, bare_canvas):
    registration.auth_token_url = bare_canvas.token_url
    answer = requests.post(bare_canvas.token_url, timeout=5, data={
        "grant_type": "client_credentials", "scope": NRPS,
        "client_assertion": tokens.client_assertion(session, registration),
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    assert answer.status_code == 400 and answer.json()["error_description"] == "JWS signature invalid."

"""Launch validation rule by rule, in-process, with a signing platform (tests/e2e covers the same over HTTPS
with a real LTI platform implementation). Every refusal is a 4xx page for IT, never a 500, never a user row."""
import html
import logging

import pytest
from sqlalchemy import func, select

from lti_tool.audit.models import AuditEvent
from lti_tool.lti.models import LaunchRecord, LoginState, ToolSession
from lti_tool.people.models import User
from tests.support.signer import CLAIM, LIS, login

BASE = "https://localhost"


def _launch(client, signer, *, mutate=None, sign=None, **claim_overrides):
    query = login(client, signer)
    body = signer.claims(query["nonce"], **claim_overrides)
    if mutate:
        mutate(body)
    token = (sign or signer.sign)(body)
    return client.post("/lti/launch", base_url=BASE, data={"id_token": token, "state": query["state"]}), token, query


def _users(session):
    return session.scalar(select(func.count()).select_from(User))


def test_a_valid_launch_opens_a_session_and_lands_home(client, session, signer, registration):
    response, _, _ = _launch(client, signer)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("mc_session="))
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned"):
        assert attribute in session_cookie
    assert any(c.startswith("mc_lti_state_") and "Max-Age=0" in c for c in cookies)  # spent state cookie dropped
    user = session.scalar(select(User))
    assert user.subject == "user-1" and user.name == "Ana Teacher" and user.district_id == registration.district_id
    assert session.scalar(select(func.count()).select_from(LaunchRecord)) == 1
    assert session.scalar(select(func.count()).select_from(ToolSession)) == 1
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "lti.launch")) == "lti.launch"
    home = client.get("/", base_url=BASE)
    assert "Welcome, Ana Teacher" in home.text and "Teacher" in home.text and "PD 101" in home.text


def test_relaunch_reuses_the_user(client, session, signer, registration):
    _launch(client, signer)
    _launch(client, signer)
    assert _users(session) == 1


def test_a_replayed_launch_is_refused(client, session, signer, registration):
    response, token, query = _launch(client, signer)
    assert response.status_code == 303
    again = client.post("/lti/launch", base_url=BASE, data={"id_token": token, "state": query["state"]})
    assert again.status_code == 403 and "already used" in again.text


def test_a_launch_from_another_browser_is_refused_with_a_new_window_offer(app, session, signer, registration):
    first, second = app.test_client(), app.test_client()
    query = login(first, signer)
    token = signer.sign(signer.claims(query["nonce"]))
    response = second.post("/lti/launch", base_url=BASE, data={"id_token": token, "state": query["state"]})
    assert response.status_code == 401 and "Open Microcred in a new window" in response.text
    assert "lti1p3_new_window=1" in response.text
    assert _users(session) == 0


@pytest.mark.parametrize("case, says", [
    ("tampered", "failed verification"),
    ("expired", "has expired"),
    ("wrong_audience", "No registration for issuer"),
    ("several_audiences_no_azp", "does not name one client_id"),
    ("unknown_deployment", "Deployment '1:other' is not registered"),
    ("no_message_type", "message"),
    ("no_version", "version"),
    ("no_roles", "roles"),
    ("no_sub", "sub"),
    ("wrong_nonce", "nonce"),
    ("hs256", "RS256"),
    ("unknown_kid", "key set"),
    ("not_a_jwt", "3 parts"),
    ("body_is_a_list", "malformed"),
])
def test_bad_launches_are_4xx_pages_for_it_and_store_no_user(client, session, signer, registration, case, says):
    import base64
    import json

    def tamper(token):
        header, body, sig = token.split(".")
        data = json.loads(base64.urlsafe_b64decode(body + "=="))
        data["sub"] = "someone-else"
        forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
        return f"{header}.{forged}.{sig}"

    options = {
        "tampered": dict(sign=lambda b: tamper(signer.sign(b))),
        "expired": dict(exp=1_700_000_000, iat=1_699_999_000),
        "wrong_audience": dict(aud="someone-elses-client-id"),
        "several_audiences_no_azp": dict(aud=[signer.client_id, "other"]),
        "unknown_deployment": dict(mutate=lambda b: b.update({CLAIM + "deployment_id": "1:other"})),
        "no_message_type": dict(mutate=lambda b: b.pop(CLAIM + "message_type")),
        "no_version": dict(mutate=lambda b: b.pop(CLAIM + "version")),
        "no_roles": dict(mutate=lambda b: b.pop(CLAIM + "roles")),
        "no_sub": dict(mutate=lambda b: b.pop("sub")),
        "wrong_nonce": dict(nonce="not-the-login-nonce"),
        "hs256": dict(sign=lambda b: __import__("jwt").encode(b, "x" * 32, algorithm="HS256",
                                                               headers={"kid": signer.kid})),
        "unknown_kid": dict(sign=lambda b: signer.sign(b, kid="rotated-key")),
        "not_a_jwt": dict(sign=lambda b: "not-a-jwt"),
        "body_is_a_list": dict(sign=lambda b: "eyJhbGciOiJSUzI1NiIsImtpZCI6InBsYXRmb3JtLWtleS0xIn0.WzFd.c2ln"),
    }[case]
    if case == "unknown_kid":  # the tool refetches the key set: make that fetch fail locally, not on the internet
        registration.key_set_url = "https://127.0.0.1:9/jwks"
        session.commit()
    if case == "wrong_nonce":
        query = login(client, signer)
        response = client.post("/lti/launch", base_url=BASE, data={
            "id_token": signer.sign(signer.claims("not-the-login-nonce")), "state": query["state"]})
    else:
        response, _, _ = _launch(client, signer, **options)
    assert response.status_code in (400, 401, 403), response.status_code
    assert says.lower() in html.unescape(response.text).lower(), response.text[-800:]
    assert "Traceback" not in response.text
    assert _users(session) == 0 and session.scalar(select(func.count()).select_from(ToolSession)) == 0


def test_a_refused_launch_can_be_retried_with_a_good_token(client, session, signer, registration):
    """A genuinely signed token refused for its claims (here: expired) leaves the state usable; only a token
    whose signature fails spends it (tests/security/test_launch_hardening.py)."""
    query = login(client, signer)
    bad = signer.claims(query["nonce"], exp=1_700_000_000, iat=1_699_999_000)
    assert client.post("/lti/launch", base_url=BASE, data={"id_token": signer.sign(bad), "state": query["state"]}).status_code == 400
    good = signer.sign(signer.claims(query["nonce"]))
    assert client.post("/lti/launch", base_url=BASE, data={"id_token": good, "state": query["state"]}).status_code == 303


@pytest.mark.parametrize("roles, shown, hidden", [
    ([LIS + "membership/Instructor#TeachingAssistant", LIS + "membership#Instructor", LIS + "system/person#User"],
     "Facilitator", "District administrator"),
    # An account admin's LMS role alone grants nothing: district admins are designated in Microcred.
    ([LIS + "institution/person#Administrator", LIS + "system/person#User"], "Browse micro-credentials",
     "District administrator"),
    ([LIS + "membership#Learner", "http://purl.imsglobal.org/vocab/lti/system/person#TestUser"], "Student View", "Facilitator"),
])
def test_roles_reach_the_page_through_the_projects_mapping(client, session, signer, registration, roles, shown, hidden):
    response, _, _ = _launch(client, signer, roles=roles)
    assert response.status_code == 303
    page = client.get("/", base_url=BASE).text
    assert shown in page and hidden not in page


def test_deep_linking_launch_goes_to_the_picker(client, session, signer, registration):
    settings = {"deep_link_return_url": "https://canvas.example/dl", "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe"]}
    response, _, _ = _launch(client, signer, roles=[LIS + "membership#Instructor"], mutate=lambda b: (
        b.update({CLAIM + "message_type": "LtiDeepLinkingRequest",
                  "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": settings}),
        b.pop(CLAIM + "resource_link")))
    assert response.status_code == 303 and response.headers["Location"] == "/lti/deep-link"
    assert "Add a micro-credential to this course" in client.get("/lti/deep-link", base_url=BASE).text


def test_platform_storage_round_trip_when_cookies_are_blocked(app, session, signer, registration):
    browser_frame, cookieless = app.test_client(), app.test_client()
    page = browser_frame.get("/lti/login", query_string={
        "iss": signer.issuer, "login_hint": "h", "client_id": signer.client_id, "deployment_id": signer.deployment_id,
        "lti_storage_target": "post_message_forwarding"})
    row = session.scalar(select(LoginState))
    assert "lti.put_data" in page.text
    token = signer.sign(signer.claims(row.nonce))
    # The launch arrives without the state cookie: the tool asks the platform's frame for its secret.
    ask = cookieless.post("/lti/launch", base_url=BASE, data={"id_token": token, "state": row.state})
    assert ask.status_code == 200 and "lti.get_data" in ask.text and f"mc_state_{row.state}" in ask.text
    wrong = cookieless.post("/lti/launch", base_url=BASE, data={"id_token": token, "state": row.state,
                                                                "lti_storage_secret": "guess"})
    assert wrong.status_code == 401 and "new window" in wrong.text
    right = cookieless.post("/lti/launch", base_url=BASE, data={"id_token": token, "state": row.state,
                                                                "lti_storage_secret": row.storage_secret})
    assert right.status_code == 303 and right.headers["Location"].startswith("/?mcs=")
    assert "Welcome" in cookieless.get(right.headers["Location"], base_url=BASE).text


def test_launch_logs_carry_no_names_emails_or_tokens(client, session, signer, registration, caplog):
    with caplog.at_level(logging.DEBUG, logger="lti_tool"):
        _, token, _ = _launch(client, signer)
    text = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "lti launch accepted" in text
    for secret in ("Ana Teacher", "ana@example.org", token[:40], "user-1"):
        assert secret not in text

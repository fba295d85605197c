"""Login and launch hardening (issue 7), in-process with the signing platform of ``tests.support.signer``, on
SQLite and PostgreSQL: login parameter caps, the login rate limit, the JWKS refetch throttle and spent states,
claim shapes, Platform Storage only from the tool's own framed page, and anonymous errors that name no
registered ids."""
from __future__ import annotations

import html
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select, update

from lti_tool.db import utcnow
from lti_tool.lti import launch as launch_module
from lti_tool.lti.ratelimit import count_login
from lti_tool.lti.models import LaunchRecord, LoginState, RateLimit, Registration, ToolSession
from lti_tool.people.models import User
from tests.support.signer import CLAIM, login

BASE = "https://localhost"
FRAMED = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"}


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _login_params(signer, **extra) -> dict:
    return {"iss": signer.issuer, "login_hint": "hint", "client_id": signer.client_id,
            "deployment_id": signer.deployment_id, "target_link_uri": "https://tool.test/lti/launch", **extra}


def _post(client, token: str, state: str, **form):
    return client.post("/lti/launch", base_url=BASE, data={"id_token": token, "state": state, **form})


# --- 1. login parameter caps --------------------------------------------------------------------------

@pytest.mark.parametrize("name, limit", [
    ("iss", 255), ("client_id", 255), ("login_hint", 1024), ("target_link_uri", 2048), ("lti_message_hint", 4096),
    ("lti_deployment_id", 255), ("deployment_id", 255), ("lti_storage_target", 100), ("canvas_region", 64),
    ("some_other_parameter", 2048),
])
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_over_long_login_parameter_is_a_plain_400_that_stores_and_echoes_nothing(client, session, signer, registration,
                                                                                   name, limit, method):
    value = "Z" * (limit + 1)
    params = _login_params(signer, **{name: value})
    send = client.get if method == "get" else client.post
    response = send("/lti/login", headers=FRAMED, **({"query_string": params} if method == "get" else {"data": params}))
    assert response.status_code == 400, response.status_code
    assert "Location" not in response.headers and value not in response.text
    assert f"longer than {limit} characters" in response.text
    assert _count(session, LoginState) == 0


def test_a_storage_target_at_its_column_limit_is_stored(client, session, signer, registration):
    target = "f" * 100  # lti_login_state.storage_target is String(100): PostgreSQL would refuse 101
    response = client.get("/lti/login", headers=FRAMED, query_string=_login_params(signer, lti_storage_target=target))
    assert response.status_code == 200 and session.scalar(select(LoginState.storage_target)) == target


def test_a_login_with_too_many_parameters_is_refused(client, session, signer, registration):
    params = _login_params(signer, **{f"p{i}": "x" for i in range(60)})
    assert client.get("/lti/login", query_string=params).status_code == 400
    assert _count(session, LoginState) == 0


# --- 2. login rate limit ------------------------------------------------------------------------------

def test_logins_are_rate_limited_per_client_address(app, client, session, signer, registration):
    app.config["LOGIN_RATE_LIMIT"] = 3
    for _ in range(2):
        assert client.get("/lti/login", query_string=_login_params(signer)).status_code == 302
    # A refused login counts too: the counter is committed even though the request's transaction rolls back.
    assert client.get("/lti/login", query_string=_login_params(signer, iss="https://nope.example")).status_code == 400
    over = client.get("/lti/login", query_string=_login_params(signer))
    assert over.status_code == 429 and "Too many sign-ins" in over.text
    assert 1 <= int(over.headers["Retry-After"]) <= 60 and "Location" not in over.headers
    assert _count(session, LoginState) == 2  # nothing stored for the refused ones
    elsewhere = client.get("/lti/login", query_string=_login_params(signer), environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert elsewhere.status_code == 302  # another address has its own count

    keys = list(session.scalars(select(RateLimit.key)))
    assert len(keys) == 2 and not any("127.0.0.1" in k or "203.0.113.7" in k for k in keys)  # hashed addresses

    # When the window is over, the address may log in again.
    session.execute(update(RateLimit).values(window_start=utcnow() - timedelta(minutes=2)))
    session.commit()
    assert client.get("/lti/login", query_string=_login_params(signer)).status_code == 302


def test_the_rate_limit_counter_is_race_safe(app):
    engine = app.extensions["db_engine"]

    def hit(_):
        return count_login(engine, "login:race", limit=1000, window=timedelta(minutes=1))

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert set(pool.map(hit, range(30))) == {0}
    with engine.connect() as connection:
        assert connection.scalar(select(RateLimit.hits).where(RateLimit.key == "login:race")) == 30
    assert count_login(engine, "login:race", limit=30, window=timedelta(minutes=1)) > 0


# --- 3. JWKS refetch throttle, spent states -------------------------------------------------------------

@pytest.fixture
def jwks_fetches(monkeypatch, signer):
    """Count the tool's fetches of the platform's key set (the platform answers with its real JWKS)."""
    fetched: list[str] = []

    def fetch(url, client=None):
        fetched.append(url)
        return signer.jwks()

    monkeypatch.setattr(launch_module, "fetch_platform_jwks", fetch)
    return fetched


def test_forged_launches_with_unknown_kids_cause_at_most_one_jwks_fetch(client, session, signer, registration, jwks_fetches):
    query = login(client, signer)
    for i in range(20):  # one login state, twenty forgeries
        response = _post(client, signer.sign(signer.claims(query["nonce"]), kid=f"forged-{i}"), query["state"])
        assert response.status_code in (400, 403)
    for i in range(5):  # fresh logins: the throttle holds across states and requests
        fresh = login(client, signer)
        assert _post(client, signer.sign(signer.claims(fresh["nonce"]), kid=f"again-{i}"), fresh["state"]).status_code == 400
    assert len(jwks_fetches) <= 1
    session.expire_all()
    assert session.get(Registration, registration.id).key_set_fetched_at is not None


def test_a_state_whose_signature_failed_cannot_be_used_again(client, session, signer, registration):
    query = login(client, signer)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(signer.claims(query["nonce"], sub="someone-else"), stranger, algorithm="RS256",
                        headers={"kid": signer.kid})
    refused = _post(client, forged, query["state"])
    assert refused.status_code == 400 and "Signature verification failed" in refused.text
    genuine = _post(client, signer.sign(signer.claims(query["nonce"])), query["state"])
    assert genuine.status_code == 403 and "already used" in genuine.text
    assert session.scalar(select(LoginState.used_at)) is not None
    assert _count(session, User) == 0


def test_an_unknown_kid_spends_the_state_too(client, session, signer, registration, jwks_fetches):
    query = login(client, signer)
    assert _post(client, signer.sign(signer.claims(query["nonce"]), kid="unknown"), query["state"]).status_code == 400
    assert _post(client, signer.sign(signer.claims(query["nonce"])), query["state"]).status_code == 403


# --- 4. claim shapes and lengths ----------------------------------------------------------------------

MARK = "MARKER-VALUE-7f3a"
LONG = MARK + "x" * 300

BAD_CLAIMS = {
    "custom as a list": (CLAIM + "custom", [MARK]),
    "context as a string": (CLAIM + "context", MARK),
    "context id too long": (CLAIM + "context", {"id": LONG}),
    "name as an object": ("name", {"first": MARK}),
    "email as a list": ("email", [MARK]),
    "an object in roles": (CLAIM + "roles", [{"role": MARK}]),
    "resource_link as a string": (CLAIM + "resource_link", MARK),
    "resource_link id as a number": (CLAIM + "resource_link", {"id": 12345}),
    "sub over 255": ("sub", "s" * 256 + MARK),
    "a nested custom value": (CLAIM + "custom", {"a": {"b": MARK}}),
    "deep linking settings as a list": ("https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings", [MARK]),
}


@pytest.mark.parametrize("case", list(BAD_CLAIMS))
def test_a_claim_of_the_wrong_type_or_length_is_a_400_naming_it(client, session, signer, registration, case):
    claim, value = BAD_CLAIMS[case]
    query = login(client, signer)
    body = signer.claims(query["nonce"])
    body[claim] = value
    response = _post(client, signer.sign(body), query["state"], )
    assert response.status_code == 400, (response.status_code, response.text[-600:])
    text = html.unescape(response.text)
    assert f"'{claim}" in text and "malformed" in text and MARK not in text
    assert _count(session, User) == 0 and _count(session, ToolSession) == 0
    as_json = client.post("/lti/launch", base_url=BASE, headers={"Accept": "application/json"},
                          data={"id_token": signer.sign(body), "state": login(client, signer)["state"]})
    assert as_json.status_code == 400 and MARK not in as_json.text


def test_an_over_long_name_is_cut_and_an_over_long_email_dropped(client, session, signer, registration):
    query = login(client, signer)
    name, email = "N" * 250, "e" * 320 + "@example.org"
    response = _post(client, signer.sign(signer.claims(query["nonce"], name=name, email=email)), query["state"])
    assert response.status_code == 303, response.text[-600:]
    user = session.scalar(select(User))
    assert user.name == "N" * 200 and user.email is None
    claims = session.scalar(select(LaunchRecord.claims))
    assert claims["name"] == "N" * 200 and "email" not in claims


def test_null_optional_claims_are_taken_as_absent(client, session, signer, registration):
    query = login(client, signer)
    body = signer.claims(query["nonce"], name=None, email=None)
    body[CLAIM + "custom"] = None
    body[CLAIM + "context"] = None
    assert _post(client, signer.sign(body), query["state"]).status_code == 303


# --- 5. Platform Storage only from the tool's own page in the LMS frame ---------------------------------

def _storage_login(client, signer, headers=FRAMED):
    return client.get("/lti/login", headers=headers,
                      query_string=_login_params(signer, lti_storage_target="post_message_forwarding"))


def test_storage_pages_talk_only_to_the_platform_origin(app, session, signer, registration):
    page = _storage_login(app.test_client(), signer)
    assert page.status_code == 200 and "lti.put_data" in page.text
    assert 'origin = "https://sso.canvaslms.com"' in page.text  # the OIDC auth endpoint's origin
    assert "event.origin !== origin" in page.text and '"*")' not in page.text
    row = session.scalar(select(LoginState))
    ask = _post(app.test_client(), signer.sign(signer.claims(row.nonce)), row.state)  # no state cookie
    assert ask.status_code == 200 and "lti.get_data" in ask.text
    assert 'origin = "https://sso.canvaslms.com"' in ask.text
    assert "event.origin !== origin" in ask.text and '"*")' not in ask.text


def test_a_login_outside_a_frame_keeps_no_storage_secret(client, session, signer, registration):
    response = _storage_login(client, signer, headers={"Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 302 and "lti.put_data" not in response.text
    row = session.scalar(select(LoginState))
    assert row.storage_target is None and row.storage_secret is None


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "iframe"},     # an attacker's page framing a form
    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "document"},   # an attacker's page posting top-level
    {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "document"},  # not inside the LMS frame
    {"Origin": "https://evil.example"},                               # a browser without fetch metadata
    {"Origin": "null"},
])
def test_a_storage_secret_posted_from_outside_the_tools_framed_page_is_refused(app, session, signer, registration, headers):
    """Login CSRF: the attacker's own login, id_token and storage secret, posted from a victim's browser."""
    _storage_login(app.test_client(), signer)
    row = session.scalar(select(LoginState))
    token = signer.sign(signer.claims(row.nonce, sub="attacker"))
    victim = app.test_client()
    response = victim.post("/lti/launch", base_url=BASE, headers=headers,
                           data={"id_token": token, "state": row.state, "lti_storage_secret": row.storage_secret})
    assert response.status_code == 401 and "lti.get_data" not in response.text
    assert "outside Microcred" in html.unescape(response.text)
    assert _count(session, ToolSession) == 0 and _count(session, User) == 0
    # The tool's own page in the frame (what launch_storage.html re-posts) is still accepted.
    own = victim.post("/lti/launch", base_url=BASE, headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "iframe",
                                                             "Origin": BASE},
                      data={"id_token": token, "state": row.state, "lti_storage_secret": row.storage_secret})
    assert own.status_code == 303 and own.headers["Location"].startswith("/?mcs=")


def test_a_top_level_launch_without_its_cookie_is_not_offered_platform_storage(app, session, signer, registration):
    _storage_login(app.test_client(), signer)
    row = session.scalar(select(LoginState))
    response = app.test_client().post("/lti/launch", base_url=BASE,
                                      headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "document"},
                                      data={"id_token": signer.sign(signer.claims(row.nonce)), "state": row.state})
    assert response.status_code == 401 and "lti.get_data" not in response.text


# --- 6. anonymous errors name no registered ids -----------------------------------------------------------

def _shown(response) -> str:
    return html.unescape(response.text) if response.mimetype == "text/html" else json.dumps(response.get_json())


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_an_unknown_deployment_at_login_names_no_registered_ids(client, session, signer, registration, accept):
    params = _login_params(signer, deployment_id="1:unknown")
    del params["client_id"]  # the issuer's only registration is found without it
    response = client.get("/lti/login", query_string=params, headers={"Accept": accept})
    shown = _shown(response)
    assert response.status_code == 400 and "1:unknown" in shown and "add-deployment" in shown
    assert signer.client_id not in shown and f"add-deployment {registration.id} " not in shown


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_launch_refusals_name_no_registered_ids(client, session, signer, registration, jwks_fetches, accept):
    query = login(client, signer)
    body = signer.claims(query["nonce"])
    body[CLAIM + "deployment_id"] = "1:unknown"
    response = client.post("/lti/launch", base_url=BASE, headers={"Accept": accept},
                           data={"id_token": signer.sign(body), "state": query["state"]})
    shown = _shown(response)
    assert response.status_code == 400 and "1:unknown" in shown
    assert signer.client_id not in shown and f"add-deployment {registration.id} " not in shown

    query = login(client, signer)
    response = client.post("/lti/launch", base_url=BASE, headers={"Accept": accept},
                           data={"id_token": signer.sign(signer.claims(query["nonce"]), kid="nope"),
                                 "state": query["state"]})
    shown = _shown(response)
    assert response.status_code == 400 and "no key with kid" in shown and registration.key_set_url not in shown

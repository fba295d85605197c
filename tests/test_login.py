"""OIDC login initiation: what Canvas sends, what the tool answers, and the refusals IT can act on."""
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from lti_tool.lti.models import LoginState

CLIENT_ID = "10000000000001"


def _canvas_login(**overrides):
    # What Canvas sends: deployment_id (not lti_deployment_id), canvas_region, canvas_environment.
    params = {"iss": "https://canvas.instructure.com", "login_hint": "abc123", "client_id": CLIENT_ID,
              "target_link_uri": "https://tool.test/lti/launch", "lti_message_hint": "eyJhbGciOi.hint.sig",
              "deployment_id": "1:deploy", "canvas_region": "us-east-1", "canvas_environment": "prod"}
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


@pytest.mark.parametrize("method", ["get", "post"])
def test_login_redirects_to_the_platform_with_state_and_nonce(client, session, registration, method):
    params = _canvas_login()
    response = client.get("/lti/login", query_string=params) if method == "get" else client.post("/lti/login", data=params)
    assert response.status_code == 302
    url = urlsplit(response.headers["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == registration.auth_login_url
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == CLIENT_ID and query["login_hint"] == "abc123"
    assert query["redirect_uri"] == "https://tool.test/lti/launch"
    assert query["response_type"] == "id_token" and query["response_mode"] == "form_post"
    assert query["scope"] == "openid" and query["prompt"] == "none"
    assert query["lti_message_hint"] == "eyJhbGciOi.hint.sig"
    row = session.scalar(select(LoginState).where(LoginState.state == query["state"]))
    assert row.nonce == query["nonce"] and row.used_at is None and row.storage_secret is None
    cookie = response.headers["Set-Cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Path=/lti/"):
        assert attribute in cookie


def test_each_login_gets_its_own_state_so_two_tabs_work(client, registration):
    first = client.get("/lti/login", query_string=_canvas_login()).headers["Location"]
    second = client.get("/lti/login", query_string=_canvas_login()).headers["Location"]
    state = lambda url: parse_qs(urlsplit(url).query)["state"][0]  # noqa: E731
    assert state(first) != state(second)


def test_platform_storage_target_gets_the_put_data_page(client, session, registration):
    response = client.get("/lti/login", query_string=_canvas_login(lti_storage_target="post_message_forwarding"))
    assert response.status_code == 200
    row = session.scalar(select(LoginState))
    assert row.storage_target == "post_message_forwarding" and row.storage_secret
    assert "lti.put_data" in response.text and row.storage_secret in response.text
    assert f"mc_state_{row.state}" in response.text
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.text


@pytest.mark.parametrize("overrides, status, says", [
    ({"iss": None}, 400, "must carry"),
    ({"login_hint": None}, 400, "must carry"),
    ({"iss": "https://unknown.example"}, 400, "No platform registration for issuer https://unknown.example"),
    ({"client_id": "999"}, 400, "client_id 999"),
    ({"deployment_id": "1:other"}, 400, "Deployment 1:other is not registered"),
    ({"deployment_id": "1:dep"}, 400, "Deployment 1:dep is not registered"),  # never a prefix match
])
def test_bad_logins_are_refused_with_a_hint_for_it(client, session, registration, overrides, status, says):
    response = client.get("/lti/login", query_string=_canvas_login(**overrides))
    assert response.status_code == status
    assert says in response.text
    assert session.scalar(select(LoginState)) is None


def test_spec_parameter_lti_deployment_id_is_honoured(client, registration):
    response = client.get("/lti/login", query_string=_canvas_login(deployment_id=None, lti_deployment_id="1:other"))
    assert response.status_code == 400 and "1:other" in response.text


def test_launch_without_id_token_or_state_is_a_400_page(client, registration):
    assert client.post("/lti/launch", data={}).status_code == 400
    response = client.post("/lti/launch", data={"id_token": "a.b.c", "state": "nope"})
    assert response.status_code == 400 and "state" in response.text

"""District IT's two install paths: the developer-key JSON, and Dynamic Registration against a fake Canvas."""
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from lti_tool.audit.models import AuditEvent
from lti_tool.lti.install import developer_key
from lti_tool.lti.platform_http import RegistrationError, check_url
from lti_tool.lti.services.scopes import TOOL_SCOPES, granted_scopes, missing_scopes, scopes_named_in
from lti_tool.lti.models import Registration
from tests.install.fake_registration import FakeCanvasRegistration, registration_errors
from tests.install.support import BASE
from tests.install.support import invite as _invite, register as _register, stored as _stored, text as _text
from tests.support import factories

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


# --- the developer-key JSON ----------------------------------------------------------------------------

def _urls(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _urls(item)
    elif isinstance(value, str) and "://" in value:
        yield value


def test_canvas_json_has_every_required_field_and_placement(client):
    response = client.get("/lti/canvas.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert 'filename="microcred-canvas.json"' in response.headers["Content-Disposition"]
    key = json.loads(response.text)
    assert key["title"] and key["description"]
    assert key["oidc_initiation_url"] == f"{BASE}/lti/login"
    assert key["target_link_uri"] == f"{BASE}/lti/launch"
    assert key["public_jwk_url"] == f"{BASE}/lti/jwks"
    assert sorted(key["scopes"]) == sorted([AGS + "lineitem", AGS + "lineitem.readonly", AGS + "result.readonly",
                                            AGS + "score", NRPS])
    [extension] = key["extensions"]
    assert extension["platform"] == "canvas.instructure.com" and extension["privacy_level"] == "public"
    assert extension["domain"] == "tool.test"
    placements = {p["placement"]: p for p in extension["settings"]["placements"]}
    assert {name: p["message_type"] for name, p in placements.items()} == {
        "course_navigation": "LtiResourceLinkRequest", "assignment_selection": "LtiDeepLinkingRequest",
        "link_selection": "LtiDeepLinkingRequest", "account_navigation": "LtiResourceLinkRequest"}
    for placement in placements.values():
        assert placement["target_link_uri"] == f"{BASE}/lti/launch" and placement["text"]
        assert placement["custom_fields"] == {
            "canvas_user_id": "$Canvas.user.id", "canvas_course_id": "$Canvas.course.id",
            "canvas_user_sis_id": "$Canvas.user.sisSourceId", "canvas_section_ids": "$Canvas.course.sectionIds"}
    # Every URL in it is absolute, https, and on this server (scope names are identifiers, not endpoints).
    endpoints = [url for url in _urls(key) if url not in key["scopes"]]
    assert len(endpoints) >= 7 and all(url.startswith(f"{BASE}/lti/") for url in endpoints)


def test_canvas_json_follows_the_configured_base_url(make_app, db_url):
    app = make_app(db_url, TOOL_BASE_URL="https://pd.lakeside.k12.example.us")
    key = app.test_client().get("/lti/canvas.json").get_json()
    assert key["extensions"][0]["domain"] == "pd.lakeside.k12.example.us"
    assert all(url.startswith("https://pd.lakeside.k12.example.us/lti/") for url in _urls(key)
               if url not in key["scopes"])


def test_the_template_always_renders_valid_json():
    key = developer_key('https://odd.example/"quoted"\\path')
    assert key["oidc_initiation_url"] == 'https://odd.example/"quoted"\\path/lti/login'


# --- Dynamic Registration: the path that works ------------------------------------------------------------

def test_dynamic_registration_stores_a_launch_ready_platform(client, session, district, fake_canvas_registration):
    response = _register(client, fake_canvas_registration)
    assert response.status_code == 200, response.text
    assert "org.imsglobal.lti.close" in response.text and "window.parent" in response.text
    assert 'nonce="' in response.text

    [sent] = fake_canvas_registration.received
    assert registration_errors(sent) == []
    assert sent["application_type"] == "web" and sent["grant_types"] == ["client_credentials", "implicit"]
    assert sent["response_types"] == ["id_token"] and sent["token_endpoint_auth_method"] == "private_key_jwt"
    assert sent["initiate_login_uri"] == f"{BASE}/lti/login"
    assert sent["redirect_uris"] == [f"{BASE}/lti/launch"] and sent["jwks_uri"] == f"{BASE}/lti/jwks"
    assert sorted(sent["scope"].split()) == sorted(TOOL_SCOPES)
    tool = sent[TOOL_CONFIGURATION]
    assert tool["domain"] == "tool.test" and tool["target_link_uri"] == f"{BASE}/lti/launch"
    assert tool["https://canvas.instructure.com/lti/privacy_level"] == "public"
    assert tool["custom_parameters"]["canvas_section_ids"] == "$Canvas.course.sectionIds"
    placements = {p: m for m in tool["messages"] for p in m["placements"]}
    assert placements["course_navigation"]["type"] == "LtiResourceLinkRequest"
    assert placements["course_navigation"]["https://canvas.instructure.com/lti/course_navigation/default_enabled"]
    assert placements["assignment_selection"]["type"] == placements["link_selection"]["type"] == "LtiDeepLinkingRequest"
    assert placements["account_navigation"]["https://canvas.instructure.com/lti/visibility"] == "admins"

    registration = session.scalar(select(Registration))
    [client_id] = fake_canvas_registration.registrations
    assert registration.client_id == client_id and registration.issuer == fake_canvas_registration.base_url
    assert registration.auth_login_url == f"{fake_canvas_registration.base_url}/api/lti/authorize_redirect"
    assert registration.auth_token_url == fake_canvas_registration.token_url
    assert registration.key_set_url == f"{fake_canvas_registration.base_url}/api/lti/security/jwks"
    assert registration.district_id == district.id and registration.name == "Lakeside School District"
    # Canvas answers its root-account deployment at the top level, and "openid" among the scopes.
    assert [d.deployment_id for d in registration.deployments] == [fake_canvas_registration.registrations[client_id]["deployment_id"]]
    assert sorted(registration.scopes) == sorted(TOOL_SCOPES) and missing_scopes(registration) == ()
    assert fake_canvas_registration.registrations[client_id]["deployment_id"] in response.text

    # The tool can now start a launch from this platform, and get tokens for its services.
    login = client.get("/lti/login", query_string={"iss": fake_canvas_registration.base_url, "login_hint": "x", "client_id": client_id,
                                                   "deployment_id": registration.deployments[0].deployment_id})
    assert login.status_code == 302
    assert login.headers["Location"].startswith(f"{fake_canvas_registration.base_url}/api/lti/authorize_redirect?")


@pytest.mark.parametrize("deployment_in", ["tool_configuration", None])
def test_where_the_platform_puts_the_deployment(client, session, district, tool_jwks, deployment_in):
    """The IMS spec puts it in the tool configuration; Canvas before LTI Registrations sends none."""
    fake_canvas_registration = FakeCanvasRegistration(jwks_for=tool_jwks, deployment_in=deployment_in)
    try:
        response = _register(client, fake_canvas_registration)
    finally:
        fake_canvas_registration.stop()
    assert response.status_code == 200, response.text
    registration = session.scalar(select(Registration))
    [(client_id, record)] = fake_canvas_registration.registrations.items()
    if deployment_in:
        assert [d.deployment_id for d in registration.deployments] == [record["deployment_id"]]
    else:
        assert registration.deployments == [] and "By Client ID" in response.text


def test_a_platform_that_grants_less_in_its_answer_is_believed(client, session, district, tool_jwks):
    fake_canvas_registration = FakeCanvasRegistration(jwks_for=tool_jwks, grant=f"{AGS}score openid")
    try:
        assert _register(client, fake_canvas_registration).status_code == 200
    finally:
        fake_canvas_registration.stop()
    registration = session.scalar(select(Registration))
    assert registration.scopes == [AGS + "score"]
    assert NRPS in missing_scopes(registration)


# --- Dynamic Registration: every failure explains itself and stores nothing ------------------------------

@pytest.mark.parametrize("case, status, says", [
    ("no_configuration", 400, "openid_configuration"),
    ("no_token", 400, "registration_token"),
    ("expired_token", 400, "answered 401"),
    ("wrong_token", 400, "refused the registration (401)"),
    ("configuration_not_json", 400, "is not JSON"),
    ("configuration_unreachable", 400, "could not be fetched"),
    ("configuration_not_an_object", 400, "not a JSON object"),
    ("plain_http_issuer", 400, "must use https"),
    ("plain_http_jwks", 400, "jwks_uri must use https"),
    ("other_platform", 400, "names another platform"),
    ("missing_registration_endpoint", 400, "registration_endpoint is missing"),
    ("missing_token_endpoint", 400, "token_endpoint is missing"),
    ("redirect_to_private", 400, "redirect target must use https"),
    ("invalid_registration", 400, "refused the registration (422)"),
])
def test_failures_are_explained_and_store_nothing(client, session, district, fake_canvas_registration, monkeypatch, case, status,
                                                  says):
    query = {}
    if case == "no_configuration":
        query["openid_configuration"] = ""
    elif case == "no_token":
        query["registration_token"] = ""
    elif case == "expired_token":
        config_url, token = fake_canvas_registration.start_registration(lifetime=-1)
        query.update(openid_configuration=config_url, registration_token=token)
    elif case == "wrong_token":
        query["registration_token"] = "stolen"  # the configuration URL's own token still works
    elif case == "configuration_not_json":
        fake_canvas_registration.config_body = "<html>Canvas is down for maintenance</html>"
    elif case == "configuration_unreachable":
        fake_canvas_registration.stop()
    elif case == "configuration_not_an_object":
        fake_canvas_registration.config_body = "[]"
    elif case == "plain_http_issuer":
        fake_canvas_registration.config_override = {"issuer": "http://lms.example.edu"}
    elif case == "plain_http_jwks":
        fake_canvas_registration.config_override = {"jwks_uri": "http://lms.example.edu/jwks"}
    elif case == "other_platform":
        fake_canvas_registration.config_override = {"issuer": "https://evil.example.com"}
    elif case == "missing_registration_endpoint":
        fake_canvas_registration.config_override = {"registration_endpoint": None}
    elif case == "missing_token_endpoint":
        fake_canvas_registration.config_override = {"token_endpoint": None}
    elif case == "redirect_to_private":
        fake_canvas_registration.config_redirect = "http://169.254.169.254/latest/meta-data/"
    elif case == "invalid_registration":
        from lti_tool.lti import dynreg

        real = dynreg.tool_registration
        monkeypatch.setattr(dynreg, "tool_registration", lambda base: {**real(base), "response_types": ["code"]})
    response = _register(client, fake_canvas_registration, **query)
    assert response.status_code == status, response.text
    assert 400 <= response.status_code < 500
    assert says in _text(response)
    assert _stored(session) == (0, 0, 0)
    if case == "wrong_token":
        assert fake_canvas_registration.refused == [(401, {"errorMessage": "JWT did not include expected contents"})]
    if case == "invalid_registration":
        [(refused, body)] = fake_canvas_registration.refused
        assert refused == 422 and body["errors"][0]["field"] == "response_types"
    if case not in ("wrong_token", "invalid_registration"):
        assert fake_canvas_registration.received == []


def test_registering_the_same_client_again_is_a_conflict(client, session, district, fake_canvas_registration):
    """Canvas's "update registration" flow answers with the key it already made."""
    assert _register(client, fake_canvas_registration).status_code == 200
    [client_id] = fake_canvas_registration.registrations
    again = _register(client, fake_canvas_registration, existing=client_id)
    assert again.status_code == 409 and "already registered" in _text(again)
    assert _stored(session)[:2] == (1, 1)


def test_json_callers_get_json_errors(client, session, district, fake_canvas_registration):
    config_url, _ = fake_canvas_registration.start_registration(lifetime=-1)
    response = client.get("/lti/register", headers={"Accept": "application/json"}, query_string={
        "invite": _invite(client), "openid_configuration": config_url, "registration_token": "x"})
    assert response.status_code == 400 and response.get_json()["error"] == "registration_refused"
    assert "start again from Canvas" in response.get_json()["hint"]


def test_production_refuses_private_addresses():
    with pytest.raises(RegistrationError) as private:
        check_url("jwks_uri", "https://127.0.0.1/jwks", production=True)
    assert "private address" in private.value.hint
    with pytest.raises(RegistrationError) as plain:
        check_url("jwks_uri", "http://127.0.0.1/jwks", production=True)
    assert "must use https" in plain.value.hint
    with pytest.raises(RegistrationError) as metadata:
        check_url("jwks_uri", "https://169.254.169.254/latest", production=True)
    assert "private address" in metadata.value.hint
    assert check_url("jwks_uri", "http://127.0.0.1:9/jwks", production=False)
    with pytest.raises(RegistrationError):
        check_url("jwks_uri", "http://10.0.0.8/jwks", production=False)


# --- the invite: who may register into which district ----------------------------------------------------

@pytest.mark.parametrize("invite, says", [(None, "has no 'invite'"), ("forged", "not issued by this server")])
def test_registration_needs_an_invite_from_this_server(client, session, district, fake_canvas_registration, invite, says):
    """Without it, anyone with a Canvas account could register their Canvas into a district."""
    response = _register(client, fake_canvas_registration, invite=invite)
    assert response.status_code == 403 and says in _text(response)
    assert fake_canvas_registration.received == [] and fake_canvas_registration.refused == [] and _stored(session) == (0, 0, 0)


def test_an_expired_invite_is_refused(client, session, district, fake_canvas_registration, monkeypatch):
    from lti_tool.lti import dynreg

    invite = _invite(client)
    monkeypatch.setattr(dynreg, "INVITE_MAX_AGE", -1)
    response = _register(client, fake_canvas_registration, invite=invite)
    assert response.status_code == 403 and "expired" in response.text and _stored(session) == (0, 0, 0)


def test_the_invite_names_the_district(client, session, district, fake_canvas_registration):
    other = factories.district(session, slug="riverside")
    session.commit()
    assert _register(client, fake_canvas_registration, invite=_invite(client, "riverside")).status_code == 200
    assert session.scalar(select(Registration.district_id)) == other.id


def test_the_cli_prints_a_registration_url_for_the_district(runner, district, client, session, fake_canvas_registration):
    url = runner.invoke(args=["platform", "registration-url", "--district", "lakeside"]).output.strip()
    assert url.startswith(f"{BASE}/lti/register?invite=")
    invite = parse_qs(urlsplit(url).query)["invite"][0]
    assert _register(client, fake_canvas_registration, invite=invite).status_code == 200


# --- granted scopes: what the admin unticks later ---------------------------------------------------------

@pytest.fixture
def registered(app, client, session, district, fake_canvas_registration):
    """A registration made through Canvas; the test then runs inside the app context, as a worker would."""
    assert _register(client, fake_canvas_registration).status_code == 200
    session.expire_all()
    registration = session.scalar(select(Registration))
    with app.app_context():
        yield registration


def test_scopes_the_admin_unticks_later_are_detected_and_recorded(session, fake_canvas_registration, registered):
    from lti_tool.lti.services.scopes import refresh_granted_scopes

    fake_canvas_registration.disable_scopes(registered.client_id, AGS + "lineitem", NRPS)
    check = refresh_granted_scopes(session, registered)
    assert check.removed == {AGS + "lineitem", NRPS} and check.added == set()
    assert granted_scopes(registered) == set(TOOL_SCOPES) - {AGS + "lineitem", NRPS}
    assert missing_scopes(registered) == (AGS + "lineitem", NRPS)
    session.commit()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "platform.scopes_changed"))
    assert event.after == {"scopes": sorted(set(TOOL_SCOPES) - {AGS + "lineitem", NRPS})}
    assert fake_canvas_registration.token_requests == []  # one refused request told it all: Canvas names the missing scopes

    fake_canvas_registration.enable_scopes(registered.client_id, NRPS)
    again = refresh_granted_scopes(session, registered)
    assert again.added == {NRPS} and again.removed == set() and NRPS in registered.scopes


def test_a_platform_that_does_not_name_the_missing_scopes_is_asked_one_by_one(session, fake_canvas_registration, registered):
    from lti_tool.lti.services.scopes import refresh_granted_scopes

    fake_canvas_registration.terse_scope_errors = True
    fake_canvas_registration.disable_scopes(registered.client_id, AGS + "result.readonly")
    check = refresh_granted_scopes(session, registered)
    assert check.removed == {AGS + "result.readonly"}
    assert len(fake_canvas_registration.token_requests) == len(TOOL_SCOPES) - 1  # a token for each scope still granted


def test_nothing_changes_when_nothing_changed(session, fake_canvas_registration, registered):
    from lti_tool.lti.services.scopes import refresh_granted_scopes

    check = refresh_granted_scopes(session, registered)
    assert check.granted == set(TOOL_SCOPES) and not check.removed and not check.added
    session.commit()
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "platform.scopes_changed")) == 0


def test_canvas_scope_sentences_are_read():
    asked = frozenset(TOOL_SCOPES)
    prefix = ("A requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource "
              "owner. The following scopes were requested, but not granted: ")
    assert scopes_named_in(prefix + NRPS, asked) == {NRPS}
    assert scopes_named_in(prefix + f"{AGS}score and {NRPS}", asked) == {AGS + "score", NRPS}
    assert scopes_named_in(prefix + f"{AGS}score, {AGS}lineitem, and {NRPS}", asked) == {
        AGS + "score", AGS + "lineitem", NRPS}
    assert scopes_named_in("invalid_scope", asked) is None
    assert scopes_named_in(prefix + "https://other.example/scope", asked) is None


def test_unknown_scopes_mean_everything_the_tool_asks_for():
    assert granted_scopes(Registration(scopes=None)) == set(TOOL_SCOPES)
    assert granted_scopes(Registration(scopes=[AGS + "score", "openid"])) == {AGS + "score"}


def test_the_fake_refuses_what_canvas_refuses():
    from lti_tool.lti.dynreg import tool_registration

    good = tool_registration(BASE)
    assert registration_errors(good) == []
    bad = json.loads(json.dumps(good))
    bad["grant_types"] = ["implicit"]
    bad[TOOL_CONFIGURATION]["domain"] = "https://tool.test"
    bad[TOOL_CONFIGURATION]["messages"][1]["placements"] = ["course_navigation"]
    bad[TOOL_CONFIGURATION]["messages"][0]["https://canvas.instructure.com/lti/visibility"] = "everyone"
    fields = {error["field"].rsplit(".", 1)[-1] for error in registration_errors(bad)}
    assert {"grant_types", "domain", "placements", "visibility"} <= fields


def test_it_can_check_the_scopes_from_the_command_line(app, runner, session, fake_canvas_registration, registered):
    fake_canvas_registration.disable_scopes(registered.client_id, NRPS)
    shown = runner.invoke(args=["platform", "scopes", str(registered.id)])
    assert shown.exit_code == 0 and f"granted      {NRPS}" in shown.output
    refreshed = runner.invoke(args=["platform", "scopes", str(registered.id), "--refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert f"NOT granted  {NRPS}" in refreshed.output and f"Recorded: -{NRPS}." in refreshed.output
    session.expire_all()
    assert NRPS not in session.get(Registration, registered.id).scopes
    assert "No platform registration 999" in runner.invoke(args=["platform", "scopes", "999"]).output

"""District IT's two install paths: the developer-key JSON and Dynamic Registration against a fake Canvas."""
import json

import pytest
from sqlalchemy import func, select

from lti_tool.lti.dynreg import check_url, RegistrationError
from lti_tool.lti.models import Registration
from tests.install.fake_registration import FakeCanvasRegistration
from tests.support import factories

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"


def test_canvas_json_has_every_required_field_and_placement(client):
    response = client.get("/lti/canvas.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    key = json.loads(response.text)
    assert key["oidc_initiation_url"] == "https://tool.test/lti/login"
    assert key["target_link_uri"] == "https://tool.test/lti/launch"
    assert key["public_jwk_url"] == "https://tool.test/lti/jwks"
    assert key["title"] and key["description"]
    assert sorted(key["scopes"]) == sorted([AGS + "lineitem", AGS + "lineitem.readonly", AGS + "result.readonly",
                                            AGS + "score",
                                            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"])
    [canvas] = key["extensions"]
    assert canvas["platform"] == "canvas.instructure.com" and canvas["privacy_level"] == "public"
    placements = {p["placement"]: p for p in canvas["settings"]["placements"]}
    assert placements["course_navigation"]["message_type"] == "LtiResourceLinkRequest"
    assert placements["assignment_selection"]["message_type"] == "LtiDeepLinkingRequest"
    assert placements["link_selection"]["message_type"] == "LtiDeepLinkingRequest"
    assert placements["account_navigation"]["message_type"] == "LtiResourceLinkRequest"
    for placement in placements.values():
        assert placement["target_link_uri"] == "https://tool.test/lti/launch"
        assert placement["custom_fields"]["canvas_course_id"] == "$Canvas.course.id"
        assert placement["custom_fields"]["canvas_section_ids"] == "$Canvas.course.sectionIds"
        assert placement["custom_fields"]["canvas_user_sis_id"] == "$Canvas.user.sisSourceId"


@pytest.fixture
def fake():
    canvas = FakeCanvasRegistration()
    yield canvas
    canvas.stop()


@pytest.fixture
def district(session):
    found = factories.district(session)
    session.commit()
    return found


def _invite(client, district_slug="lakeside"):
    from lti_tool.lti.dynreg import make_invite

    return make_invite(client.application.config["SECRET_KEY"], district_slug)


def _register(client, fake, token=None, **extra):
    extra.setdefault("invite", _invite(client))
    return client.get("/lti/register", query_string={"openid_configuration": fake.url(),
                                                      "registration_token": token or fake.token, **extra})


def _count(session):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Registration))


def test_dynamic_registration_stores_a_launch_ready_platform(client, session, district, fake):
    response = _register(client, fake)
    assert response.status_code == 200, response.text
    assert "org.imsglobal.lti.close" in response.text
    [sent] = fake.received
    assert sent["initiate_login_uri"] == "https://tool.test/lti/login"
    assert sent["redirect_uris"] == ["https://tool.test/lti/launch"]
    assert sent["jwks_uri"] == "https://tool.test/lti/jwks"
    tool = sent["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert tool["https://canvas.instructure.com/lti/privacy_level"] == "public"
    assert {m["type"] for m in tool["messages"]} == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    registration = session.scalar(select(Registration))
    assert registration.client_id == "10000000000777" and registration.issuer == fake.base
    assert registration.auth_login_url == f"{fake.base}/api/lti/authorize_redirect"
    assert [d.deployment_id for d in registration.deployments] == ["77:reg"]
    assert registration.district_id == district.id
    # The tool can now start a launch from this platform.
    login = client.get("/lti/login", query_string={"iss": fake.base, "login_hint": "x", "client_id": "10000000000777",
                                                   "deployment_id": "77:reg"})
    assert login.status_code == 302 and login.headers["Location"].startswith(f"{fake.base}/api/lti/authorize_redirect?")


def test_scopes_the_admin_narrowed_are_recorded(client, session, district):
    canvas = FakeCanvasRegistration(grant=AGS + "score")
    try:
        assert _register(client, canvas).status_code == 200
    finally:
        canvas.stop()
    assert session.scalar(select(Registration.scopes)) == [AGS + "score"]


@pytest.mark.parametrize("case, status, says", [
    ("no_token", 400, "registration_token"),
    ("wrong_token", 502, "answered 401"),
    ("refused", 502, "refused the registration (422)"),
    ("plain_http_issuer", 400, "must use https"),
    ("other_platform", 400, "names another platform"),
    ("missing_endpoint", 400, "registration_endpoint is missing"),
])
def test_failures_are_explained_and_store_nothing(client, session, district, fake, case, status, says):
    if case == "no_token":
        response = client.get("/lti/register", query_string={"openid_configuration": fake.url(),
                                                              "invite": _invite(client)})
    elif case == "wrong_token":
        response = _register(client, fake, token="stolen")
    else:
        if case == "refused":
            fake.refuse_with = 422
        elif case == "plain_http_issuer":
            fake.config_override = {"issuer": "http://lms.example.edu"}
        elif case == "other_platform":
            fake.config_override = {"issuer": "https://evil.example.com"}
        elif case == "missing_endpoint":
            fake.config_override = {"registration_endpoint": None}
        response = _register(client, fake)
    assert response.status_code == status
    assert says in response.text.replace("&#39;", "'")
    assert _count(session) == 0


def test_registering_the_same_client_twice_is_a_conflict(client, session, district, fake):
    assert _register(client, fake).status_code == 200
    again = _register(client, fake)
    assert again.status_code == 409 and "already registered" in again.text
    assert _count(session) == 1


def test_production_refuses_private_addresses():
    with pytest.raises(RegistrationError) as private:
        check_url("jwks_uri", "https://127.0.0.1/jwks", production=True)
    assert "private address" in private.value.hint
    with pytest.raises(RegistrationError) as plain:
        check_url("jwks_uri", "http://127.0.0.1/jwks", production=True)
    assert "must use https" in plain.value.hint
    assert check_url("jwks_uri", "http://127.0.0.1:9/jwks", production=False)


@pytest.mark.parametrize("invite, says", [(None, "has no &#39;invite&#39;"), ("forged", "not issued by this server")])
def test_registration_needs_an_invite_from_this_server(client, session, district, fake, invite, says):
    """Without it, anyone with a Canvas account could register their Canvas into a district."""
    query = {"openid_configuration": fake.url(), "registration_token": fake.token}
    if invite:
        query["invite"] = invite
    response = client.get("/lti/register", query_string=query)
    assert response.status_code == 403 and says in response.text
    assert fake.received == [] and _count(session) == 0


def test_an_expired_invite_is_refused(client, session, district, fake, monkeypatch):
    from lti_tool.lti import dynreg

    invite = _invite(client)
    monkeypatch.setattr(dynreg, "INVITE_MAX_AGE", -1)
    response = _register(client, fake, invite=invite)
    assert response.status_code == 403 and "expired" in response.text and _count(session) == 0


def test_the_cli_prints_a_registration_url_for_the_district(runner, district, client, session, fake):
    from urllib.parse import parse_qs, urlsplit

    url = runner.invoke(args=["platform", "registration-url", "--district", "lakeside"]).output.strip()
    assert url.startswith("https://tool.test/lti/register?invite=")
    invite = parse_qs(urlsplit(url).query)["invite"][0]
    assert _register(client, fake, invite=invite).status_code == 200

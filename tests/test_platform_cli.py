"""District IT registers platforms from the command line; registrations and deployments live in the DB."""
from sqlalchemy import select

from lti_tool.audit.models import AuditEvent
from lti_tool.lti.models import Deployment, Registration
from lti_tool.lti import registry
from lti_tool.people.models import District


def _add(runner, *extra):
    return runner.invoke(args=["platform", "add", *extra])


def test_canvas_shortcut_fills_hosted_canvas_endpoints(runner, session):
    result = _add(runner, "--canvas", "--client-id", "10000000000042", "--deployment-id", "12:abcdef")
    assert result.exit_code == 0, result.output
    registration = session.scalar(select(Registration))
    assert registration.issuer == "https://canvas.instructure.com"
    assert registration.auth_login_url == "https://sso.canvaslms.com/api/lti/authorize_redirect"
    assert registration.auth_token_url == "https://sso.canvaslms.com/login/oauth2/token"
    assert registration.key_set_url == "https://sso.canvaslms.com/api/lti/security/jwks"
    assert [d.deployment_id for d in registration.deployments] == ["12:abcdef"]
    assert len(registration.scopes) == 5 and all(s.startswith("https://purl.imsglobal.org/spec/lti-") for s in registration.scopes)
    # On an empty server the registration goes to a new default district.
    assert session.get(District, registration.district_id).slug == "default"


def test_beta_and_explicit_endpoints(runner, session):
    assert _add(runner, "--canvas-beta", "--client-id", "1", "--scope",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score").exit_code == 0
    assert session.scalar(select(Registration.scopes)) == ["https://purl.imsglobal.org/spec/lti-ags/scope/score"]
    assert _add(runner, "--issuer", "https://lms.example.edu", "--client-id", "abc", "--auth-login-url",
                "https://lms.example.edu/auth", "--auth-token-url", "https://lms.example.edu/token",
                "--key-set-url", "https://lms.example.edu/jwks", "--name", "Self-hosted").exit_code == 0
    issuers = sorted(session.scalars(select(Registration.issuer)))
    assert issuers == ["https://canvas.beta.instructure.com", "https://lms.example.edu"]


def test_missing_endpoints_and_plain_http_are_refused(runner, session):
    assert "missing --issuer" in _add(runner, "--client-id", "1").output
    result = _add(runner, "--issuer", "http://lms.example.edu", "--client-id", "1", "--auth-login-url", "http://a",
                  "--auth-token-url", "http://b", "--key-set-url", "http://c")
    assert result.exit_code != 0 and "https://" in result.output
    assert session.scalar(select(Registration)) is None


def test_duplicate_registration_is_a_clear_error(runner):
    assert _add(runner, "--canvas", "--client-id", "7").exit_code == 0
    result = _add(runner, "--canvas", "--client-id", "7")
    assert result.exit_code != 0 and "already registered" in result.output and "add-deployment" in result.output


def test_deployments_are_added_later_and_matched_exactly(runner, session):
    _add(runner, "--canvas", "--client-id", "7", "--deployment-id", "1:aaa", "--deployment-id", "2:bbb")
    registration = session.scalar(select(Registration))
    assert runner.invoke(args=["platform", "add-deployment", str(registration.id), "3:ccc"]).exit_code == 0
    assert runner.invoke(args=["platform", "add-deployment", str(registration.id), "3:ccc"]).exit_code == 0
    session.expire_all()
    assert sorted(d.deployment_id for d in registration.deployments) == ["1:aaa", "2:bbb", "3:ccc"]
    assert registry.find_deployment(session, registration, "1:aa") is None  # never a substring match
    assert registry.find_deployment(session, registration, "1:aaa:x") is None
    assert registry.find_deployment(session, registration, "1:aaa") is not None


def test_list_and_remove(runner, session):
    _add(runner, "--canvas", "--client-id", "7", "--deployment-id", "1:aaa")
    assert "client_id=7" in runner.invoke(args=["platform", "list"]).output
    registration_id = session.scalar(select(Registration.id))
    assert runner.invoke(args=["platform", "remove", str(registration_id), "--yes"]).exit_code == 0
    assert session.scalar(select(Deployment)) is None
    assert "No platforms" in runner.invoke(args=["platform", "list"]).output
    actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "lti_registration")))
    assert actions == ["platform.registered", "platform.deployment_added", "platform.removed"]


def test_district_is_required_when_several_exist(runner, session):
    runner.invoke(args=["seed-demo"])
    from lti_tool.people.service import ensure_district

    ensure_district(session, slug="other", name="Other")
    session.commit()
    result = _add(runner, "--canvas", "--client-id", "7")
    assert result.exit_code != 0 and "--district" in result.output
    assert _add(runner, "--canvas", "--client-id", "7", "--district", "other").exit_code == 0
    assert "No district with slug 'nope'" in _add(runner, "--canvas", "--client-id", "8", "--district", "nope").output

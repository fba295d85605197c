"""Sessions after a launch: the opaque token (cookie or ``mcs``), CSRF on forms, and deep-link permissions."""
from datetime import timedelta
import re

import jwt
import pytest
from sqlalchemy import select, update

from lti_tool.db import utcnow
from lti_tool.lti.actor import Actor
from lti_tool.lti.models import RateLimit, ToolSession
from lti_tool.lti.roles import Role
from lti_tool.lti.session import _hash
from tests.support import factories
from tests.support.web import csrf_for, csrf_from

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


@pytest.fixture
def catalog(session, district):
    """Two published micro-credentials in the district, for the deep-linking picker."""
    import json

    from lti_tool.catalog import service
    from tests.support import catalog_docs

    docs = [catalog_docs.mc("morning-meeting", title="Morning Meeting for Social-Emotional Learning"),
            catalog_docs.mc("digital-feedback")]
    service.import_texts(session, Actor.for_system(district.id, "test"), [(d["slug"], json.dumps(d)) for d in docs])
    session.commit()


def _dl_claims(**settings):
    return {DL: {"deep_link_return_url": "https://canvas.example/courses/1/deep_linking_response",
                 "accept_types": ["ltiResourceLink"], "accept_presentation_document_targets": ["iframe", "window"],
                 "accept_multiple": False, "data": "opaque-platform-data", **settings}}



def test_no_session_shows_the_welcome_page(client):
    response = client.get("/")
    assert response.status_code == 200 and "Open Microcred from your course" in response.text


def test_session_cookie_identifies_the_actor(client, session, registration, catalog):
    token, _ = factories.signed_in(session, registration, {Role.FACILITATOR})
    session.commit()
    client.set_cookie("mc_session", token, domain="localhost")
    assert "Facilitator" in client.get("/").text


def test_session_parameter_works_where_cookies_are_blocked(client, session, registration, catalog):
    token, _ = factories.signed_in(session, registration, {Role.FACILITATOR}, claims=_dl_claims())
    session.commit()
    page = client.get(f"/lti/deep-link?mcs={token}")
    assert page.status_code == 200
    assert f'action="/lti/deep-link?mcs={token}"' in page.text  # links and forms keep the session


def test_expired_or_unknown_sessions_are_refused(client, session, registration, catalog):
    token, _ = factories.signed_in(session, registration, {Role.FACILITATOR}, claims=_dl_claims())
    session.execute(update(ToolSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    for url in (f"/lti/deep-link?mcs={token}", "/lti/deep-link?mcs=forged"):
        response = client.get(url)
        assert response.status_code == 401 and "open microcred from your course" in response.text.lower()


def test_deep_link_post_needs_csrf(client, session, registration, catalog):
    token, _ = factories.signed_in(session, registration, {Role.FACILITATOR}, claims=_dl_claims())
    session.commit()
    response = client.post(f"/lti/deep-link?mcs={token}", data={"resource": "mc:morning-meeting"})
    assert response.status_code == 400 and "expired" in response.text


def test_teachers_and_student_view_cannot_place_items(client, session, registration, catalog):
    for roles, test_user in (({Role.TEACHER}, False), ({Role.FACILITATOR}, True)):
        token, _ = factories.signed_in(session, registration, roles, test_user=test_user, claims=_dl_claims())
        session.commit()
        assert client.get(f"/lti/deep-link?mcs={token}").status_code == 403  # not even the picker
        response = client.post(f"/lti/deep-link?mcs={token}", data={"resource": "mc:morning-meeting",
                                                                     "csrf_token": csrf_for(client.application, token)})
        assert response.status_code == 403


def test_instructor_places_one_item_as_a_graded_resource_link(client, session, registration, catalog):
    token, actor = factories.signed_in(session, registration, {Role.FACILITATOR}, claims=_dl_claims())
    session.commit()
    csrf = csrf_from(client.get(f"/lti/deep-link?mcs={token}").text)
    response = client.post(f"/lti/deep-link?mcs={token}", data={"resource": "mc:morning-meeting", "csrf_token": csrf})
    assert response.status_code == 200
    assert 'action="https://canvas.example/courses/1/deep_linking_response"' in response.text
    signed = re.search(r'name="JWT" value="([^"]+)"', response.text).group(1)
    keys = {k["kid"]: k for k in client.get("/lti/jwks").json["keys"]}
    public = jwt.algorithms.RSAAlgorithm.from_jwk(keys[jwt.get_unverified_header(signed)["kid"]])
    body = jwt.decode(signed, public, algorithms=["RS256"], audience=registration.issuer)
    assert body["iss"] == registration.client_id
    assert body["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    assert body["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == actor.deployment_id
    assert body["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-platform-data"
    [item] = body["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["url"] == "https://tool.test/lti/launch"
    assert item["lineItem"] == {"scoreMaximum": 1.0, "label": "Morning Meeting for Social-Emotional Learning",
                                "resourceId": "mc:morning-meeting", "tag": "microcred"}
    assert item["custom"] == {"microcred_kind": "mc", "microcred_slug": "morning-meeting"}


def test_two_items_when_the_platform_accepts_one_is_refused(client, session, registration, catalog):
    token, _ = factories.signed_in(session, registration, {Role.FACILITATOR}, claims=_dl_claims())
    session.commit()
    csrf = csrf_from(client.get(f"/lti/deep-link?mcs={token}").text)
    response = client.post(f"/lti/deep-link?mcs={token}", data={
        "resource": ["mc:morning-meeting", "mc:digital-feedback"], "csrf_token": csrf})
    # The picker again, what was ticked still ticked, the reason beside the list: not a dead-end error page.
    assert response.status_code == 400 and "just one" in response.text
    assert 'id="f-resource-error"' in response.text and 'name="resource"' in response.text
    assert response.text.count(" checked>") == 2
    response = client.post(f"/lti/deep-link?mcs={token}", data={"resource": "mc:unknown", "csrf_token": csrf})
    assert response.status_code == 400 and "Choose at least one" in response.text and 'name="resource"' in response.text


def test_deep_link_page_needs_a_deep_linking_launch(client, session, registration, catalog):
    token, _ = factories.signed_in(session, registration, {Role.FACILITATOR}, claims={})
    session.commit()
    response = client.get(f"/lti/deep-link?mcs={token}")
    assert response.status_code == 400 and "assignment or link picker" in response.text


def test_purge_deletes_only_what_expired(runner, session, registration, catalog):
    from lti_tool.lti.models import LaunchRecord

    old_token, _ = factories.signed_in(session, registration, {Role.TEACHER})
    live_token, _ = factories.signed_in(session, registration, {Role.TEACHER})
    past = utcnow() - timedelta(minutes=1)
    session.execute(update(ToolSession).where(ToolSession.token_hash == _hash(old_token)).values(expires_at=past))
    session.execute(update(LaunchRecord).values(expires_at=past))
    session.add_all([RateLimit(key="login:spent", window_start=utcnow() - timedelta(hours=2), hits=9),
                     RateLimit(key="login:current", window_start=utcnow(), hits=1)])
    session.commit()
    result = runner.invoke(args=["lti", "purge"])
    assert result.output.strip() == "login states: 0, sessions: 1, launches: 1, rate counters: 1"
    assert session.scalars(select(RateLimit.key)).all() == ["login:current"]
    session.expire_all()
    assert session.query(ToolSession).count() == 1 and session.query(LaunchRecord).count() == 1

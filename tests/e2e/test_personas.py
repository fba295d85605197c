"""Every practice persona launches Microcred over HTTPS (login initiation → the tool's /lti/login → the
platform's /practice/auth → the tool's /lti/launch) and lands on the home page with the role it maps to."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.lti.models import Deployment, LaunchRecord, Registration
from lti_tool.people.models import CourseSchool, District, School, SchoolAdmin, User
from lti_tool.practice import personas as people
from tests.support.platform import set_cookie_headers

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def shown_roles(page) -> list[str]:
    listed = re.search(r'<ul class="roles"[^>]*>(.*?)</ul>', page.text, re.S)
    assert listed, page.text[:600]
    return [re.sub(r"\s+", " ", item).strip() for item in re.findall(r"<li>(.*?)</li>", listed.group(1), re.S)]


@pytest.mark.parametrize("persona, roles", [
    ("teacher", ["Teacher"]),
    ("teacher2", ["Teacher"]),
    ("school_admin", ["Facilitator", "School administrator"]),
    ("district_admin", ["District administrator", "Facilitator"]),
    ("student_view", ["Teacher"]),
    ("instructor", ["Facilitator"]),
])
def test_every_persona_lands_on_the_home_page_with_its_role(demo, browser, persona, roles):
    landed = browser.launch(persona)
    page = landed.page
    assert page.status_code == 200 and page.url == demo.url + "/", page.text[:600]
    assert f"Welcome, {people.PERSONAS[persona].name}" in page.text
    assert "Lakeside Elementary School" in page.text  # the practice course is mapped to school LES
    assert sorted(shown_roles(page)) == sorted(roles)
    assert ("You are in Student View" in page.text) == (persona == "student_view")


def test_a_relaunch_reuses_the_user_and_the_principal_was_designated_ahead(demo, browser, practice):
    browser.launch("teacher")
    before = practice.rows()
    browser.launch("teacher")
    browser.launch("school_admin")  # the principal's user row was made when the platform registered
    after = practice.rows()
    assert after["User"] == before["User"]
    assert after["LaunchRecord"] == before["LaunchRecord"] + 2
    with demo.app.app_context(), session_scope() as session:
        for persona in ("teacher", "school_admin"):
            assert session.scalar(select(func.count()).select_from(User)
                                  .where(User.subject == people.PERSONAS[persona].subject)) == 1
        principal = session.scalar(select(User).where(User.subject == people.PERSONAS["school_admin"].subject))
        assert principal.email == "carmen.li@lakeside.example"  # filled in by the launch


def test_cookies_are_secure_cross_site_partitioned_and_http_only(demo, browser):
    login = browser.login("teacher")
    state_cookies = [c for c in set_cookie_headers(login.history[1]) if c.startswith("mc_lti_state_")]
    landed = browser.launch("teacher")
    [session_cookie] = [c for c in set_cookie_headers(landed.answer) if c.startswith("mc_session=")]
    for cookie in state_cookies + [session_cookie]:
        attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
        assert {"secure", "httponly", "partitioned"} <= set(attributes), cookie
        assert attributes["samesite"] == "SameSite=None", cookie
    assert len(state_cookies) == 1 and "Path=/lti/" in state_cookies[0]


def test_the_launch_carries_canvas_claims_and_service_endpoints(demo, browser):
    browser.launch("student_view")
    with demo.app.app_context(), session_scope() as session:
        claims = session.scalars(select(LaunchRecord.claims)).one()
    base = demo.url + "/practice"
    assert claims["iss"] == base and claims["aud"] == "practice-lms"
    assert claims[CLAIM + "deployment_id"] == "practice-deployment-1"
    assert claims[CLAIM + "message_type"] == "LtiResourceLinkRequest" and claims[CLAIM + "version"] == "1.3.0"
    assert claims[CLAIM + "roles"] == [people.LEARNER, people.TEST_USER, people.USER]
    assert claims[CLAIM + "custom"] == {"canvas_user_id": "1005", "canvas_course_id": "501",
                                        "canvas_section_ids": "601"}
    assert claims[CLAIM + "context"]["id"] == people.CONTEXT_ID
    assert claims[CLAIM + "resource_link"]["id"] == people.NAVIGATION_LINK_ID
    ags = claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
    assert ags["lineitems"] == base + "/ags/lineitems" and "lineitem" not in ags  # no assignment placed here
    assert len(ags["scope"]) == 4
    nrps = claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"]
    assert nrps["context_memberships_url"] == base + "/nrps/members"


def test_the_platform_registers_itself_once_in_the_lakeside_district(demo, browser):
    for _ in range(2):
        assert browser.get("/practice/").status_code == 200
    browser.launch("district_admin")
    with demo.app.app_context(), session_scope() as session:
        [registration] = session.scalars(select(Registration)).all()
        assert session.get(District, registration.district_id).slug == "lakeside"
        assert [d.deployment_id for d in session.scalars(select(Deployment))] == ["practice-deployment-1"]
        [mapping] = session.scalars(select(CourseSchool)).all()
        assert mapping.platform_id == people.CONTEXT_ID and session.get(School, mapping.school_id).code == "LES"
        [designation] = session.scalars(select(SchoolAdmin)).all()
        assert session.get(User, designation.user_id).subject == "practice-school_admin"


def test_on_an_empty_server_the_platform_makes_its_district_and_school(live_server, browser):
    page = browser.launch("school_admin").page
    assert page.status_code == 200 and "School administrator" in shown_roles(page)
    with live_server.app.app_context(), session_scope() as session:
        assert [d.slug for d in session.scalars(select(District))] == ["default"]
        assert [s.code for s in session.scalars(select(School))] == ["LES"]


def test_the_practice_lms_does_not_exist_in_production(make_app, db_url):
    app = make_app(db_url, ENV="production", SECRET_KEY="k3Jd8s-2LmQp9xVz7RtYw4NbC6hF1gAeUo5iX0Ws")
    client = app.test_client()
    for path in ("/practice/", "/practice/course/teacher", "/practice/jwks", "/practice/ags/lineitems"):
        assert client.get(path).status_code == 404
    assert client.post("/practice/token").status_code == 404
    assert not any(rule.rule.startswith("/practice") for rule in app.url_map.iter_rules())
    assert "practice" not in app.cli.list_commands(None)


def test_the_demo_on_another_port_keeps_one_platform_and_its_people(make_app, db_url):
    """``make demo PORT=9143`` after a run on 8443: the practice registration and the personas' accounts follow
    the new address (no second principal on the Schools page, no stale platform)."""
    from lti_tool.practice.setup import ensure_registered

    for port in (8443, 9143):
        app = make_app(db_url, TOOL_BASE_URL=f"https://localhost:{port}", PRACTICE_LMS=True)
        if port == 8443:
            assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
        with app.app_context(), session_scope() as session:
            ensure_registered(session)
    with app.app_context(), session_scope() as session:
        [registration] = session.scalars(select(Registration)).all()
        assert registration.issuer == "https://localhost:9143/practice"
        assert registration.auth_login_url == "https://localhost:9143/practice/auth"
        [designation] = session.scalars(select(SchoolAdmin)).all()
        assert session.get(User, designation.user_id).issuer == "https://localhost:9143/practice"
        assert len(session.scalars(select(User)).all()) == 2  # the principal and the district lead, once each

"""Who is a school or district admin is designated in Microcred and re-read on every request.

Canvas sends ``institution/person#Administrator`` to every account admin — a principal's sub-account as much
as the district's root account — so that role alone grants nothing here.
"""
from __future__ import annotations

from sqlalchemy import func, select

from lti_tool.audit.models import AuditEvent
from lti_tool.lti.models import ToolSession
from lti_tool.lti.roles import Role
from lti_tool.people.models import DistrictAdmin, School, SchoolAdmin, User
from tests.support import factories
from tests.support.signer import LIS, Signer, login
from tests.support.web import BASE, csrf_from, use_session

ACCOUNT_ADMIN = [LIS + "institution/person#Administrator", LIS + "membership#Instructor", LIS + "system/person#User"]


def _world(session):
    signer = Signer()
    district = factories.district(session)
    registration = factories.platform(session, district, client_id=signer.client_id,
                                      deployments=(signer.deployment_id,))
    registration.key_set = signer.jwks()
    session.commit()
    return signer, district, registration


def _launch(client, signer, sub="principal", roles=ACCOUNT_ADMIN, email="carmen@lakeside.example"):
    query = login(client, signer)
    body = signer.claims(query["nonce"], sub=sub, roles=roles, email=email, name="Carmen Li")
    response = client.post("/lti/launch", base_url=BASE, data={"id_token": signer.sign(body), "state": query["state"]})
    assert response.status_code == 303, response.text
    return response


def test_an_account_admin_role_alone_manages_nothing(app, session):
    signer, _, _ = _world(session)
    principal = app.test_client()
    _launch(principal, signer)
    home = principal.get("/", base_url=BASE).text
    assert "Welcome" in home and "District administrator" not in home and "Manage the district catalog" not in home
    for path in ("/catalog/manage", "/district/schools/", "/catalog/manage/edit", "/catalog/manage/import"):
        assert principal.get(path, base_url=BASE).status_code in (403, 404), path
    # Nor can they designate themselves a school's admin by posting the Schools form.
    csrf = csrf_from(home)
    school = session.scalar(select(School))
    me = session.scalar(select(User).where(User.subject == "principal"))
    response = principal.post("/district/schools/", base_url=BASE, data={
        "csrf_token": csrf, "action": "designate", "school_id": school.id, "user_id": me.id})
    assert response.status_code == 403 and session.scalar(select(SchoolAdmin)) is None


def test_it_grants_the_first_district_admin_and_it_takes_effect_on_the_next_page(app, session):
    signer, district, _ = _world(session)
    lead = app.test_client()
    _launch(lead, signer, sub="lead", email="Dana.Brooks@lakeside.example")
    assert "District administrator" not in lead.get("/", base_url=BASE).text

    runner = app.test_cli_runner()
    result = runner.invoke(args=["people", "grant-district-admin", "dana.brooks@LAKESIDE.example"])
    assert result.exit_code == 0, result.output
    assert "is now a district administrator of Lakeside School District" in result.output
    # Same session, no new launch: the designation is read on every request.
    assert "District administrator" in lead.get("/", base_url=BASE).text
    assert lead.get("/district/schools/", base_url=BASE).status_code == 200
    user = session.scalar(select(User).where(User.subject == "lead"))
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "district.admin_designated")).all()
    assert [(e.subject_id, e.after["by"]) for e in events] == [(str(user.id), "district IT (command line)")]

    again = runner.invoke(args=["people", "grant-district-admin", f"#{user.id}"])
    assert again.exit_code == 0 and "No change was needed" in again.output
    listed = runner.invoke(args=["people", "list"])
    assert f"* #{user.id}" in listed.output


def test_it_cannot_grant_someone_who_never_opened_microcred_nor_remove_the_last_admin(app, session):
    signer, _, _ = _world(session)
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["people", "grant-district-admin", "nobody@lakeside.example"])
    assert unknown.exit_code != 0 and "has opened Microcred in this district yet" in unknown.output
    bad_id = runner.invoke(args=["people", "grant-district-admin", "#²"])
    assert bad_id.exit_code != 0 and "Traceback" not in bad_id.output

    _launch(app.test_client(), signer, sub="lead", email="lead@lakeside.example")
    assert runner.invoke(args=["people", "grant-district-admin", "lead"]).exit_code == 0
    last = runner.invoke(args=["people", "revoke-district-admin", "lead"])
    assert last.exit_code != 0 and "only administrator" in last.output
    assert session.scalar(select(func.count()).select_from(DistrictAdmin)) == 1


def test_district_admins_name_and_remove_each_other_on_the_schools_page(app, session):
    signer, _, registration = _world(session)
    admin_token, _ = factories.signed_in(session, registration, {Role.DISTRICT_ADMIN})
    session.commit()
    colleague = app.test_client()
    _launch(colleague, signer, sub="colleague")
    person = session.scalar(select(User).where(User.subject == "colleague"))

    admin = use_session(app.test_client(), admin_token)
    page = admin.get("/district/schools/", base_url=BASE)
    assert "District administrators" in page.text
    form = {"csrf_token": csrf_from(page.text), "user_id": person.id}
    assert admin.post("/district/schools/", base_url=BASE, data={**form, "action": "designate_district"}).status_code == 303
    assert colleague.get("/district/schools/", base_url=BASE).status_code == 200

    assert admin.post("/district/schools/", base_url=BASE, data={**form, "action": "undesignate_district"}).status_code == 303
    assert colleague.get("/district/schools/", base_url=BASE).status_code == 403  # at once, same session
    assert [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.subject_type == "user",
                                                                      AuditEvent.action.like("district.admin_%")))] \
        == ["district.admin_designated", "district.admin_removed"]

    me = session.scalar(select(DistrictAdmin.user_id))
    refused = admin.post("/district/schools/", base_url=BASE, data={**form, "user_id": me, "action": "undesignate_district"})
    assert refused.status_code == 409 and "only administrator" in refused.text


def test_a_removed_school_admin_loses_the_offer_page_at_once(app, session):
    _, district, registration = _world(session)
    school = session.scalar(select(School).where(School.code == "LES"))
    token, actor = factories.signed_in(session, registration, {Role.FACILITATOR}, school_id=school.id, school_admin=True)
    session.commit()
    principal = use_session(app.test_client(), token)
    assert principal.get("/catalog/offer", base_url=BASE).status_code == 200
    session.delete(session.scalar(select(SchoolAdmin).where(SchoolAdmin.user_id == actor.user_id)))
    session.commit()
    assert principal.get("/catalog/offer", base_url=BASE).status_code == 403


def test_a_session_claiming_a_designation_it_does_not_have_gets_none(app, session):
    """The stored actor is a snapshot: a district-admin role in it without a designation counts for nothing."""
    _, _, registration = _world(session)
    token, actor = factories.signed_in(session, registration, {Role.DISTRICT_ADMIN})
    session.delete(session.scalar(select(DistrictAdmin).where(DistrictAdmin.user_id == actor.user_id)))
    session.commit()
    assert use_session(app.test_client(), token).get("/catalog/manage", base_url=BASE).status_code == 403


def test_each_launch_rotates_the_token_and_ends_the_old_session(app, session):
    signer, _, _ = _world(session)
    browser = app.test_client()
    first = _launch(browser, signer, roles=[LIS + "membership#Learner"])
    old = next(c for c in first.headers.getlist("Set-Cookie") if c.startswith("mc_session=")).split(";")[0].split("=", 1)[1]
    second = _launch(browser, signer, roles=[LIS + "membership#Learner"])
    new = next(c for c in second.headers.getlist("Set-Cookie") if c.startswith("mc_session=")).split(";")[0].split("=", 1)[1]
    assert new != old
    assert session.scalar(select(func.count()).select_from(ToolSession)) == 1
    assert "Welcome" not in use_session(app.test_client(), old).get("/", base_url=BASE).text
    assert "Welcome" in use_session(app.test_client(), new).get("/", base_url=BASE).text


def test_signing_out_ends_the_session(app, session):
    signer, _, _ = _world(session)
    browser = app.test_client()
    _launch(browser, signer, roles=[LIS + "membership#Learner"])
    home = browser.get("/", base_url=BASE).text
    assert "Sign out of Microcred" in home
    assert browser.post("/sign-out", base_url=BASE, data={}).status_code == 400  # CSRF still required
    out = browser.post("/sign-out", base_url=BASE, data={"csrf_token": csrf_from(home)})
    assert out.status_code == 200 and "signed out" in out.text
    assert any(c.startswith("mc_session=;") for c in out.headers.getlist("Set-Cookie"))
    assert session.scalar(select(func.count()).select_from(ToolSession)) == 0
    assert browser.get("/catalog/", base_url=BASE).status_code == 401


def test_a_session_in_a_link_is_never_adopted_by_a_top_level_navigation(app, session):
    """An attacker's own token in a link (``/?mcs=…``) must not sign a victim's browser into their session;
    inside the LMS frame (no cookies) the same parameter is how pages keep the session."""
    _, _, registration = _world(session)
    token, _ = factories.signed_in(session, registration, {Role.TEACHER})
    session.commit()
    victim = app.test_client()
    top = victim.get(f"/?mcs={token}", base_url=BASE, headers={"Sec-Fetch-Dest": "document"})
    assert top.status_code == 200 and "Welcome" not in top.text
    posted = victim.post("/sign-out", base_url=BASE, data={"mcs": token}, headers={"Sec-Fetch-Dest": "document"})
    assert posted.status_code == 401
    framed = victim.get(f"/?mcs={token}", base_url=BASE, headers={"Sec-Fetch-Dest": "iframe"})
    assert "Welcome" in framed.text


def test_odd_ids_on_the_schools_page_are_a_plain_refusal(app, session):
    _, _, registration = _world(session)
    token, _ = factories.signed_in(session, registration, {Role.DISTRICT_ADMIN})
    session.commit()
    admin = use_session(app.test_client(), token)
    csrf = csrf_from(admin.get("/district/schools/", base_url=BASE).text)
    for school_id in ("²", "9" * 5000, "99999999999", "-1", ""):
        response = admin.post("/district/schools/", base_url=BASE, data={
            "csrf_token": csrf, "action": "map_course", "school_id": school_id, "kind": "course", "platform_id": "1"})
        assert response.status_code == 400 and "School" in response.text, school_id

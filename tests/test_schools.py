"""District admins map courses to schools and designate school admins; the next launch carries both."""

from sqlalchemy import select

from lti_tool.lti.roles import Role
from lti_tool.people.models import CourseSchool, School, SchoolAdmin, User
from tests.support import factories
from tests.support.signer import LIS, Signer, login
from tests.support.web import csrf_from



def test_mapping_and_designation_reach_the_next_launch(app, session):
    signer = Signer()
    district = factories.district(session)
    registration = factories.platform(session, district, client_id=signer.client_id, deployments=(signer.deployment_id,))
    registration.key_set = signer.jwks()
    admin_token, _ = factories.signed_in(session, registration, {Role.DISTRICT_ADMIN})
    session.commit()
    school = session.scalar(select(School).where(School.code == "LES"))

    principal = app.test_client()  # launches once so the district admin can pick them
    query = login(principal, signer)
    principal.post("/lti/launch", base_url="https://localhost", data={
        "id_token": signer.sign(signer.claims(query["nonce"], sub="principal", roles=[LIS + "membership#Instructor"])),
        "state": query["state"]})
    person = session.scalar(select(User).where(User.subject == "principal"))
    assert "School administrator" not in principal.get("/", base_url="https://localhost").text

    district_admin = app.test_client()
    district_admin.set_cookie("mc_session", admin_token, domain="localhost")
    page = district_admin.get("/district/schools/")
    assert page.status_code == 200 and "Lakeside Elementary School" in page.text
    csrf = csrf_from(page.text)
    for form in ({"action": "map_course", "school_id": school.id, "kind": "course", "platform_id": "101"},
                 {"action": "designate", "school_id": school.id, "user_id": person.id},
                 {"action": "add_school", "code": "nhs", "name": "North Harbor High School"}):
        assert district_admin.post("/district/schools/", data={"csrf_token": csrf, **form}).status_code == 303
    assert session.scalar(select(CourseSchool.platform_id)) == "101"
    assert session.scalar(select(SchoolAdmin.user_id)) == person.id
    assert session.scalar(select(School).where(School.code == "NHS")) is not None

    query = login(principal, signer)  # the signer's custom canvas_course_id is 101
    principal.post("/lti/launch", base_url="https://localhost", data={
        "id_token": signer.sign(signer.claims(query["nonce"], sub="principal", roles=[LIS + "membership#Instructor"])),
        "state": query["state"]})
    home = principal.get("/", base_url="https://localhost").text
    assert "School administrator" in home and "Lakeside Elementary School" in home


def test_only_district_admins_manage_schools_and_only_their_own(client, session):
    district = factories.district(session)
    registration = factories.platform(session, district)
    teacher, _ = factories.signed_in(session, registration, {Role.TEACHER})
    admin, _ = factories.signed_in(session, registration, {Role.DISTRICT_ADMIN})
    from lti_tool.people.service import ensure_district, ensure_school

    stranger = ensure_school(session, ensure_district(session, slug="other", name="Other"), code="X", name="X")
    session.commit()
    client.set_cookie("mc_session", teacher, domain="localhost")
    assert client.get("/district/schools/").status_code == 403
    client.set_cookie("mc_session", admin, domain="localhost")
    csrf = csrf_from(client.get("/district/schools/").text)
    response = client.post("/district/schools/", data={"csrf_token": csrf, "action": "map_course",
                                                       "school_id": stranger.id, "kind": "course", "platform_id": "9"})
    assert response.status_code == 404 and session.scalar(select(CourseSchool)) is None

"""NRPS against the fake Canvas: every active member, page after page, 50 at a time."""
import pytest

from lti_tool.lti.roles import Role
from lti_tool.lti.services import PlatformServiceError, nrps

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def test_all_active_members_across_pages_of_fifty(platform, fake_canvas):
    course = fake_canvas.add_course(students=146, teachers=2, inactive=3)  # 151 listed: four pages of at most 50
    roster = nrps.roster(platform, fake_canvas.memberships_url(course))
    active = [u for u in course.users if u.status == "Active"]
    assert [m.user_id for m in roster.members] == [u.lti_id for u in active]
    assert len(roster.members) == 148 and all(m.active for m in roster.members)
    assert roster.context["id"] == course.context_id and roster.context["title"] == course.title
    pages = fake_canvas.requests_to("/names_and_roles")
    assert len(pages) == 4
    assert pages[0]["args"]["limit"] == ["50"]
    assert all(int((p["args"].get("per_page") or p["args"]["limit"])[0]) <= 50 for p in pages)
    assert [p["args"].get("page", ["1"])[0] for p in pages] == ["1", "2", "3", "4"]
    assert all(p["accept"] == nrps.MEMBERSHIP_MEDIA for p in pages)


def test_members_are_typed_with_legacy_ids_and_mapped_roles(platform, fake_canvas, course):
    members = nrps.members(platform, fake_canvas.memberships_url(course))
    student = next(m for m in members if m.name == "Student 0")
    assert student.roles == (LEARNER,)
    assert student.email.endswith("@example.edu") and student.given_name == "Student"
    assert student.lti11_legacy_user_id.startswith("legacy")
    assert student.mapped_roles == (frozenset({Role.TEACHER}), False)
    test_student = next(m for m in members if m.name == "Test Student")
    assert test_student.mapped_roles == (frozenset({Role.TEACHER}), True)
    assert student.messages == () and student.custom == {}


def test_resource_link_adds_message_claims_with_custom_variables(platform, fake_canvas, course):
    link = next(iter(course.resource_links))
    members = nrps.members(platform, fake_canvas.memberships_url(course), resource_link_id=link)
    by_id = {u.lti_id: u for u in course.users}
    assert all(m.custom == {"canvas_user_id": str(by_id[m.user_id].canvas_id)} for m in members)
    assert fake_canvas.requests_to("/names_and_roles")[0]["args"]["rlid"] == [link]


def test_page_size_never_exceeds_fifty(platform, fake_canvas):
    course = fake_canvas.add_course(students=60)
    members = nrps.members(platform, fake_canvas.memberships_url(course), page_size=500)
    assert len(members) == 61
    first, second = fake_canvas.requests_to("/names_and_roles")
    assert first["args"]["limit"] == ["50"] and second["args"]["per_page"] == ["50"]


def test_a_paging_loop_ends_without_repeating_members(platform, fake_canvas):
    course = fake_canvas.add_course(students=70)
    fake_canvas.nrps_loop = True  # the last page's next link points back at page 1
    members = nrps.members(platform, fake_canvas.memberships_url(course))
    assert len(members) == len({m.user_id for m in members}) == 71
    assert len(fake_canvas.requests_to("/names_and_roles")) == 3  # pages 1 and 2, page 1 again, then it stops


def test_next_link_to_another_origin_is_not_followed(platform, fake_canvas):
    course = fake_canvas.add_course(students=60)
    fake_canvas.next_link_base = fake_canvas.memberships_url(course).replace("127.0.0.1", "localhost")
    with pytest.raises(PlatformServiceError, match="another site"):
        nrps.members(platform, fake_canvas.memberships_url(course))
    assert len(fake_canvas.requests_to("/names_and_roles")) == 1


def test_members_without_status_are_active_and_inactive_or_deleted_are_not():
    assert nrps.Member.from_json({"user_id": "a", "roles": []}).active
    assert not nrps.Member.from_json({"user_id": "a", "roles": [], "status": "Inactive"}).active
    assert not nrps.Member.from_json({"user_id": "a", "roles": [], "status": "Deleted"}).active
    assert nrps.Member.from_json({"roles": []}) is None
    single = nrps.Member.from_json({"user_id": "a", "message": {"https://purl.imsglobal.org/spec/lti/claim/custom":
                                                                {"x": "1"}}})
    assert single.custom == {"x": "1"}

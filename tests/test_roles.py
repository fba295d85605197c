"""The project's role mapping, against the role sets Canvas actually sends (shared/notes/canvas-lti.md)."""
import pytest

from lti_tool.lti.actor import Actor, Course
from lti_tool.lti.roles import Role, map_roles

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
USER = LIS + "system/person#User"


@pytest.mark.parametrize("uris, roles, test_user", [
    ([LIS + "membership#Learner", USER], {Role.TEACHER}, False),
    ([LIS + "membership#Instructor", USER], {Role.FACILITATOR}, False),
    # A Canvas TA carries both; still a facilitator, never a district admin.
    ([LIS + "membership/Instructor#TeachingAssistant", LIS + "membership#Instructor", USER], {Role.FACILITATOR}, False),
    # Canvas sends Administrator to every account admin, a principal's sub-account as much as the root's:
    # it grants nothing here. District admins are designated in Microcred (tests/security/test_designations.py).
    ([LIS + "institution/person#Administrator", LIS + "membership#Instructor", USER], {Role.FACILITATOR}, False),
    ([LIS + "institution/person#Administrator", USER], set(), False),
    ([LIS + "system/person#SysAdmin", LIS + "system/person#Administrator", USER], set(), False),
    # Student View: a learner who may look but never earns.
    ([LIS + "membership#Learner", "http://purl.imsglobal.org/vocab/lti/system/person#TestUser", USER],
     {Role.TEACHER}, True),
    ([LIS + "membership#Mentor", USER], {Role.OBSERVER}, False),
    # Every user carries #User; alone it grants nothing (pylti1p3 would call this a student).
    ([USER], set(), False),
    (["Learner"], {Role.TEACHER}, False),
    (["http://example.com/unknown#Role"], set(), False),
])
def test_canvas_role_sets(uris, roles, test_user):
    assert map_roles(uris) == (frozenset(roles), test_user)


def test_student_view_may_not_earn():
    base = dict(user_id=1, district_id=1, registration_id=1, deployment_id="d")
    assert Actor(roles=frozenset({Role.TEACHER}), **base).may_earn
    assert not Actor(roles=frozenset({Role.TEACHER}), test_user=True, **base).may_earn
    assert not Actor(roles=frozenset({Role.FACILITATOR}), **base).may_earn


def test_actor_round_trips_through_json():
    actor = Actor(user_id=3, district_id=2, roles=frozenset({Role.TEACHER, Role.FACILITATOR}), registration_id=5,
                  deployment_id="1:abc", course=Course("ctx", "PD", "42", ("7", "8")), school_id=9,
                  school_admin=True, course_context_id=4, placement_id=7)
    data = actor.to_json()
    assert data["roles"] == ["facilitator", "teacher"]
    assert Actor.from_json(data) == actor


def test_the_system_actor_acts_in_one_district_and_never_earns():
    worker = Actor.for_system(7, "worker")
    assert worker.is_system and worker.district_id == 7 and worker.user_id is None
    assert not worker.may_earn and not worker.is_district_admin and not worker.school_admin
    assert Actor.from_json(worker.to_json()) == worker
    person = Actor(user_id=1, district_id=7, roles=frozenset({Role.TEACHER}), registration_id=1, deployment_id="d")
    assert not person.is_system

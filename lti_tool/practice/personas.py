"""Who is in the practice course, with the role URIs Canvas sends for each (see shared/notes/canvas-lti.md).

Every Canvas user also carries ``system/person#User``; Student View adds ``lti/system/person#TestUser`` to
``#Learner``; an account admin carries ``institution/person#Administrator`` beside their course role.
"""
from __future__ import annotations

from dataclasses import dataclass

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
LEARNER = LIS + "membership#Learner"
INSTRUCTOR = LIS + "membership#Instructor"
ADMINISTRATOR = LIS + "institution/person#Administrator"
USER = LIS + "system/person#User"
TEST_USER = "http://purl.imsglobal.org/vocab/lti/system/person#TestUser"

CONTEXT_ID = "practice-course-1"
CANVAS_COURSE_ID = "501"
CANVAS_SECTION_ID = "601"
COURSE_TITLE = "PD: Micro-credentials at Lakeside Elementary"
COURSE_LABEL = "PD-MC"
SCHOOL_CODE = "LES"
SCHOOL_NAME = "Lakeside Elementary School"
NAVIGATION_LINK_ID = "practice-course-navigation"


@dataclass(frozen=True)
class Persona:
    key: str
    given_name: str
    family_name: str
    email: str
    roles: tuple[str, ...]
    describes: str
    canvas_user_id: str
    active: bool = True  # an ended enrollment: in the course's history, never in NRPS or the picker

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def subject(self) -> str:
        """The id_token's ``sub`` (Canvas sends an opaque per-user id; readable ones help in a demo)."""
        return f"practice-{self.key}"

    @property
    def is_student(self) -> bool:
        """Canvas takes scores only for active students: not Student View, not staff."""
        return self.active and LEARNER in self.roles and TEST_USER not in self.roles

    @property
    def membership_roles(self) -> list[str]:
        """The context roles NRPS lists (Canvas lists course roles, not institution or system ones)."""
        return [r for r in self.roles if r.startswith(LIS + "membership")]


ROSTER: tuple[Persona, ...] = (
    Persona("teacher", "Ana", "Ruiz", "ana.ruiz@lakeside.example", (LEARNER, USER),
            "a teacher earning micro-credentials", "1001"),
    Persona("teacher2", "Ben", "Okafor", "ben.okafor@lakeside.example", (LEARNER, USER),
            "a second teacher at the same school (a peer reviewer)", "1002"),
    Persona("school_admin", "Carmen", "Li", "carmen.li@lakeside.example", (INSTRUCTOR, USER),
            "the principal of Lakeside Elementary (designated school admin)", "1003"),
    Persona("district_admin", "Dana", "Brooks", "dana.brooks@lakeside.example", (ADMINISTRATOR, INSTRUCTOR, USER),
            "the district's professional-learning lead (account admin, designated district admin)", "1004"),
    Persona("student_view", "Test", "Student", "", (LEARNER, TEST_USER, USER),
            "Canvas's Student View: may look, never earns", "1005"),
    Persona("instructor", "Eli", "Grant", "eli.grant@lakeside.example", (INSTRUCTOR, USER),
            "the course's facilitator, who places micro-credentials as assignments", "1006"),
    Persona("former", "Frank", "Moss", "frank.moss@lakeside.example", (LEARNER, USER),
            "a teacher whose enrollment ended", "1007", active=False),
)
PERSONAS: dict[str, Persona] = {p.key: p for p in ROSTER if p.active}
DEEP_LINKER = "instructor"
PRINCIPAL = "school_admin"
DISTRICT_LEAD = "district_admin"


def by_subject(subject: str) -> Persona | None:
    """A course member by ``sub`` or by Canvas user id (Canvas's AGS accepts either as ``userId``)."""
    return next((p for p in ROSTER if subject in (p.subject, p.canvas_user_id)), None)

"""The project's own role mapping from LTI role URIs (pylti1p3's helpers are not fit for authorization).

Canvas sends a TA both ``membership/Instructor#TeachingAssistant`` and ``membership#Instructor``; every user
``system/person#User``; Student View ``system/person#TestUser``; every account admin, a school's sub-account
admin as much as the root account's, ``institution/person#Administrator``. So no LMS role makes anyone a
school or district admin: those are designated in Microcred (``people``) and added to the actor from there.
See ../shared/notes/canvas-lti.md.
"""
from __future__ import annotations

import enum
from typing import Iterable

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
MEMBERSHIP = LIS + "membership#"
INSTITUTION = LIS + "institution/person#"
SYSTEM = LIS + "system/person#"
TA = LIS + "membership/Instructor#TeachingAssistant"
TEST_USER = "http://purl.imsglobal.org/vocab/lti/system/person#TestUser"


class Role(str, enum.Enum):
    TEACHER = "teacher"                # a learner in the PD course: the earner
    FACILITATOR = "facilitator"        # course instructor or TA: coaches a cohort, places MCs
    DISTRICT_ADMIN = "district_admin"  # designated in Microcred (DistrictAdmin), never read from a launch
    OBSERVER = "observer"              # mentor/observer: may look


def map_roles(uris: Iterable[str]) -> tuple[frozenset[Role], bool]:
    """Return (roles, is_test_user). Unknown URIs are ignored (administrator roles among them: see the module
    docstring); short forms (``Instructor``) are accepted."""
    roles: set[Role] = set()
    uris = set(uris)
    test_user = TEST_USER in uris
    for uri in uris:
        short = uri.rsplit("#", 1)[-1] if "#" in uri else uri
        if uri in (MEMBERSHIP + "Learner", "Learner"):
            roles.add(Role.TEACHER)
        elif uri in (MEMBERSHIP + "Instructor", "Instructor", TA, MEMBERSHIP + "ContentDeveloper"):
            roles.add(Role.FACILITATOR)
        elif uri in (MEMBERSHIP + "Mentor", "Mentor") or short == "Observer" and uri.startswith(INSTITUTION):
            roles.add(Role.OBSERVER)
    return frozenset(roles), test_user

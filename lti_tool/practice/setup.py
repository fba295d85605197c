"""Register the practice LMS with the tool (idempotently), map its course to a school, designate its
school-admin persona."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.lti import registry
from lti_tool.lti.cli import TOOL_SCOPES
from lti_tool.lti.models import CourseSchool, Registration
from lti_tool.people.models import District, School, SchoolAdmin, User
from lti_tool.people.service import ensure_school
from lti_tool.practice.platform import CLIENT_ID, CONTEXT_ID, DEPLOYMENT_ID, PERSONAS, issuer, subject


def ensure_registered(session: Session) -> Registration:
    base = issuer()
    registration = registry.find_registration(session, base, CLIENT_ID)
    if registration is not None:
        return registration
    district = session.scalar(select(District).where(District.slug == "lakeside")) or registry.resolve_district(session, None)
    registration = registry.add_platform(
        session, district=district, name="Practice LMS",
        endpoints=registry.PlatformEndpoints(base, f"{base}/auth", f"{base}/token", f"{base}/jwks"),
        client_id=CLIENT_ID, deployment_ids=[DEPLOYMENT_ID], scopes=list(TOOL_SCOPES))
    school = session.scalar(select(School).where(School.district_id == district.id).order_by(School.id)) \
        or ensure_school(session, district, code="PRACTICE", name="Practice Elementary School")
    if school is not None:
        session.add(CourseSchool(district_id=district.id, kind="course", platform_id=CONTEXT_ID, school_id=school.id))
        principal = PERSONAS["school_admin"]
        user = session.scalar(select(User).where(User.issuer == base, User.subject == subject(principal)))
        if user is None:
            user = User(district_id=district.id, issuer=base, subject=subject(principal), name=principal.name)
            session.add(user)
            session.flush()
        session.add(SchoolAdmin(school_id=school.id, user_id=user.id))
    session.flush()
    return registration

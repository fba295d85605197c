"""Districts and schools. Plain functions over a session; they flush, the caller commits."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import audit
from lti_tool.people.models import District, School


def ensure_district(session: Session, *, slug: str, name: str, actor_user_id: int | None = None) -> District:
    district = session.scalar(select(District).where(District.slug == slug))
    if district is None:
        district = District(slug=slug, name=name)
        session.add(district)
        session.flush()
        audit.record(session, action="district.created", subject_type="district", subject_id=district.id,
                     district_id=district.id, actor_user_id=actor_user_id, after={"slug": slug, "name": name})
    return district


def ensure_school(session: Session, district: District, *, code: str, name: str,
                  actor_user_id: int | None = None) -> School:
    school = session.scalar(select(School).where(School.district_id == district.id, School.code == code))
    if school is None:
        school = School(district_id=district.id, code=code, name=name)
        session.add(school)
        session.flush()
        audit.record(session, action="school.created", subject_type="school", subject_id=school.id,
                     district_id=district.id, actor_user_id=actor_user_id, after={"code": code, "name": name})
    return school


def schools_of(session: Session, district_id: int) -> list[School]:
    return list(session.scalars(select(School).where(School.district_id == district_id).order_by(School.name)))

"""District administration of schools: add a school, map a Canvas course or section to it, designate its
school administrators and the district's administrators. Plain functions taking the acting district admin;
every change is audited."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import audit
from lti_tool.errors import BadRequest, Forbidden, NotFound
from lti_tool.lti.actor import Actor
from lti_tool.people.models import CourseSchool, School, SchoolAdmin, User
from lti_tool.people.service import district_admins, ensure_school, set_district_admin


def _require(actor: Actor) -> None:
    """A designated district admin (the actor's designations are re-read on every request)."""
    if not actor.is_district_admin or actor.test_user:
        raise Forbidden(_l("Only a district administrator can manage schools."))


def _school(session: Session, actor: Actor, school_id: int) -> School:
    school = session.get(School, school_id)
    if school is None or school.district_id != actor.district_id:
        raise NotFound(_l("No such school in this district."))
    return school


def add_school(session: Session, actor: Actor, code: str, name: str) -> School:
    _require(actor)
    code, name = code.strip().upper(), name.strip()
    if not code or not name or len(code) > 64:
        raise BadRequest(_l("A school needs a short code (e.g. LES) and a name."))
    from lti_tool.people.models import District

    return ensure_school(session, session.get(District, actor.district_id), code=code, name=name,
                         actor_user_id=actor.user_id)


def map_course(session: Session, actor: Actor, school_id: int, kind: str, platform_id: str) -> CourseSchool:
    """Launches from this Canvas course (``$Canvas.course.id``) or section belong to the school."""
    _require(actor)
    school = _school(session, actor, school_id)
    platform_id = platform_id.strip()
    if kind not in ("course", "section") or not platform_id:
        raise BadRequest(_l("Give a Canvas course id or section id (the number in its address)."))
    row = session.scalar(select(CourseSchool).where(CourseSchool.district_id == actor.district_id,
                                                    CourseSchool.kind == kind, CourseSchool.platform_id == platform_id))
    before = {"school_id": row.school_id} if row else None
    if row is None:
        row = CourseSchool(district_id=actor.district_id, kind=kind, platform_id=platform_id, school_id=school.id)
        session.add(row)
    row.school_id = school.id
    session.flush()
    audit.record(session, action="school.course_mapped", subject_type="school", subject_id=school.id,
                 district_id=actor.district_id, actor_user_id=actor.user_id, before=before,
                 after={"kind": kind, "platform_id": platform_id})
    return row


def designate_admin(session: Session, actor: Actor, school_id: int, user_id: int, *, on: bool) -> None:
    _require(actor)
    school = _school(session, actor, school_id)
    user = session.get(User, user_id)
    if user is None or user.district_id != actor.district_id:
        raise NotFound(_l("No such person in this district."))
    row = session.scalar(select(SchoolAdmin).where(SchoolAdmin.school_id == school.id, SchoolAdmin.user_id == user.id))
    if on and row is None:
        session.add(SchoolAdmin(school_id=school.id, user_id=user.id))
    elif not on and row is not None:
        session.delete(row)
    session.flush()
    audit.record(session, action="school.admin_designated" if on else "school.admin_removed", subject_type="school",
                 subject_id=school.id, district_id=actor.district_id, actor_user_id=actor.user_id,
                 after={"user_id": user.id})


def designate_district_admin(session: Session, actor: Actor, user_id: int, *, on: bool) -> None:
    """Name another district admin, or remove one (never the last). Takes effect on their next request."""
    _require(actor)
    user = session.get(User, user_id)
    if user is None or user.district_id != actor.district_id:
        raise NotFound(_l("No such person in this district."))
    set_district_admin(session, actor.district_id, user, on=on, actor_user_id=actor.user_id, by="schools page")


def overview(session: Session, actor: Actor) -> dict:
    _require(actor)
    schools = list(session.scalars(select(School).where(School.district_id == actor.district_id).order_by(School.name)))
    ids = [s.id for s in schools]
    admins = session.execute(select(SchoolAdmin.school_id, User).join(User, User.id == SchoolAdmin.user_id)
                             .where(SchoolAdmin.school_id.in_(ids))).all() if ids else []
    courses = list(session.scalars(select(CourseSchool).where(CourseSchool.district_id == actor.district_id)))
    people = list(session.scalars(select(User).where(User.district_id == actor.district_id).order_by(User.name)))
    return {"schools": schools, "admins": admins, "courses": courses, "people": people,
            "district_admins": district_admins(session, actor.district_id)}

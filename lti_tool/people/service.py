"""Districts, schools and who is designated to run them. Plain functions over a session; they flush, the caller
commits."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, literal, select, tuple_
from sqlalchemy.orm import Session

from lti_tool import audit
from lti_tool.db import utcnow
from lti_tool.errors import Conflict, Forbidden, NotFound
from lti_tool.people.models import CourseSchool, District, DistrictAdmin, School, SchoolAdmin, User


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


def upsert_person(session: Session, *, district_id: int, issuer: str, subject: str, name: str | None,
                  email: str | None) -> User:
    """The local person for a platform identity (issuer, subject), made on first sight. Name and email are
    what the platform's privacy level shares (kept when a later launch leaves them out), never logged."""
    user = session.scalar(select(User).where(User.issuer == issuer, User.subject == subject))
    if user is None:
        user = User(district_id=district_id, issuer=issuer, subject=subject)
        session.add(user)
    elif user.district_id != district_id:
        raise Forbidden(_l("This account belongs to another district on this server."),
                        hint="The same issuer and subject are registered under two districts.")
    user.name = (name or "").strip()[:200] or user.name
    email = (email or "").strip()
    user.email = email if 0 < len(email) <= 320 else user.email  # a cut-off address would be a wrong one
    user.last_seen_at = utcnow()
    session.flush()
    return user


def school_for_course(session: Session, district_id: int, *, section_ids: tuple[str, ...] = (),
                      course_ids: tuple[str, ...] = ()) -> int | None:
    """The school a course is mapped to on the Schools page; a section's mapping wins over its course's,
    and earlier ids over later ones. One query."""
    keys = [("section", s) for s in section_ids] + [("course", c) for c in course_ids if c]
    if not keys:
        return None
    found = {(kind, platform_id): school_id for kind, platform_id, school_id in session.execute(
        select(CourseSchool.kind, CourseSchool.platform_id, CourseSchool.school_id).where(
            CourseSchool.district_id == district_id, tuple_(CourseSchool.kind, CourseSchool.platform_id).in_(keys)))}
    return next((found[key] for key in keys if key in found), None)


def designations(session: Session, *, user_id: int, district_id: int, school_id: int | None) -> tuple[bool, bool]:
    """(district admin?, school admin of ``school_id``?) as Microcred records them now, in one round trip.

    Asked on every request, so a designation removed on the Schools page takes effect at once."""
    district_admin = exists().where(DistrictAdmin.district_id == district_id, DistrictAdmin.user_id == user_id)
    school_admin = exists().where(SchoolAdmin.school_id == school_id, SchoolAdmin.user_id == user_id,
                                  School.id == SchoolAdmin.school_id, School.district_id == district_id)
    row = session.execute(select(district_admin.label("district"),
                                 school_admin.label("school") if school_id is not None else literal(False))).one()
    return bool(row[0]), bool(row[1])


def district_admins(session: Session, district_id: int) -> list[User]:
    return list(session.scalars(select(User).join(DistrictAdmin, DistrictAdmin.user_id == User.id)
                                .where(DistrictAdmin.district_id == district_id).order_by(User.name, User.id)))


def set_district_admin(session: Session, district_id: int, user: User, *, on: bool,
                       actor_user_id: int | None, by: str) -> bool:
    """Designate (``on``) or remove a district admin; audited. Returns whether anything changed.

    The last district admin cannot be removed: without one, nobody could manage the catalog or the schools,
    and only district IT on the server could designate again."""
    if user.district_id != district_id:
        raise NotFound(_l("No such person in this district."))
    row = session.scalar(select(DistrictAdmin).where(DistrictAdmin.district_id == district_id,
                                                     DistrictAdmin.user_id == user.id))
    if on == (row is not None):
        return False
    if on:
        session.add(DistrictAdmin(district_id=district_id, user_id=user.id))
    else:
        remaining = session.scalar(select(func.count()).select_from(DistrictAdmin)
                                   .where(DistrictAdmin.district_id == district_id))
        if remaining <= 1:
            raise Conflict(_l("This is the district's only administrator: name another one first."))
        session.delete(row)
    session.flush()
    audit.record(session, action="district.admin_designated" if on else "district.admin_removed",
                 subject_type="user", subject_id=user.id, district_id=district_id, actor_user_id=actor_user_id,
                 after={"user_id": user.id, "by": by})
    return True


def find_person(session: Session, district_id: int, who: str) -> User:
    """A person who has opened Microcred in the district, by email (any case), platform subject, or
    ``#<user id>``. District IT names them this way on the server."""
    who = who.strip()
    if who.startswith("#") and who[1:].isascii() and who[1:].isdigit() and len(who) < 12:
        condition = User.id == int(who[1:])
    elif "@" in who:
        condition = func.lower(User.email) == who.lower()
    else:
        condition = User.subject == who
    found = list(session.scalars(select(User).where(User.district_id == district_id, condition).limit(2)))
    if not found:
        raise NotFound(_l("No one with that email or id has opened Microcred in this district yet."),
                       hint="Ask them to open Microcred once from Canvas, then run this again.")
    if len(found) > 1:
        raise Conflict(_l("Several people share that email: name them by platform subject or #id instead."),
                       hint="'flask --app wsgi people list' shows them.")
    return found[0]

"""The practice LMS registers itself with the tool on first use, as district IT would for Canvas.

Once, idempotently: the registration and its deployment (in the district ``lakeside`` if there is one,
else the only district, else a new default one), the practice course mapped to Lakeside Elementary (school
``LES``, created if missing), the principal persona designated that school's administrator and the
district lead persona the district's administrator (their user rows made ahead of their first launch, with
the issuer and subject the platform will send). Later visits change nothing, so what a district admin edits
on the Schools page stands; when the demo moves to another port, the same registration and accounts follow it.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool import audit
from lti_tool.errors import BadRequest
from lti_tool.lti import registry
from lti_tool.lti.models import Registration
from lti_tool.people.models import CourseSchool, District, SchoolAdmin, User
from lti_tool.people.service import ensure_school, set_district_admin
from lti_tool.practice import personas as people
from lti_tool.practice.platform import CLIENT_ID, DEPLOYMENT_ID, GRANTED_SCOPES, issuer

DISTRICT_SLUG = "lakeside"


def ensure_registered(session: Session) -> Registration:
    """The practice platform's registration, made on first use. Call before anything else in a request:
    a concurrent first use is resolved by rolling this session back and reading the winner's rows."""
    registration = registry.find_registration(session, issuer(), CLIENT_ID) or _moved(session)
    if registration is not None:
        return registration
    try:
        registration = _register(session)
    except IntegrityError:
        session.rollback()
        registration = registry.find_registration(session, issuer(), CLIENT_ID)
        if registration is None:
            raise
    return registration


def _moved(session: Session) -> Registration | None:
    """The practice LMS registered earlier under another loopback address (``make demo PORT=…``): point that
    registration and its personas' accounts at the current address, rather than registering a second
    platform whose users would be strangers (a second principal on the Schools page)."""
    candidates = session.scalars(select(Registration).where(Registration.client_id == CLIENT_ID,
                                                            Registration.issuer.like("%/practice")))
    old = next((r for r in candidates if urlsplit(r.issuer).hostname in registry.LOOPBACK_HOSTS), None)
    if old is None:
        return None
    before, base = old.issuer, issuer()
    old.issuer, old.auth_login_url, old.auth_token_url, old.key_set_url = (base, f"{base}/auth", f"{base}/token",
                                                                           f"{base}/jwks")
    old.key_set, old.key_set_fetched_at = None, None
    session.execute(update(User).where(User.issuer == before).values(issuer=base))
    audit.record(session, action="platform.moved", subject_type="lti_registration", subject_id=old.id,
                 district_id=old.district_id, before={"issuer": before}, after={"issuer": base, "by": "practice LMS"})
    session.flush()
    return old


def _district(session: Session) -> District:
    district = session.scalar(select(District).where(District.slug == DISTRICT_SLUG))
    if district is not None:
        return district
    try:
        return registry.resolve_district(session, None)
    except BadRequest as error:
        raise BadRequest("The practice LMS cannot tell which district to join.",
                         hint=f"This server has several districts and none with the slug '{DISTRICT_SLUG}'. "
                              "Run 'flask --app wsgi seed-demo' to create it.") from error


def _persona_user(session: Session, district: District, key: str, school_id: int | None = None) -> User:
    """The persona's user row, made ahead of their first launch with the issuer and subject the platform sends."""
    persona = people.PERSONAS[key]
    user = session.scalar(select(User).where(User.issuer == issuer(), User.subject == persona.subject))
    if user is None:
        user = User(district_id=district.id, issuer=issuer(), subject=persona.subject, name=persona.name,
                    school_id=school_id)
        session.add(user)
        session.flush()
    return user


def _register(session: Session) -> Registration:
    base = issuer()
    district = _district(session)
    registration = registry.add_platform(
        session, district=district, name="Practice LMS",
        endpoints=registry.PlatformEndpoints(base, f"{base}/auth", f"{base}/token", f"{base}/jwks"),
        client_id=CLIENT_ID, deployment_ids=[DEPLOYMENT_ID], scopes=sorted(GRANTED_SCOPES))
    school = ensure_school(session, district, code=people.SCHOOL_CODE, name=people.SCHOOL_NAME)
    mapped = session.scalar(select(CourseSchool.id).where(
        CourseSchool.district_id == district.id, CourseSchool.kind == "course",
        CourseSchool.platform_id == people.CONTEXT_ID))
    if mapped is None:
        session.add(CourseSchool(district_id=district.id, kind="course", platform_id=people.CONTEXT_ID,
                                 school_id=school.id))
        audit.record(session, action="school.course_mapped", subject_type="school", subject_id=school.id,
                     district_id=district.id, after={"kind": "course", "platform_id": people.CONTEXT_ID,
                                                     "by": "practice LMS"})
    principal = _persona_user(session, district, people.PRINCIPAL, school_id=school.id)
    if session.scalar(select(SchoolAdmin.id).where(SchoolAdmin.school_id == school.id,
                                                   SchoolAdmin.user_id == principal.id)) is None:
        session.add(SchoolAdmin(school_id=school.id, user_id=principal.id))
        audit.record(session, action="school.admin_designated", subject_type="school", subject_id=school.id,
                     district_id=district.id, after={"user_id": principal.id, "by": "practice LMS"})
    # As district IT would with 'people grant-district-admin': the account-admin persona's LMS role alone
    # grants nothing in Microcred.
    set_district_admin(session, district.id, _persona_user(session, district, people.DISTRICT_LEAD), on=True,
                       actor_user_id=None, by="practice LMS")
    session.flush()
    return registration

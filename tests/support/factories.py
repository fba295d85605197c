"""Factories for rows tests need: a district with a school, a registered platform, a signed-in actor."""
from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti import registry
from lti_tool.lti.actor import Actor, Course
from lti_tool.lti.models import LaunchRecord, Registration, ToolSession
from lti_tool.lti.roles import Role
from lti_tool.lti.session import _hash
from lti_tool.people.models import District, DistrictAdmin, SchoolAdmin, User
from lti_tool.people.service import ensure_district, ensure_school

ISSUER = "https://canvas.instructure.com"


def district(session: Session, slug: str = "lakeside") -> District:
    found = ensure_district(session, slug=slug, name=f"{slug.title()} School District")
    ensure_school(session, found, code="LES", name="Lakeside Elementary School")
    return found


def platform(session: Session, of: District, client_id: str = "10000000000001",
             deployments: tuple[str, ...] = ("1:deploy",)) -> Registration:
    return registry.add_platform(session, district=of, name="Canvas", endpoints=registry.CANVAS["production"],
                                 client_id=client_id, deployment_ids=list(deployments))


def signed_in(session: Session, registration: Registration, roles: set[Role], *, test_user: bool = False,
              claims: dict | None = None, school_id: int | None = None,
              school_admin: bool = False) -> tuple[str, Actor]:
    """A user with an open tool session, as a launch would leave it. Returns (token, actor).

    ``Role.DISTRICT_ADMIN`` and ``school_admin`` are designations in Microcred, re-read on every request: the
    user is designated here too (a session claiming them without a designation has neither)."""
    user = User(district_id=registration.district_id, issuer=registration.issuer, subject=uuid.uuid4().hex)
    session.add(user)
    session.flush()
    if Role.DISTRICT_ADMIN in roles:
        session.add(DistrictAdmin(district_id=registration.district_id, user_id=user.id))
    if school_admin:
        assert school_id is not None, "a school admin is designated for a school: pass school_id"
        session.add(SchoolAdmin(school_id=school_id, user_id=user.id))
    actor = Actor(user_id=user.id, district_id=registration.district_id, roles=frozenset(roles),
                  registration_id=registration.id, deployment_id=registration.deployments[0].deployment_id,
                  course=Course("ctx-1", "PD course"), school_id=school_id, school_admin=school_admin,
                  test_user=test_user)
    record = LaunchRecord(launch_id=uuid.uuid4().hex, registration_id=registration.id, user_id=user.id,
                          claims=claims or {}, expires_at=utcnow() + timedelta(hours=1))
    session.add(record)
    session.flush()
    token = secrets.token_urlsafe(32)
    session.add(ToolSession(token_hash=_hash(token), launch_id=record.id, user_id=user.id,
                            district_id=actor.district_id, actor=actor.to_json(),
                            expires_at=utcnow() + timedelta(hours=1)))
    session.flush()
    return token, actor

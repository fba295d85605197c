"""From a validated launch to a local user, a typed actor and a server-side session.

The browser holds only an opaque token (cookie ``mc_session``: ``SameSite=None; Secure; Partitioned``). Where
the frame keeps no cookies, pages carry the same token in a ``mcs`` parameter (``session_url`` adds it).
Forms carry a CSRF token derived from the session.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any, Callable

from flask import current_app, g, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lti_tool import audit
from lti_tool.db import utcnow
from lti_tool.errors import BadRequest, NotAuthenticated
from lti_tool.lti.actor import Actor, Course
from lti_tool.lti.context import LaunchContext, record_launch
from lti_tool.lti.claims import CLAIM
from lti_tool.lti.launch import ToolLaunch
from lti_tool.lti.ratelimit import purge_rate_limits
from lti_tool.lti.models import LaunchRecord, LoginState, Registration, ToolSession
from lti_tool.lti.roles import Role, map_roles
from lti_tool.people.models import User
from lti_tool.people.service import designations, school_for_course, upsert_person

SESSION_COOKIE = "mc_session"
SESSION_TTL = timedelta(hours=8)
LAUNCH_TTL = timedelta(hours=8)
SESSION_PARAM = "mcs"
CSRF_FIELD = "csrf_token"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def upsert_user(session: Session, registration: Registration, claims: dict[str, Any]) -> User:
    """The launch's person, in the registration's district (see ``people.service.upsert_person``)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise BadRequest(_l("The launch does not identify the user."),
                         hint="The id_token has no 'sub' (anonymous launch).")
    name, email = claims.get("name"), claims.get("email")
    return upsert_person(session, district_id=registration.district_id, issuer=registration.issuer, subject=subject,
                         name=name if isinstance(name, str) else None, email=email if isinstance(email, str) else None)


def _with_designations(session: Session, actor: Actor) -> Actor:
    """The actor with the designations Microcred records now (district admin, school admin of its school).

    LMS roles never grant them (Canvas sends one Administrator role to every account admin); checked at
    launch and again on every request, so a removed designation stops working at once."""
    district_admin, school_admin = designations(session, user_id=actor.user_id, district_id=actor.district_id,
                                                school_id=actor.school_id)
    roles = actor.roles - {Role.DISTRICT_ADMIN} | ({Role.DISTRICT_ADMIN} if district_admin else set())
    if roles == actor.roles and school_admin == actor.school_admin:
        return actor
    return replace(actor, roles=frozenset(roles), school_admin=school_admin)


def _launch_locale(claims: dict[str, Any]) -> str | None:
    """The language the platform asks for: LTI's ``launch_presentation.locale``, else OpenID Connect's ``locale``
    (Canvas sends both, as the person's Canvas language), as a locale Microcred speaks, or None."""
    from lti_tool.i18n import normalize

    presentation = claims.get(CLAIM + "launch_presentation") or {}
    return normalize(presentation.get("locale")) or normalize(claims.get("locale"))


def build_actor(session: Session, launch: ToolLaunch, user: User) -> Actor:
    claims = launch.claims()
    registration = launch.registration_row
    roles, test_user = map_roles(claims.get(CLAIM + "roles") or [])
    where = LaunchContext.from_claims(claims)
    course_row, placement = record_launch(session, registration, where)
    course = None
    if where.context_id is not None:
        course = Course(context_id=where.context_id, title=where.context_title,
                        canvas_course_id=where.canvas_course_id, section_ids=where.section_ids)
    school_id = user.school_id
    if course is not None:
        school_id = school_for_course(session, registration.district_id, section_ids=course.section_ids,
                                      course_ids=(course.canvas_course_id or course.context_id, course.context_id)
                                      ) or school_id
    actor = Actor(user_id=user.id, district_id=registration.district_id, roles=roles,
                  registration_id=registration.id, deployment_id=claims[CLAIM + "deployment_id"], course=course,
                  school_id=school_id, test_user=test_user, canvas_user_id=where.canvas_user_id,
                  resource_link_id=where.resource_link_id, course_context_id=course_row.id if course_row else None,
                  placement_id=placement.id if placement else None,
                  locale=user.preferred_locale or _launch_locale(claims),
                  return_url=where.return_url)
    return _with_designations(session, actor)


def start_session(session: Session, launch: ToolLaunch) -> tuple[str, Actor, LaunchRecord]:
    """Record the launch, make the user and the actor, and open a session. Returns the browser token.

    Each launch gets a new token; the session whose cookie came with the launch ends (whoever it belonged to),
    so a browser never holds two live sessions and a planted session is dropped at the next launch."""
    registration = launch.registration_row
    end_session(session, request.cookies.get(SESSION_COOKIE))
    user = upsert_user(session, registration, launch.claims())
    actor = build_actor(session, launch, user)
    record = LaunchRecord(launch_id=uuid.uuid4().hex, registration_id=registration.id, user_id=user.id,
                          claims=launch.claims(), expires_at=utcnow() + LAUNCH_TTL)
    session.add(record)
    session.flush()
    token = secrets.token_urlsafe(32)
    session.add(ToolSession(token_hash=_hash(token), launch_id=record.id, user_id=user.id,
                            district_id=actor.district_id, actor=actor.to_json(),
                            expires_at=utcnow() + SESSION_TTL))
    session.flush()
    audit.record(session, action="lti.launch", subject_type="user", subject_id=user.id,
                 district_id=actor.district_id, actor_user_id=user.id,
                 after={"roles": sorted(r.value for r in actor.roles), "test_user": actor.test_user,
                        "message_type": launch.claims().get(CLAIM + "message_type")})
    return token, actor, record


def _token_from_request() -> tuple[str | None, bool]:
    """The session token: the cookie, else (frames that keep no cookies) the ``mcs`` parameter or header.

    A token in a URL or form is never adopted by a top-level navigation (``Sec-Fetch-Dest: document``): a
    link or an auto-posting form from another site must not sign a victim into someone else's session.
    Pages inside the LMS frame (``iframe``) and scripts (``empty``) may use it; browsers that send no
    fetch metadata are taken at their word, the frame-ancestors policy keeping other sites from framing us."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return token, False
    if request.headers.get("Sec-Fetch-Dest") == "document":
        return None, False
    token = request.args.get(SESSION_PARAM) or request.form.get(SESSION_PARAM) or request.headers.get("X-Microcred-Session")
    return (token, True) if token else (None, False)


def load_session(session: Session) -> ToolSession | None:
    if "tool_session" in g:
        return g.tool_session
    token, via_param = _token_from_request()
    row = None
    if token:
        row = session.scalar(select(ToolSession).where(ToolSession.token_hash == _hash(token)))
        if row is not None and row.expires_at < utcnow():
            row = None
    g.tool_session = row
    g.session_token = token if row else None
    g.session_via_param = via_param and row is not None
    return row


def current_actor(session: Session) -> Actor:
    """The signed-in actor, with designations re-read from the database (see ``_with_designations``)."""
    if "actor_now" in g:
        return g.actor_now
    row = load_session(session)
    if row is None:
        raise NotAuthenticated(hint=_l("No Microcred session: open it from your course in Canvas (sessions last "
                                       "8 hours)."))
    g.actor_now = _with_designations(session, Actor.from_json(row.actor))
    return g.actor_now


def end_session(session: Session, token: str | None) -> bool:
    """End the session this token opened (sign-out, or a new launch in the same browser)."""
    if not token:
        return False
    if token == g.get("session_token"):
        g.session_ended = True  # this request's own: its page offers nothing that needs the session
    return session.execute(delete(ToolSession).where(ToolSession.token_hash == _hash(token))).rowcount > 0


def remember_locale(session: Session, locale: str) -> None:
    """Keep the person's language choice with their session, from the next page on, and on the person, so later
    launches start in it (over the platform's locale)."""
    row = load_session(session)
    if row is None:
        raise NotAuthenticated()
    row.actor = replace(Actor.from_json(row.actor), locale=locale).to_json()  # a new dict: the JSON column sees it
    user = session.get(User, row.user_id)
    if user is not None:
        user.preferred_locale = locale
    session.flush()
    g.pop("actor_now", None)


def launch_record(session: Session) -> LaunchRecord:
    row = load_session(session)
    if row is None:
        raise NotAuthenticated()
    return session.get(LaunchRecord, row.launch_id)


def csrf_token() -> str:
    token = g.get("session_token") or ""
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"csrf:" + token.encode(), "sha256").hexdigest()


def check_csrf() -> None:
    sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token") or ""
    if not g.get("session_token") or not hmac.compare_digest(sent, csrf_token()):
        raise BadRequest(_l("This form has expired. Reload the page and try again."),
                         hint="CSRF token missing or wrong.")


def session_url(endpoint: str, **values: Any) -> str:
    """``url_for`` that keeps the session in the URL when the frame has no cookies."""
    if g.get("session_via_param") and g.get("session_token"):
        values[SESSION_PARAM] = g.session_token
    return url_for(endpoint, **values)


def requires_actor(view: Callable) -> Callable:
    """Load the actor into ``g.actor``; on POST also check CSRF."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        from lti_tool import db

        g.actor = current_actor(db.session())
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            check_csrf()
        return view(*args, **kwargs)

    return wrapper


def set_session_cookie(response, token: str) -> None:
    set_partitioned_cookie(response, SESSION_COOKIE, token, max_age=int(SESSION_TTL.total_seconds()))


def set_partitioned_cookie(response, name: str, value: str, *, max_age: int, path: str = "/") -> None:
    """``SameSite=None; Secure; HttpOnly; Partitioned`` (CHIPS): kept inside the Canvas frame where allowed."""
    response.set_cookie(name, value, max_age=max_age, path=path, secure=True, httponly=True, samesite="None",
                        partitioned=True)


def purge_expired(session: Session) -> dict[str, int]:
    """Delete what has expired: login states, sessions, launches no session refers to any more, and login
    rate counters whose window ended an hour ago."""
    now = utcnow()
    counts = {
        "login states": session.execute(delete(LoginState).where(LoginState.expires_at < now)).rowcount,
        "sessions": session.execute(delete(ToolSession).where(ToolSession.expires_at < now)).rowcount,
    }
    live = select(ToolSession.launch_id)
    counts["launches"] = session.execute(
        delete(LaunchRecord).where(LaunchRecord.expires_at < now, LaunchRecord.id.not_in(live))).rowcount
    counts["rate counters"] = purge_rate_limits(session)
    return counts

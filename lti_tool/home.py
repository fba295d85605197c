"""The page a launch lands on: what this person can do here, by role."""
from __future__ import annotations

from flask import Blueprint, g, make_response, render_template

from lti_tool import db
from lti_tool.lti.session import SESSION_COOKIE, end_session, load_session, requires_actor
from lti_tool.people.models import District, School, User

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    session = db.session()
    if load_session(session) is None:
        return render_template("welcome.html")
    return _dashboard()


@requires_actor
def _dashboard():
    session = db.session()
    actor = g.actor
    user = session.get(User, actor.user_id)
    district = session.get(District, actor.district_id)
    school = session.get(School, actor.school_id) if actor.school_id else None
    return render_template("home.html", actor=actor, user=user, district=district, school=school)


@bp.post("/sign-out")
@requires_actor
def sign_out():
    """End this browser's Microcred session now (it would otherwise last 8 hours). Opening Microcred from
    Canvas again signs in afresh."""
    end_session(db.session(), g.session_token)
    response = make_response(render_template("signed_out.html"))
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="None", partitioned=True)
    return response

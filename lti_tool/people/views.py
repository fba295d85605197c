"""District admins' page for schools: add one, map Canvas courses to it, designate its administrators and the
district's."""
from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l

from lti_tool import db
from lti_tool.errors import BadRequest
from lti_tool.inputs import parse_int
from lti_tool.lti.session import requires_actor, session_url
from lti_tool.people import admin

bp = Blueprint("schools", __name__, url_prefix="/district/schools")


def _int(name: str) -> int:
    return parse_int(request.form.get(name), field=_("School") if name == "school_id" else _("Person"), minimum=1)


@bp.get("/")
@requires_actor
def index():
    return render_template("people/schools.html", **admin.overview(db.session(), g.actor))


@bp.post("/")
@requires_actor
def change():
    session, actor, form = db.session(), g.actor, request.form
    action = form.get("action")
    if action == "add_school":
        admin.add_school(session, actor, form.get("code", ""), form.get("name", ""))
    elif action == "map_course":
        admin.map_course(session, actor, _int("school_id"), form.get("kind", "course"), form.get("platform_id", ""))
    elif action in ("designate", "undesignate"):
        admin.designate_admin(session, actor, _int("school_id"), _int("user_id"), on=action == "designate")
    elif action in ("designate_district", "undesignate_district"):
        admin.designate_district_admin(session, actor, _int("user_id"), on=action == "designate_district")
    else:
        raise BadRequest(_l("Unknown action."))
    return redirect(session_url("schools.index"), code=303)

"""Install paths for district IT: the Canvas developer-key JSON (``/lti/canvas.json``) and LTI Dynamic
Registration (``/lti/register``, in ``dynreg.py``).

The JSON is rendered from ``canvas_templates/`` at the repository top, with this server's own URLs.
Privacy level ``public``: reviewers and school admins need colleagues' names to work together, and the
optional email lets badges be issued to a teacher's address; both are never logged.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from lti_tool.lti.cli import TOOL_SCOPES

bp = Blueprint("lti_install", __name__, url_prefix="/lti")

# The top-level folder of the checkout; a deployment runs from it (wsgi.py lives there too).
TEMPLATES = next((p for p in (Path(__file__).resolve().parents[2] / "canvas_templates",
                              Path.cwd() / "canvas_templates") if p.is_dir()),
                 Path(__file__).resolve().parents[2] / "canvas_templates")
TITLE = "Microcred"
DESCRIPTION = ("Educator micro-credentials: teachers show a competency with evidence from their classroom, "
               "colleagues review it, a school administrator signs off, and Canvas records the completion.")
PRIVACY_LEVEL = "public"
# Canvas substitutes these per launch; numbers arrive as strings, an unsupported variable arrives literally.
CUSTOM_FIELDS = {
    "canvas_user_id": "$Canvas.user.id",
    "canvas_course_id": "$Canvas.course.id",
    "canvas_user_sis_id": "$Canvas.user.sisSourceId",
    "canvas_section_ids": "$Canvas.course.sectionIds",
}

_environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, autoescape=False,
                           keep_trailing_newline=True)


def developer_key(base_url: str) -> dict:
    """The developer-key configuration Canvas accepts (Developer Keys → + LTI Key → Paste JSON / Enter URL)."""
    text = _environment.get_template("developer_key.json.j2").render(
        base=base_url, title=TITLE, description=DESCRIPTION, scopes=list(TOOL_SCOPES), privacy_level=PRIVACY_LEVEL,
        domain=urlsplit(base_url).netloc, custom_fields=CUSTOM_FIELDS)
    return json.loads(text)


@bp.get("/canvas.json")
def canvas_json():
    body = json.dumps(developer_key(current_app.config["TOOL_BASE_URL"]), indent=2) + "\n"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": 'inline; filename="microcred-canvas.json"',
                             "Cache-Control": "no-cache"})


@bp.get("/register")
def register():
    """LTI Dynamic Registration (Canvas: Developer Keys → + LTI Registration → this URL)."""
    from flask import render_template, request

    from lti_tool import db, http
    from lti_tool.lti import dynreg

    registration = dynreg.register(
        db.session(), http.session(), config_url=request.args.get("openid_configuration", ""),
        token=request.args.get("registration_token", ""), base=current_app.config["TOOL_BASE_URL"],
        invite=request.args.get("invite"), secret=current_app.config["SECRET_KEY"],
        production=current_app.config["ENV"] == "production")
    return render_template("install/registered.html", registration=registration)

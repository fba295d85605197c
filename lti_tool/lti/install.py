"""Install paths for district IT, the web glue: the Canvas developer-key JSON (``/lti/canvas.json``) and LTI
Dynamic Registration (``/lti/register``; the protocol steps are in ``dynreg.py``).

The JSON is rendered from ``canvas_templates/`` at the repository top, with this server's own URLs and what
``description.py`` says of the tool.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, render_template, request
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from lti_tool import db
from lti_tool import http as outbound
from lti_tool.lti.description import CUSTOM_FIELDS, DESCRIPTION, PRIVACY_LEVEL, TITLE
from lti_tool.lti.services.scopes import TOOL_SCOPES, missing_scopes

bp = Blueprint("lti_install", __name__, url_prefix="/lti")

# The top-level folder of the checkout; a deployment runs from it (wsgi.py lives there too).
TEMPLATES = next((p for p in (Path(__file__).resolve().parents[2] / "canvas_templates",
                              Path.cwd() / "canvas_templates") if p.is_dir()),
                 Path(__file__).resolve().parents[2] / "canvas_templates")
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


# --- Dynamic Registration ---------------------------------------------------------------------------------

@bp.get("/register")
def register():
    """LTI Dynamic Registration (Canvas: Developer Keys → + Developer Key → + LTI Registration → this URL).

    ``REGISTRATION_DEADLINE_SECONDS`` (10) bounds the whole exchange with the platform and
    ``REGISTRATION_MAX_RESPONSE_BYTES`` (256 KiB) each of its answers."""
    from lti_tool.lti import dynreg

    config = current_app.config
    limits = dynreg.Limits(deadline=config["REGISTRATION_DEADLINE_SECONDS"],
                           max_bytes=config["REGISTRATION_MAX_RESPONSE_BYTES"])
    registration = dynreg.register(
        db.session(), outbound.session(), config_url=request.args.get("openid_configuration", ""),
        token=request.args.get("registration_token", ""), base=config["TOOL_BASE_URL"],
        invite=request.args.get("invite"), secret=config["SECRET_KEY"], production=config["ENV"] == "production",
        limits=limits)
    return render_template("install/registered.html", registration=registration,
                           missing_scopes=missing_scopes(registration))

"""The practice LMS's pages: pick a persona, open Microcred in the course frame, and the platform's own
OIDC, key, token and deep-linking endpoints."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, redirect, render_template, request
from lti1p3platform.exceptions import PreflightRequestValidationException

from lti_tool import db
from lti_tool.errors import BadRequest
from lti_tool.practice import platform as p
from lti_tool.practice.services import create_line_item, store
from lti_tool.practice.setup import ensure_registered
from lti_tool.security import csp_nonce

bp = Blueprint("practice", __name__, url_prefix="/practice")


@bp.get("/")
def index():
    ensure_registered(db.session())
    return render_template("practice/index.html", personas=p.PERSONAS.values(), placed=store().placed)


@bp.get("/course/<persona>")
def course(persona: str):
    """The course page: Microcred in an iframe, beside Canvas's Platform Storage frame."""
    if persona not in p.PERSONAS:
        raise BadRequest("Unknown practice persona.")
    ensure_registered(db.session())
    kind = "deep_link" if request.args.get("kind") == "deep_link" else "resource_link"
    response = current_app.make_response(render_template("practice/course.html", persona=p.PERSONAS[persona],
                                                         kind=kind, course=p.COURSE_TITLE))
    # Like Canvas, the course page frames the tool, which lives on the tool's own origin.
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' 'nonce-{csp_nonce()}'; style-src 'self'; img-src 'self' data:; "
        f"frame-src 'self' {p.base_url()}; object-src 'none'; base-uri 'none'")
    return response


@bp.get("/start/<persona>")
def start(persona: str):
    """Third-party-initiated login: send the frame to the tool's login URL, as Canvas does."""
    if persona not in p.PERSONAS:
        raise BadRequest("Unknown practice persona.")
    login = p.PracticeLogin(None, p.PracticeConf())
    hint = {"kind": request.args.get("kind", "resource_link")}
    if hint["kind"] == "deep_link":
        login.set_deeplinking_launch_url()
    login.set_lti_message_hint(**hint)
    url = login.initiate_login(p.subject(p.PERSONAS[persona]))
    if request.args.get("storage") != "0":  # Canvas offers Platform Storage through this frame name
        url += "&lti_storage_target=post_message_forwarding"
    return redirect(url, code=302)


@bp.get("/forwarder")
def forwarder():
    return render_template("practice/forwarder.html")


@bp.route("/auth", methods=["GET", "POST"])
def auth():
    """The platform's OIDC authorization endpoint: answer the tool's redirect with a signed id_token."""
    launch = p.PracticeLaunch(p.FlaskRequestAdapter(request), p.PracticeConf())
    try:
        return launch.lti_launch(nonce=csp_nonce())
    except PreflightRequestValidationException as error:
        raise BadRequest("The tool's authorization request is incomplete.",
                         hint="nonce, state, redirect_uri and client_id are required.") from error


@bp.get("/jwks")
def jwks():
    store().jwks_hits += 1
    return jsonify(p.PracticeConf().get_jwks())


@bp.post("/token")
def token():
    conf = p.PracticeConf()
    conf.get_registration()
    try:
        return jsonify(conf.get_access_token(request.form.to_dict()))
    except Exception as error:  # lti1p3platform raises its own and PyJWT's exceptions for a bad request
        return jsonify(error="invalid_request", error_description=type(error).__name__), 400


@bp.post("/deep-link-return")
def deep_link_return():
    """Validate the tool's deep-linking response (lti1p3platform) and create the placed assignments."""
    conf = p.PracticeConf()
    conf.get_registration()
    try:
        items = conf.validate_deeplinking_resp({"JWT": request.form.get("JWT", "")})
        claims = conf.tool_validate_and_decode(request.form.get("JWT", ""))
    except Exception as error:
        raise BadRequest("The tool's deep-linking response was refused.", hint=type(error).__name__) from error
    audience = claims.get("aud")
    if p.issuer() not in (audience if isinstance(audience, list) else [audience]) or claims.get("iss") != p.CLIENT_ID \
            or claims.get("https://purl.imsglobal.org/spec/lti/claim/deployment_id") != p.DEPLOYMENT_ID:
        raise BadRequest("The tool's deep-linking response names another platform or deployment.")
    placed = []
    for item in items:
        line_item = item.get("lineItem")
        created = create_line_item(line_item) if line_item else None
        placed.append({"title": item.get("title"), "custom": item.get("custom") or {}, "line_item": created})
    store().placed.extend(placed)
    return render_template("practice/placed.html", placed=placed)



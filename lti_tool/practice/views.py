"""The practice LMS's pages (pick a persona, open Microcred in the course frame) and its platform endpoints:
OIDC authorization, JWKS, OAuth2 token, deep-linking return."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request

from lti_tool import db
from lti_tool.errors import BadRequest
from lti_tool.practice import keyring, launches
from lti_tool.practice import personas as people
from lti_tool.practice.ags import check_items, place_items
from lti_tool.practice.platform import FlaskRequestAdapter, PracticeConf, TokenError, tool_base
from lti_tool.practice.setup import ensure_registered
from lti_tool.practice.store import store
from lti_tool.security import csp_nonce

bp = Blueprint("practice", __name__, url_prefix="/practice")


def _persona(key: str) -> people.Persona:
    persona = people.PERSONAS.get(key)
    if persona is None:
        raise BadRequest("Unknown practice persona.", hint="Pick a person on the practice LMS's first page.")
    return persona


def _launch_args() -> tuple[str, str | None, bool]:
    kind = request.args.get("kind", "resource_link")
    if kind not in launches.KINDS:
        raise BadRequest("Unknown kind of launch.", hint=f"kind must be one of {', '.join(launches.KINDS)}.")
    link = request.args.get("link") or None
    if link is not None and link not in store().links:
        raise BadRequest("That assignment is not in the practice course (the practice LMS forgets on restart).")
    return kind, link, request.args.get("storage", "1") != "0"


@bp.get("/")
def index():
    ensure_registered(db.session())
    return render_template("practice/index.html", personas=people.PERSONAS.values(), deep_linker=people.DEEP_LINKER,
                           links=list(store().links.values()), line_items=store().line_items)


@bp.get("/course/<persona>")
def course(persona: str):
    """The course page: Microcred in an iframe, beside the Platform Storage frame Canvas offers."""
    who = _persona(persona)
    kind, link, storage = _launch_args()
    ensure_registered(db.session())
    response = current_app.make_response(render_template(
        "practice/course.html", persona=who, kind=kind, link=store().links.get(link or ""), storage=storage,
        course=people.COURSE_TITLE))
    # Like Canvas, the course page frames the tool, which lives on the tool's own origin.
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' 'nonce-{csp_nonce()}'; style-src 'self'; img-src 'self' data:; "
        f"frame-src 'self' {tool_base()}; object-src 'none'; base-uri 'none'")
    return response


@bp.get("/start/<persona>")
def start(persona: str):
    """Third-party-initiated login: send the frame to the tool's login URL, as Canvas does."""
    who = _persona(persona)
    kind, link, storage = _launch_args()
    ensure_registered(db.session())
    return redirect(launches.login_url(who, kind=kind, link=link, storage=storage), code=302)


@bp.get("/forwarder")
def forwarder():
    """Canvas's ``post_message_forwarding`` frame: answers ``lti.put_data`` / ``lti.get_data``."""
    return render_template("practice/forwarder.html")


@bp.route("/auth", methods=["GET", "POST"])
def auth():
    """The OIDC authorization endpoint: answer the tool's redirect with a signed id_token (form_post)."""
    return launches.PracticeLaunch(FlaskRequestAdapter(request), PracticeConf()).lti_launch()


@bp.get("/jwks")
def jwks():
    store().count_jwks_hit()
    return jsonify(keyring.jwks(current_app))


@bp.post("/token")
def token():
    try:
        answer = PracticeConf().issue_token(request.form.to_dict())
    except TokenError as error:
        return jsonify(error=error.error, error_description=error.description), error.status
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/deep-link-return")
def deep_link_return():
    """Validate the tool's deep-linking response; place each item as an assignment with its line item."""
    items, claims = PracticeConf().validate_deep_link_response(request.form.get("JWT", ""))
    placed_by = launches.read_deep_link_data(claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/data"))
    check_items(items)
    if not store().first_use("dl-nonce", str(claims["nonce"])):
        raise BadRequest("These items were already added to the course.",
                         hint="A deep-linking response is accepted once (its nonce was seen before).")
    placed = place_items(items, placed_by)
    return render_template("practice/placed.html", placed=placed, message=claims.get(
        "https://purl.imsglobal.org/spec/lti-dl/claim/msg"), line_items=store().line_items)

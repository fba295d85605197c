"""Install paths for district IT: the Canvas developer-key JSON (``/lti/canvas.json``) and LTI Dynamic
Registration (``/lti/register``; the protocol steps are in ``dynreg.py``, the web glue here).

The JSON is rendered from ``canvas_templates/`` at the repository top, with this server's own URLs.

Privacy level ``public``: Microcred needs names (reviewers and school administrators must know whose
evidence they read and who reviewed it) and emails (the recipient identity of the Open Badges it issues,
hashed as Open Badges 2.0 asks, and the address for notifications). Canvas has no level that shares both
short of ``public`` (``name_only`` drops the email, ``email_only`` the name). Neither is ever logged.

Granted scopes: in Canvas's review step, after Microcred's registration dialog has closed, and at any time
later on the developer key, an administrator may untick scopes; the tool is not told. ``Registration.scopes``
is the list the tool reads before every service call; ``granted_scopes`` is that list as a set, and
``refresh_granted_scopes`` asks the platform's token endpoint what it grants now and records the answer
(``flask --app wsgi platform scopes ID --refresh``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click
import requests
from flask import Blueprint, Response, current_app, render_template, request
from flask.cli import with_appcontext
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session

from lti_tool import audit, db
from lti_tool import http as outbound
from lti_tool.db import session_scope
from lti_tool.errors import MicrocredError
from lti_tool.lti import registry
from lti_tool.lti.cli import TOOL_SCOPES, platform_cli
from lti_tool.lti.models import Registration

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


# --- granted scopes -------------------------------------------------------------------------------------

def granted_scopes(registration: Registration) -> frozenset[str]:
    """The LTI Advantage scopes Microcred may use with this platform: what it granted (Dynamic Registration's
    answer, ``platform add --scope``, or the last ``refresh_granted_scopes``). ``None`` means never learned
    (a registration added on the command line without ``--scope``): everything the tool asks for."""
    if registration.scopes is None:
        return frozenset(TOOL_SCOPES)
    return frozenset(registration.scopes) - {"openid"}


def missing_scopes(registration: Registration) -> tuple[str, ...]:
    """The scopes Microcred asks for that this platform has not granted, in the order the tool lists them."""
    granted = granted_scopes(registration)
    return tuple(scope for scope in TOOL_SCOPES if scope not in granted)


@dataclass(frozen=True)
class ScopeCheck:
    granted: frozenset[str]
    removed: frozenset[str]  # recorded as granted before, refused now
    added: frozenset[str]    # refused before, granted now


# Canvas::OAuth::InvalidScopeError: "... The following scopes were requested, but not granted: A, B, and C"
_NOT_GRANTED = re.compile(r"not granted:\s*(?P<scopes>.+)$", re.IGNORECASE | re.DOTALL)
_SENTENCE_SEPARATOR = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


def scopes_named_in(message: str | None, asked: frozenset[str]) -> frozenset[str] | None:
    """The asked-for scopes a platform's ``invalid_scope`` description names as not granted, if it names any."""
    found = _NOT_GRANTED.search(message or "")
    if not found:
        return None
    names = {part.strip().rstrip(".") for part in _SENTENCE_SEPARATOR.split(found.group("scopes").strip())}
    return frozenset(names & asked) or None


def refresh_granted_scopes(session: Session, registration: Registration,
                           http: requests.Session | None = None) -> ScopeCheck:
    """Ask the platform which of Microcred's scopes it grants now, and record the answer on the registration.

    One client-credentials token request for every scope the tool asks for. Canvas refuses a request naming
    any scope the developer key lacks (400 ``invalid_scope``) and names the missing ones in
    ``error_description``; a platform that grants less in a 200 says so in ``scope`` (RFC 6749 §5.1). When
    neither names them, each scope is asked for alone. Flushes (and audits a change), never commits.
    """
    from lti_tool.lti.services import tokens
    from lti_tool.lti.services.errors import ScopeNotGranted

    http = http or outbound.session()
    asked = frozenset(TOOL_SCOPES)

    def refused_alone(scope: str) -> bool:
        try:
            tokens.fetch_token(session, registration, [scope], http)
        except ScopeNotGranted:
            return True
        return False

    try:
        tokens.fetch_token(session, registration, asked, http)
        missing: frozenset[str] = frozenset()
    except ScopeNotGranted as refused:
        named = scopes_named_in(refused.platform_message, asked)
        if named is None and frozenset(refused.missing) < asked:  # a 200 that granted less says exactly what
            named = frozenset(refused.missing)
        missing = named if named is not None else frozenset(s for s in asked if refused_alone(s))
    granted = asked - missing
    before = granted_scopes(registration)
    if registration.scopes is None or set(registration.scopes) != granted:
        audit.record(session, action="platform.scopes_changed", subject_type="lti_registration",
                     subject_id=registration.id, district_id=registration.district_id,
                     before={"scopes": None if registration.scopes is None else sorted(registration.scopes)},
                     after={"scopes": sorted(granted)})
        registration.scopes = [scope for scope in TOOL_SCOPES if scope in granted]
        session.flush()
    return ScopeCheck(granted=granted, removed=before - granted, added=granted - before)


@platform_cli.command("scopes")
@click.argument("registration_id", type=int)
@click.option("--refresh", is_flag=True, help="Ask the platform what it grants now, and record the answer.")
@with_appcontext
def scopes_command(registration_id: int, refresh: bool) -> None:
    """Show the scopes a platform granted Microcred; --refresh asks the platform again (after an administrator
    unticked or ticked scopes on the developer key)."""
    try:
        with session_scope() as session:
            registration = registry.get_registration(session, registration_id)
            check = refresh_granted_scopes(session, registration) if refresh else None
            granted = granted_scopes(registration)
            for scope in TOOL_SCOPES:
                click.echo(f"{'granted    ' if scope in granted else 'NOT granted'}  {scope}")
            if check is not None:
                changes = [f"-{s}" for s in sorted(check.removed)] + [f"+{s}" for s in sorted(check.added)]
                click.echo("Recorded: " + (", ".join(changes) if changes else "no change") + ".")
    except MicrocredError as error:
        raise click.ClickException(error.message + (f" {error.hint}" if error.hint else "")) from error

"""The LTI endpoints: login, launch, JWKS, deep linking. Thin: parse, call the lti services, render."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from datetime import timedelta

from flask import Blueprint, current_app, g, jsonify, make_response, redirect, render_template, request, url_for
from sqlalchemy import select

from lti_tool import db
from lti_tool.errors import render_error
from lti_tool.lti import deep_linking, keys
from lti_tool.lti.claims import CLAIM
from lti_tool.lti.context import placed_item
from lti_tool.lti.launch import (LOGIN_TTL, StateUnbound, TooManyLogins, begin_login, platform_origin,
                                 state_cookie_name, validate_launch)
from lti_tool.lti.models import LoginState, Registration
from lti_tool.lti.ratelimit import count_login
from lti_tool.lti.session import (SESSION_PARAM, current_actor, launch_record, requires_actor, set_partitioned_cookie,
                                  set_session_cookie, start_session)
from lti_tool.security import origin_of

bp = Blueprint("lti", __name__, url_prefix="/lti")
log = logging.getLogger(__name__)


def tool_url(endpoint: str, **values) -> str:
    """An absolute URL on the tool's public base (what the platform was told), not the request's host."""
    return current_app.config["TOOL_BASE_URL"] + url_for(endpoint, **values)




def _client_key() -> str:
    """The client address (ProxyFix has corrected it), as an HMAC: counters keep no address at rest. IPv6
    counts per /64, the block one subscriber gets."""
    address = request.remote_addr or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
        if parsed.version == 6 and parsed.ipv4_mapped is None:
            address = str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    except ValueError:
        pass
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), b"login-rate:" + address.encode(), hashlib.sha256)
    return "login:" + digest.hexdigest()


def _framed() -> bool:
    """Is this request the navigation of a frame? Browsers say so in ``Sec-Fetch-Dest``; one that sends no
    fetch metadata (an old browser, a script) is taken at its word."""
    dest = request.headers.get("Sec-Fetch-Dest")
    return dest is None or dest == "iframe"


def _from_own_page_in_frame() -> bool:
    """Was this POST sent by one of the tool's own pages inside the LMS frame (the Platform Storage re-post)?

    With fetch metadata: ``Sec-Fetch-Site: same-origin`` and ``Sec-Fetch-Dest: iframe``. Without it, the
    ``Origin`` header, when sent, must be the tool's own. A cross-site form (an attacker's page posting a
    victim's browser into the attacker's login) fails both."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin" and request.headers.get("Sec-Fetch-Dest") in ("iframe", None)
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin == origin_of(current_app.config["TOOL_BASE_URL"])


def _too_many_logins(retry_after: int):
    error = TooManyLogins(retry_after)
    response = make_response(render_error(error.status, error.code, error.message, error.hint))
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    config = current_app.config
    retry_after = count_login(db.engine(), _client_key(), limit=config["LOGIN_RATE_LIMIT"],
                              window=timedelta(seconds=config["LOGIN_RATE_WINDOW"]))
    if retry_after:
        log.info("lti login rate-limited")
        return _too_many_logins(retry_after)
    params = (request.form if request.method == "POST" else request.args).to_dict()
    redirect_to = begin_login(db.session(), params, tool_url("lti.launch"), platform_storage=_framed())
    if redirect_to.storage_target:
        response = current_app.make_response(render_template(
            "lti/login_storage.html", auth_url=redirect_to.auth_url, target=redirect_to.storage_target,
            key=f"mc_state_{redirect_to.state}", value=redirect_to.storage_secret,
            platform_origin=redirect_to.platform_origin))
    else:
        response = redirect(redirect_to.auth_url, code=302)
    set_partitioned_cookie(response, state_cookie_name(redirect_to.state), redirect_to.state,
                           max_age=int(LOGIN_TTL.total_seconds()), path="/lti/")
    log.info("lti login", extra={"storage": bool(redirect_to.storage_target)})
    return response


@bp.post("/launch")
def launch():
    form = request.form.to_dict()
    session = db.session()
    storage_refused = bool(form.get("lti_storage_secret")) and not _from_own_page_in_frame()
    if storage_refused:  # a Platform Storage answer must come from the tool's own page in the LMS frame
        del form["lti_storage_secret"]
    try:
        launch = validate_launch(session, form, request.cookies)
    except StateUnbound as error:
        state = form.get("state", "")
        row = session.scalar(select(LoginState).where(LoginState.state == state)) if len(state) <= 100 else None
        if row is not None and row.storage_target and not form.get("lti_storage_secret") and not storage_refused \
                and _framed():
            # No cookie came back: ask the platform's frame for the secret we stored at login, then re-post.
            registration = session.get(Registration, row.registration_id)
            return render_template("lti/launch_storage.html", target=row.storage_target, key=f"mc_state_{row.state}",
                                   id_token=form.get("id_token", ""), state=row.state,
                                   platform_origin=platform_origin(registration))
        if storage_refused:
            error.hint = ("A Platform Storage answer was posted from outside Microcred's own page in the LMS frame "
                          "(a cross-site form); it is not accepted.")
        new_window = url_for("lti.login", **row.login_params, lti1p3_new_window="1") if row else None
        return render_template("lti/cookies_blocked.html", new_window_url=new_window, hint=error.hint), 401

    token, actor, record = start_session(session, launch)
    via_storage = bool(form.get("lti_storage_secret"))
    message_type = launch.claims().get(CLAIM + "message_type")
    params = {SESSION_PARAM: token} if via_storage else {}
    response = redirect(_landing(session, actor, message_type, params), code=303)
    set_session_cookie(response, token)
    # The login is spent: drop its state cookie (Partitioned, so the deletion must be too).
    set_partitioned_cookie(response, state_cookie_name(form["state"]), "", max_age=0, path="/lti/")
    log.info("lti launch accepted", extra={"message_type": message_type, "roles": sorted(r.value for r in actor.roles),
                                           "via_storage": via_storage})
    return response


def _landing(session, actor, message_type: str | None, params: dict) -> str:
    """Where a launch lands: the picker for deep linking; the micro-credential or stack an instructor placed
    for a launch from that assignment (when this person may read it); else the home page."""
    if message_type == "LtiDeepLinkingRequest":
        return url_for("lti.deep_link", **params)
    placed = placed_item(session, actor)
    if placed is not None:
        kind, slug = placed
        return url_for("catalog.mc_detail" if kind == "mc" else "catalog.stack_detail", slug=slug, **params)
    return url_for("home.index", **params)


@bp.get("/jwks")
def jwks():
    response = jsonify(keys.jwks(db.session()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/deep-link")
@requires_actor
def deep_link():
    return _picker()


def _picker(refusal: str | None = None, picked: tuple[str, ...] = ()):
    session = db.session()
    dl_settings = deep_linking.settings(launch_record(session))
    page = render_template("lti/deep_link.html", choices=deep_linking.choices(session, g.actor),
                           multiple=str(dl_settings.get("accept_multiple", "false")).lower() == "true",
                           title=dl_settings.get("title"), refusal=refusal, picked=set(picked))
    return page, 400 if refusal else 200


@bp.post("/deep-link")
@requires_actor
def deep_link_submit():
    session = db.session()
    selected = request.form.getlist("resource")
    try:
        return_url, token = deep_linking.build_response(session, g.actor, launch_record(session), selected,
                                                        tool_url("lti.launch"))
    except deep_linking.ChoiceRefused as refused:  # the picker again, with what was ticked and why not
        return _picker(str(refused.message), tuple(selected))
    return render_template("lti/autopost.html", action=return_url, fields={"JWT": token})


__all__ = ["bp", "current_actor"]

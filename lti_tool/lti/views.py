"""The LTI endpoints: login, launch, JWKS, deep linking. Thin: parse, call the lti services, render."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from lti_tool import db
from lti_tool.lti import deep_linking, keys
from lti_tool.lti.launch import CLAIM, LOGIN_TTL, StateUnbound, begin_login, state_cookie_name, validate_launch
from lti_tool.lti.models import LoginState
from lti_tool.lti.session import (SESSION_PARAM, current_actor, launch_record, requires_actor, set_partitioned_cookie,
                                  set_session_cookie, start_session)

bp = Blueprint("lti", __name__, url_prefix="/lti")
log = logging.getLogger(__name__)


def tool_url(endpoint: str, **values) -> str:
    """An absolute URL on the tool's public base (what the platform was told), not the request's host."""
    return current_app.config["TOOL_BASE_URL"] + url_for(endpoint, **values)


@bp.route("/login", methods=["GET", "POST"])
def login():
    params = (request.form if request.method == "POST" else request.args).to_dict()
    redirect_to = begin_login(db.session(), params, tool_url("lti.launch"))
    if redirect_to.storage_target:
        response = current_app.make_response(render_template(
            "lti/login_storage.html", auth_url=redirect_to.auth_url, target=redirect_to.storage_target,
            key=f"mc_state_{redirect_to.state}", value=redirect_to.storage_secret))
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
    try:
        launch = validate_launch(session, form, request.cookies)
    except StateUnbound as error:
        row = session.scalar(select(LoginState).where(LoginState.state == form.get("state", "")))
        if row is not None and row.storage_target and not form.get("lti_storage_secret"):
            # No cookie came back: ask the platform's frame for the secret we stored at login, then re-post.
            return render_template("lti/launch_storage.html", target=row.storage_target, key=f"mc_state_{row.state}",
                                   id_token=form.get("id_token", ""), state=row.state)
        new_window = url_for("lti.login", **row.login_params, lti1p3_new_window="1") if row else None
        return render_template("lti/cookies_blocked.html", new_window_url=new_window, hint=error.hint), 401

    token, actor, record = start_session(session, launch)
    via_storage = bool(form.get("lti_storage_secret"))
    message_type = launch.claims().get(CLAIM + "message_type")
    params = {SESSION_PARAM: token} if via_storage else {}
    target = url_for("lti.deep_link", **params) if message_type == "LtiDeepLinkingRequest" else url_for("home.index", **params)
    response = redirect(target, code=303)
    set_session_cookie(response, token)
    # The login is spent: drop its state cookie (Partitioned, so the deletion must be too).
    set_partitioned_cookie(response, state_cookie_name(form["state"]), "", max_age=0, path="/lti/")
    log.info("lti launch accepted", extra={"message_type": message_type, "roles": sorted(r.value for r in actor.roles),
                                           "via_storage": via_storage})
    return response


@bp.get("/jwks")
def jwks():
    response = jsonify(keys.jwks(db.session()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/deep-link")
@requires_actor
def deep_link():
    session = db.session()
    record = launch_record(session)
    dl_settings = deep_linking.settings(record)
    return render_template("lti/deep_link.html", choices=deep_linking.choices(session, g.actor),
                           multiple=str(dl_settings.get("accept_multiple", "false")).lower() == "true",
                           title=dl_settings.get("title"))


@bp.post("/deep-link")
@requires_actor
def deep_link_submit():
    session = db.session()
    return_url, token = deep_linking.build_response(session, g.actor, launch_record(session),
                                                    request.form.getlist("resource"), tool_url("lti.launch"))
    return render_template("lti/autopost.html", action=return_url, fields={"JWT": token})


__all__ = ["bp", "current_actor"]

"""OIDC login initiation and launch validation: pylti1p3 for the protocol, the project for its gaps.

What the project adds to pylti1p3's ``MessageLaunch``:
- state and nonce live in the database, bound to the browser by a cookie (``SameSite=None; Secure;
  Partitioned``) or, when the frame cannot keep cookies, by a secret in LTI Platform Storage; both are
  consumed in one conditional UPDATE, so a replayed launch is refused even across workers;
- the audience is checked by PyJWT against the registration's client_id (an unknown audience is a 4xx);
- the platform's JWKS is cached on the registration and refetched only for an unknown ``kid``;
- validated claims are stored in ``lti_launch`` (shared by every worker), never in a per-process cache.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from pylti1p3.contrib.flask import FlaskRequest
from pylti1p3.cookie import CookieService
from pylti1p3.exception import LtiException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.session import SessionService
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_tool import http
from lti_tool.errors import BadRequest, Forbidden, MicrocredError, NotAuthenticated
from lti_tool.db import utcnow
from lti_tool.lti import registry
from lti_tool.lti.models import LoginState, Registration
from lti_tool.lti.toolconf import DbToolConf, ToolRegistration

log = logging.getLogger(__name__)

LOGIN_TTL = timedelta(minutes=10)
STATE_COOKIE_PREFIX = "mc_lti_state_"
JWKS_REFRESH_MIN_INTERVAL = timedelta(seconds=30)
CLOCK_LEEWAY = 60

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_DEEP_LINKING = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


class LaunchError(MicrocredError):
    """A launch that cannot be accepted. ``message`` speaks to the user; ``hint`` to district IT."""

    status, code = 400, "launch_refused"
    message = "This launch from your LMS could not be accepted."


class LaunchReplayed(LaunchError):
    status, code = 403, "launch_replayed"
    message = "This launch was already used. Please open Microcred again from your course."


class StateUnbound(LaunchError):
    """Neither a state cookie nor Platform Storage tied this browser to the login."""

    status, code = 401, "state_unbound"
    message = "Your browser blocked the cookie Microcred needs inside Canvas."


@dataclass(frozen=True)
class LoginRedirect:
    auth_url: str
    state: str
    storage_target: str | None
    storage_secret: str | None


# --- login ---------------------------------------------------------------------------------------------

def begin_login(session: Session, params: dict[str, str], launch_url: str) -> LoginRedirect:
    """Handle an OIDC third-party-initiated login (GET or POST) and make the redirect to the platform."""
    issuer = params.get("iss", "").strip()
    login_hint = params.get("login_hint", "").strip()
    if not issuer or not login_hint:
        raise LaunchError("The login request from the LMS is incomplete.",
                          hint="The OIDC login request must carry 'iss' and 'login_hint'.")
    client_id = params.get("client_id") or None
    registration = registry.find_registration(session, issuer, client_id)
    if registration is None:
        raise LaunchError("This LMS is not registered with Microcred.",
                          hint=f"No platform registration for issuer {issuer} and client_id {client_id or '(none)'}. "
                               "Register it with 'flask --app wsgi platform add' or Dynamic Registration.")
    deployment_id = params.get("lti_deployment_id") or params.get("deployment_id")
    if deployment_id and registry.find_deployment(session, registration, deployment_id) is None:
        raise LaunchError("This installation of Microcred is not registered.",
                          hint=f"Deployment {deployment_id} is not registered for client_id {registration.client_id}: "
                               f"'flask --app wsgi platform add-deployment {registration.id} {deployment_id}'.")

    storage_target = params.get("lti_storage_target") or None
    state = LoginState(
        state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24), registration_id=registration.id,
        storage_target=storage_target, storage_secret=secrets.token_urlsafe(24) if storage_target else None,
        expires_at=utcnow() + LOGIN_TTL,
        login_params={k: params[k] for k in ("iss", "login_hint", "lti_message_hint", "client_id", "target_link_uri",
                                             "lti_deployment_id", "deployment_id") if params.get(k)},
    )
    session.add(state)
    session.flush()
    auth_params = {
        "scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
        "client_id": registration.client_id, "redirect_uri": launch_url, "state": state.state, "nonce": state.nonce,
        "login_hint": login_hint,
    }
    if params.get("lti_message_hint"):
        auth_params["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in registration.auth_login_url else "?"
    return LoginRedirect(registration.auth_login_url + separator + urlencode(auth_params), state.state,
                         storage_target, state.storage_secret)


# --- launch --------------------------------------------------------------------------------------------

class _NoCookies(CookieService):
    """pylti1p3 needs a cookie service; the project binds state itself (see ``validate_state``)."""

    def get_cookie(self, name):
        return None

    def set_cookie(self, name, value, exp=3600):
        raise AssertionError("not used")


class _NoSession(SessionService):
    def __init__(self) -> None:  # pylint: disable=super-init-not-called
        pass


class ToolLaunch(MessageLaunch):
    def __init__(self, session: Session, form: dict[str, str], state_cookie: str | None) -> None:
        self.db = session
        self.form = form
        self.state_cookie = state_cookie
        self.login_state: LoginState | None = None
        self.registration_row: Registration | None = None
        request = FlaskRequest(cookies={}, session={}, request_data=form, request_is_secure=True)
        super().__init__(request, DbToolConf(session), session_service=_NoSession(),
                         cookie_service=_NoCookies(), requests_session=http.session())

    def _get_request_param(self, key: str) -> str:
        return self.form.get(key, "")

    def validate_state(self) -> "ToolLaunch":
        state_value = self.form.get("state") or ""
        row = self.db.scalar(select(LoginState).where(LoginState.state == state_value)) if state_value else None
        if row is None:
            raise LaunchError("This launch does not match a login from this browser.",
                              hint="The 'state' is missing or unknown. Open the tool again from the LMS.")
        if row.used_at is not None:
            raise LaunchReplayed(hint="The state of this launch was already consumed (replayed or double-posted).")
        if row.expires_at < utcnow():
            raise LaunchError("This launch took too long. Please open Microcred again from your course.",
                              hint="The login state expired after 10 minutes.")
        self.login_state = row
        if self.state_cookie and hmac.compare_digest(self.state_cookie, row.state):
            return self
        secret = self.form.get("lti_storage_secret")
        if row.storage_secret and secret and hmac.compare_digest(secret, row.storage_secret):
            return self
        raise StateUnbound(hint="No state cookie reached the tool and Platform Storage did not confirm the login.")

    def validate_nonce(self) -> "ToolLaunch":
        nonce = self._get_jwt_body().get("nonce")
        if not nonce or self.login_state is None or not hmac.compare_digest(str(nonce), self.login_state.nonce):
            raise LaunchError(hint="The id_token's nonce does not match the login it answers.")
        consumed = self.db.execute(
            update(LoginState).where(LoginState.id == self.login_state.id, LoginState.used_at.is_(None))
            .values(used_at=utcnow())
        ).rowcount
        if consumed != 1:
            raise LaunchReplayed(hint="The nonce of this launch was already consumed.")
        return self

    def validate_registration(self) -> "ToolLaunch":
        body = self._get_jwt_body()
        audience = body.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        client_id = body.get("azp") or (audiences[0] if len(audiences) == 1 else None)
        if not isinstance(client_id, str) or client_id not in audiences:
            raise LaunchError(hint="The id_token's audience does not name one client_id (set 'azp' with several).")
        row = registry.find_registration(self.db, str(body.get("iss", "")), client_id)
        if row is None or (self.login_state is not None and row.id != self.login_state.registration_id):
            raise LaunchError("This LMS is not registered with Microcred.",
                              hint=f"No registration for issuer {body.get('iss')} and client_id {client_id}.")
        self.registration_row = row
        self._registration = DbToolConf(self.db).wrap(row)
        return self

    def get_client_id(self) -> str:
        assert self.registration_row is not None
        return self.registration_row.client_id

    def get_public_key(self):
        """The platform key for this token's kid, from the cached JWKS; refetched once for an unknown kid."""
        assert self.registration_row is not None
        header = self._jwt.get("header", {})
        kid, alg = header.get("kid"), header.get("alg")
        if not kid or alg != "RS256":
            raise LaunchError(hint="The id_token must be signed with RS256 and name its key ('kid').")
        row = self.registration_row
        key = _find_key(row.key_set, kid)
        recently = row.key_set_fetched_at and utcnow() - row.key_set_fetched_at < JWKS_REFRESH_MIN_INTERVAL
        if key is None and not recently:
            row.key_set = fetch_platform_jwks(row.key_set_url, self._requests_session)
            row.key_set_fetched_at = utcnow()
            self.db.flush()
            key = _find_key(row.key_set, kid)
        if key is None:
            raise LaunchError(hint=f"The platform's key set at {row.key_set_url} has no key with kid {kid}.")
        return jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(key)), "RS256"

    def validate_jwt_signature(self) -> "ToolLaunch":
        public_key, alg = self.get_public_key()
        try:
            jwt.decode(self._get_id_token(), public_key, algorithms=[alg], audience=self.get_client_id(),
                       issuer=self.registration_row.issuer, leeway=CLOCK_LEEWAY,
                       options={"require": ["exp", "iat", "aud", "iss", "sub", "nonce"]})
        except jwt.ExpiredSignatureError as error:
            raise LaunchError("This launch has expired. Please open Microcred again from your course.",
                              hint="The id_token's 'exp' is in the past; check the server clock.") from error
        except jwt.InvalidTokenError as error:
            raise LaunchError(hint=f"The id_token failed verification: {error}.") from error
        return self

    def validate_deployment(self) -> "ToolLaunch":
        deployment_id = self._get_jwt_body().get(CLAIM + "deployment_id")
        if not isinstance(deployment_id, str) or registry.find_deployment(self.db, self.registration_row,
                                                                          deployment_id) is None:
            raise LaunchError("This installation of Microcred is not registered.",
                              hint=f"Deployment {deployment_id!r} is not registered for client_id "
                                   f"{self.registration_row.client_id}: 'flask --app wsgi platform add-deployment "
                                   f"{self.registration_row.id} {deployment_id}'.")
        return self

    def save_launch_data(self) -> "ToolLaunch":
        return self  # the caller stores a LaunchRecord once the user is known

    def claims(self) -> dict[str, Any]:
        return self._get_jwt_body()

    def tool_registration(self) -> ToolRegistration:
        return self._registration  # type: ignore[return-value]


def _find_key(key_set: dict | None, kid: str) -> dict | None:
    for key in (key_set or {}).get("keys", []):
        if key.get("kid") == kid and key.get("alg", "RS256") == "RS256":
            return key
    return None


def fetch_platform_jwks(url: str, client: requests.Session | None = None) -> dict:
    client = client or http.session()
    try:
        response = client.get(url)
        response.raise_for_status()
        key_set = response.json()
    except (requests.RequestException, ValueError) as error:
        raise LaunchError("Microcred could not check this launch with your LMS right now.",
                          hint=f"Fetching the platform key set {url} failed: {type(error).__name__}.") from error
    if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
        raise LaunchError(hint=f"The platform key set at {url} is not a JWKS.")
    return key_set


def validate_launch(session: Session, form: dict[str, str], cookies: dict[str, str]) -> ToolLaunch:
    """Validate a launch POST; raise a ``LaunchError`` (a 4xx) for anything wrong, never a 500."""
    if not form.get("id_token"):
        raise LaunchError(hint="The launch carries no id_token.")
    state_value = form.get("state", "")
    launch = ToolLaunch(session, form, cookies.get(STATE_COOKIE_PREFIX + _cookie_key(state_value)))
    try:
        launch.validate()
    except MicrocredError:
        raise
    except LtiException as error:
        raise LaunchError(hint=str(error)) from error
    except (ValueError, KeyError, TypeError, AttributeError, jwt.PyJWTError) as error:
        raise LaunchError(hint=f"The launch is malformed ({type(error).__name__}).") from error
    return launch


def _cookie_key(state: str) -> str:
    """Cookie names cannot hold every character a state may: use a short digest of it."""
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def state_cookie_name(state: str) -> str:
    return STATE_COOKIE_PREFIX + _cookie_key(state)


__all__ = ["BadRequest", "Forbidden", "LaunchError", "LaunchReplayed", "LoginRedirect", "NotAuthenticated",
           "StateUnbound", "ToolLaunch", "begin_login", "state_cookie_name", "validate_launch"]

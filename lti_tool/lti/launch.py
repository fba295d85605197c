"""OIDC login initiation and launch validation: pylti1p3 for the protocol, the project for its gaps
(claim shapes in ``claims.py``, the login rate limit in ``ratelimit.py``).

What the project adds to pylti1p3's ``MessageLaunch``:
- state and nonce live in the database, bound to the browser by a cookie (``SameSite=None; Secure;
  Partitioned``) or, when the frame cannot keep cookies, by a secret in LTI Platform Storage; both are
  consumed in one conditional UPDATE, so a replayed launch is refused even across workers;
- the audience is checked by PyJWT against the registration's client_id (an unknown audience is a 4xx);
- the platform's JWKS is cached on the registration and refetched only for an unknown ``kid``;
- validated claims are stored in ``lti_launch`` (shared by every worker), never in a per-process cache;
- what must hold even when the launch is refused (the JWKS refetch throttle, a state spent by a token whose
  signature failed, the login rate-limit counter) is written in its own short transaction, since a 4xx rolls
  the request's transaction back;
- login parameters have length caps and claims are checked for shape (``check_claims``), so nothing a
  platform or a forger sends becomes a 500 or an over-long value in a column.
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
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from flask_babel import lazy_gettext as _l
from pylti1p3.contrib.flask import FlaskRequest
from pylti1p3.cookie import CookieService
from pylti1p3.exception import LtiException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.session import SessionService
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lti_tool import http
from lti_tool.errors import BadRequest, Forbidden, MicrocredError, NotAuthenticated
from lti_tool.db import utcnow
from lti_tool.lti import registry
from lti_tool.lti.models import LoginState, Registration
from lti_tool.lti.claims import CLAIM, check_claims
from lti_tool.lti.toolconf import DbToolConf, ToolRegistration

log = logging.getLogger(__name__)

LOGIN_TTL = timedelta(minutes=10)
STATE_COOKIE_PREFIX = "mc_lti_state_"
JWKS_REFRESH_MIN_INTERVAL = timedelta(seconds=30)
CLOCK_LEEWAY = 60



class LaunchError(MicrocredError):
    """A launch that cannot be accepted. ``message`` speaks to the user, in their language; ``hint`` to district
    IT, in English (it names protocol fields and commands, as the log and docs/install-canvas.md do)."""

    status, code = 400, "launch_refused"
    message = _l("This launch from your LMS could not be accepted.")


class LaunchReplayed(LaunchError):
    status, code = 403, "launch_replayed"
    message = _l("This launch was already used. Please open Microcred again from your course.")


class StateUnbound(LaunchError):
    """Neither a state cookie nor Platform Storage tied this browser to the login."""

    status, code = 401, "state_unbound"
    message = _l("Your browser blocked the cookie Microcred needs inside Canvas.")


class TooManyLogins(LaunchError):
    status, code = 429, "too_many_logins"
    message = _l("Too many sign-ins from your network right now. Please wait a minute and open Microcred "
                 "again.")

    def __init__(self, retry_after: int) -> None:
        super().__init__(hint=f"More OIDC logins from this address than the limit allows; retry after {retry_after} s.")
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginRedirect:
    auth_url: str
    state: str
    storage_target: str | None
    storage_secret: str | None
    platform_origin: str


# --- login ---------------------------------------------------------------------------------------------

# Longest value accepted for each login parameter (Canvas's are far shorter: its lti_message_hint, a JWT, is
# the longest). Anything longer is refused before it is stored or sent on in the redirect.
LOGIN_PARAM_LIMITS = {
    "iss": 255, "client_id": 255, "lti_deployment_id": 255, "deployment_id": 255, "login_hint": 1024,
    "lti_message_hint": 4096, "target_link_uri": 2048, "lti_storage_target": 100, "canvas_region": 64,
    "canvas_environment": 64, "lti1p3_new_window": 8,
}
OTHER_PARAM_LIMIT = 2048
MAX_LOGIN_PARAMS = 40


def check_login_params(params: dict[str, str]) -> None:
    """Refuse a login whose parameters are too many or too long; the hint names the parameter, not its value."""
    if len(params) > MAX_LOGIN_PARAMS:
        raise LaunchError(_l("The login request from the LMS is not valid."),
                          hint=f"The OIDC login request carries more than {MAX_LOGIN_PARAMS} parameters.")
    for name, value in params.items():
        limit = LOGIN_PARAM_LIMITS.get(name, OTHER_PARAM_LIMIT)
        if len(name) > 64 or len(value) > limit:
            shown = f"'{name}'" if name in LOGIN_PARAM_LIMITS else "A parameter"
            raise LaunchError(_l("The login request from the LMS is not valid."),
                              hint=f"{shown} of the OIDC login request is longer than {limit} characters.")


def platform_origin(registration: Registration) -> str:
    """The origin of the platform's OIDC authorization endpoint: Platform Storage messages go to it and only
    its answers count (Canvas serves its ``post_message_forwarding`` frame from there, sso.canvaslms.com)."""
    url = urlsplit(registration.auth_login_url)
    scheme, host = url.scheme.lower(), (url.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"https": 443, "http": 80}.get(scheme)
    return f"{scheme}://{host}" + (f":{url.port}" if url.port and url.port != default else "")


def begin_login(session: Session, params: dict[str, str], launch_url: str, *,
                platform_storage: bool = True) -> LoginRedirect:
    """Handle an OIDC third-party-initiated login (GET or POST) and make the redirect to the platform.

    ``platform_storage=False`` (the browser says the login is not in a frame) ignores ``lti_storage_target``:
    the state is then bound by its cookie only."""
    check_login_params(params)
    issuer = params.get("iss", "").strip()
    login_hint = params.get("login_hint", "").strip()
    if not issuer or not login_hint:
        raise LaunchError(_l("The login request from the LMS is incomplete."),
                          hint="The OIDC login request must carry 'iss' and 'login_hint'.")
    client_id = params.get("client_id") or None
    registration = registry.find_registration(session, issuer, client_id)
    if registration is None:
        raise LaunchError(_l("This LMS is not registered with Microcred."),
                          hint=f"No platform registration for issuer {issuer} and client_id {client_id or '(none)'}. "
                               "Register it with 'flask --app wsgi platform add' or Dynamic Registration.")
    deployment_id = params.get("lti_deployment_id") or params.get("deployment_id")
    if deployment_id and registry.find_deployment(session, registration, deployment_id) is None:
        raise LaunchError(_l("This installation of Microcred is not registered."),
                          hint=_unknown_deployment(deployment_id))

    storage_target = (params.get("lti_storage_target") or None) if platform_storage else None
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
                         storage_target, state.storage_secret, platform_origin(registration))


def _unknown_deployment(deployment_id: str) -> str:
    """A hint for IT that names the deployment sent, never the registration's own ids (the page is anonymous)."""
    return (f"Deployment {deployment_id} is not registered with Microcred for this platform's client_id: add it "
            "with 'flask --app wsgi platform add-deployment <registration> <deployment id>' "
            "('flask --app wsgi platform list' shows the registrations).")


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

    def validate(self) -> "ToolLaunch":
        """pylti1p3's steps, reordered: nothing is written in the request's transaction before the signature
        holds (the writes that must survive a refusal use their own short transactions, which on SQLite must
        not wait on the request's lock); claim shapes are checked right after the signature; the state and
        nonce are consumed last."""
        self._validated = True
        try:
            (self.validate_state().validate_jwt_format().validate_nonce().validate_registration()
             .validate_jwt_signature().validate_claims().validate_deployment().validate_message()
             .consume_state())
        except Exception:
            self._validated = False
            raise
        return self

    def validate_state(self) -> "ToolLaunch":
        state_value = self.form.get("state") or ""
        row = None
        if state_value and len(state_value) <= 100:
            row = self.db.scalar(select(LoginState).where(LoginState.state == state_value))
        if row is None:
            raise LaunchError(_l("This launch does not match a login from this browser."),
                              hint="The 'state' is missing or unknown. Open the tool again from the LMS.")
        if row.used_at is not None:
            raise LaunchReplayed(hint="The state of this launch was already consumed (replayed, double-posted, "
                                      "or spent by a token whose signature failed).")
        if row.expires_at < utcnow():
            raise LaunchError(_l("This launch took too long. Please open Microcred again from your course."),
                              hint="The login state expired after 10 minutes.")
        self.login_state = row
        if self.state_cookie and hmac.compare_digest(self.state_cookie.encode(), row.state.encode()):
            return self
        secret = self.form.get("lti_storage_secret")
        if row.storage_secret and secret and hmac.compare_digest(secret.encode(), row.storage_secret.encode()):
            return self
        raise StateUnbound(hint="No state cookie reached the tool and Platform Storage did not confirm the login.")

    def validate_jwt_format(self) -> "ToolLaunch":
        super().validate_jwt_format()
        if not isinstance(self._jwt.get("header"), dict) or not isinstance(self._jwt.get("body"), dict):
            raise LaunchError(hint="The launch is malformed: the id_token's header and body must be JSON objects.")
        return self

    def validate_nonce(self) -> "ToolLaunch":
        """Check the nonce against the login; it is consumed, with the state, once everything holds."""
        nonce = self._get_jwt_body().get("nonce")
        if not nonce or self.login_state is None or not hmac.compare_digest(str(nonce), self.login_state.nonce):
            raise LaunchError(hint="The id_token's nonce does not match the login it answers.")
        return self

    def consume_state(self) -> "ToolLaunch":
        """Spend the state and nonce in one conditional UPDATE: of two concurrent posts only one wins."""
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
        issuer = body.get("iss")
        row = registry.find_registration(self.db, issuer, client_id) if isinstance(issuer, str) else None
        if row is None or (self.login_state is not None and row.id != self.login_state.registration_id):
            raise LaunchError(_l("This LMS is not registered with Microcred."),
                              hint=f"No registration for issuer {_shown(issuer)} and client_id {_shown(client_id)}.")
        self.registration_row = row
        self._registration = DbToolConf(self.db).wrap(row)
        return self

    def get_client_id(self) -> str:
        assert self.registration_row is not None
        return self.registration_row.client_id

    def get_public_key(self):
        """The platform key for this token's kid, from the cached JWKS; refetched for an unknown kid at most
        once per ``JWKS_REFRESH_MIN_INTERVAL`` across every worker (see ``_refresh_key_set``)."""
        assert self.registration_row is not None
        header = self._jwt.get("header", {})
        kid, alg = header.get("kid"), header.get("alg")
        if not isinstance(kid, str) or not kid or alg != "RS256":
            raise LaunchError(hint="The id_token must be signed with RS256 and name its key ('kid').")
        key = _find_key(self.registration_row.key_set, kid)
        if key is None:
            key = _find_key(self._refresh_key_set(), kid)
        if key is None:
            raise LaunchError(hint=f"The platform's key set has no key with kid {_shown(kid)} (the tool refetches "
                                   f"it at most every {int(JWKS_REFRESH_MIN_INTERVAL.total_seconds())} seconds).")
        return jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(key)), "RS256"

    def _refresh_key_set(self) -> dict | None:
        """Fetch the platform's JWKS if no worker did within the interval; None when throttled.

        The throttle is claimed with a conditional UPDATE committed in its own transaction before the fetch, so
        it holds when this launch is refused (its transaction rolls back) and when workers race."""
        row = self.registration_row
        now = utcnow()
        with Session(bind=self.db.get_bind()) as side, side.begin():
            claimed = side.execute(
                update(Registration).where(Registration.id == row.id, or_(
                    Registration.key_set_fetched_at.is_(None),
                    Registration.key_set_fetched_at <= now - JWKS_REFRESH_MIN_INTERVAL))
                .values(key_set_fetched_at=now)).rowcount
        if claimed != 1:
            return None
        key_set = fetch_platform_jwks(row.key_set_url, self._requests_session)
        with Session(bind=self.db.get_bind()) as side, side.begin():
            side.execute(update(Registration).where(Registration.id == row.id).values(key_set=key_set))
        set_committed_value(row, "key_set", key_set)  # what the database holds now; nothing to flush
        set_committed_value(row, "key_set_fetched_at", now)
        return key_set

    def _spend_state(self) -> None:
        """Mark the login state used, committed at once: a token whose signature failed burns its state, so
        one login cannot carry unlimited forgeries (each possibly a JWKS fetch)."""
        if self.login_state is None:
            return
        with Session(bind=self.db.get_bind()) as side, side.begin():
            side.execute(update(LoginState).where(LoginState.id == self.login_state.id, LoginState.used_at.is_(None))
                         .values(used_at=utcnow()))

    def validate_jwt_signature(self) -> "ToolLaunch":
        try:
            public_key, alg = self.get_public_key()
            jwt.decode(self._get_id_token(), public_key, algorithms=[alg], audience=self.get_client_id(),
                       issuer=self.registration_row.issuer, leeway=CLOCK_LEEWAY,
                       options={"require": ["exp", "iat", "aud", "iss", "sub", "nonce"]})
        except (LaunchError, jwt.DecodeError, jwt.InvalidAlgorithmError, jwt.InvalidKeyError) as error:
            # No valid platform signature: whoever posted this cannot retry with the same state.
            self._spend_state()
            if isinstance(error, LaunchError):
                raise
            raise LaunchError(hint=f"The id_token failed verification: {error}.") from error
        except jwt.ExpiredSignatureError as error:  # genuinely signed: the state stays usable
            raise LaunchError(_l("This launch has expired. Please open Microcred again from your course."),
                              hint="The id_token's 'exp' is in the past; check the server clock.") from error
        except jwt.InvalidTokenError as error:
            raise LaunchError(hint=f"The id_token failed verification: {error}.") from error
        return self

    def validate_claims(self) -> "ToolLaunch":
        problem = check_claims(self._get_jwt_body())
        if problem:
            raise LaunchError(hint=problem)
        return self

    def validate_deployment(self) -> "ToolLaunch":
        deployment_id = self._get_jwt_body().get(CLAIM + "deployment_id")
        if not isinstance(deployment_id, str) or registry.find_deployment(self.db, self.registration_row,
                                                                          deployment_id) is None:
            raise LaunchError(_l("This installation of Microcred is not registered."),
                              hint=_unknown_deployment(repr(deployment_id)))
        return self

    def save_launch_data(self) -> "ToolLaunch":
        return self  # the caller stores a LaunchRecord once the user is known

    def claims(self) -> dict[str, Any]:
        """The validated claims; ``check_claims`` has made each known claim the type it should be."""
        return self._get_jwt_body()

    def tool_registration(self) -> ToolRegistration:
        return self._registration  # type: ignore[return-value]


def _shown(value: Any, limit: int = 100) -> str:
    """A value from the request for a hint: repr'd, and cut short so a long one does not fill the page."""
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + "…"


def _find_key(key_set: dict | None, kid: str) -> dict | None:
    for key in (key_set or {}).get("keys", []):
        if isinstance(key, dict) and key.get("kid") == kid and key.get("alg", "RS256") == "RS256":
            return key
    return None


def fetch_platform_jwks(url: str, client: requests.Session | None = None) -> dict:
    client = client or http.session()
    try:
        response = client.get(url)
        response.raise_for_status()
        key_set = response.json()
    except (requests.RequestException, ValueError) as error:
        raise LaunchError(_l("Microcred could not check this launch with your LMS right now."),
                          hint=f"Fetching the platform key set (its registered key set URL) failed: "
                               f"{type(error).__name__}.") from error
    if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
        raise LaunchError(hint="The platform's key set (at its registered key set URL) is not a JWKS.")
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
           "StateUnbound", "TooManyLogins", "ToolLaunch", "begin_login", "platform_origin", "state_cookie_name",
           "validate_launch"]

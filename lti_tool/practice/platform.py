"""The practice LMS's platform configuration on ``lti1p3platform``, and what that package leaves undone.

lti1p3platform signs id_tokens and access tokens, publishes the platform JWKS, verifies the tool's JWTs
against the tool's JWKS and checks deep-linking responses. This subclass supplies the host's parts (a
Flask request adapter, the registration, the keys in ``keyring``) and closes its gaps:

- the tool's JWKS is fetched over HTTPS from ``/lti/jwks`` and cached per app, refetched once when a JWT
  names an unknown ``kid`` (the tool rotated its key); the package refetches on every call;
- the platform JWKS publishes the previous key too, and access tokens signed with it stay valid;
- client assertions are checked for ``iss``/``sub`` (the client_id), ``aud`` (the token URL), ``exp``, and
  a single-use ``jti``; requested scopes must be granted (Canvas: 400 ``invalid_scope``); the package checks
  only the signature and silently drops unknown scopes;
- deep-linking responses are checked for ``aud`` (this issuer), ``iss`` (the client_id), deployment,
  version, ``nonce`` and ``exp`` (the view checks the ``data`` echoed back and uses each nonce once); the
  package checks only signature, message type and item types.
"""
from __future__ import annotations

import time
from typing import Any

import jwt
import requests
from flask import current_app
from lti1p3platform.exceptions import (InvalidKeySetUrl, LtiDeepLinkingResponseException, LtiException,
                                      MissingRequiredClaim, UnsupportedGrantType)
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.registration import Registration as PlatformRegistration
from lti1p3platform.request import Request as PlatformRequest

from lti_tool import http
from lti_tool.errors import BadRequest
from lti_tool.practice import keyring
from lti_tool.practice.store import store

CLIENT_ID = "practice-lms"
DEPLOYMENT_ID = "practice-deployment-1"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
LINEITEM, LINEITEM_READONLY, RESULT_READONLY, SCORE = (AGS + "lineitem", AGS + "lineitem.readonly",
                                                       AGS + "result.readonly", AGS + "score")
AGS_SCOPES = (LINEITEM, LINEITEM_READONLY, RESULT_READONLY, SCORE)
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
GRANTED_SCOPES = frozenset(AGS_SCOPES + (NRPS_SCOPE,))
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLOCK_LEEWAY = 60
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def tool_base() -> str:
    return current_app.config["TOOL_BASE_URL"]


def issuer() -> str:
    return tool_base() + "/practice"


def token_url() -> str:
    return issuer() + "/token"


class TokenError(Exception):
    """An OAuth2 error answer (RFC 6749 §5.2), as Canvas gives it: 400, or 401 for ``invalid_client``."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description
        self.status = 401 if error == "invalid_client" else 400


class FlaskRequestAdapter(PlatformRequest):
    """lti1p3platform ships Django and FastAPI adapters only."""

    def build_metadata(self, request: Any):
        return {"method": request.method, "form_data": request.form.to_dict(), "get_data": request.args.to_dict(),
                "headers": request.headers, "content_type": request.content_type, "path": request.path,
                "json": request.get_json(force=True, silent=True)}


class PracticeConf(LTI1P3PlatformConfAbstract):
    """One per request: the package keeps per-call JWT state on the instance."""

    def init_platform_config(self, **kwargs: Any) -> None:
        key = keyring.current(current_app)
        tool = tool_base()
        self._registration = (
            PlatformRegistration().set_iss(issuer()).set_client_id(CLIENT_ID).set_deployment_id(DEPLOYMENT_ID)
            .set_oidc_login_url(f"{tool}/lti/login").set_launch_url(f"{tool}/lti/launch")
            .set_deeplink_launch_url(f"{tool}/lti/launch").set_tool_key_set_url(f"{tool}/lti/jwks")
            .set_platform_private_key(key.private_pem).set_platform_public_key(key.public_pem))

    def get_registration_by_params(self, **kwargs: Any) -> PlatformRegistration:
        return self._registration

    def get_jwks(self):
        return keyring.jwks(current_app)

    # --- the tool's keys ---------------------------------------------------------------------------

    def fetch_public_key(self, key_set_url: str):
        """The tool's JWKS over HTTPS (the development certificate is trusted, see ``lti_tool.http``)."""
        data = store()
        with data.lock:
            data.tool_jwks_fetches += 1
        try:
            response = http.session().get(key_set_url)
            response.raise_for_status()
            key_set = response.json()
        except (requests.RequestException, ValueError) as error:
            raise LtiException(f"Fetching the tool's key set {key_set_url} failed: {type(error).__name__}") from error
        if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
            raise LtiException(f"The tool's key set at {key_set_url} is not a JWKS")
        return key_set

    def get_tool_key_set(self):
        data = store()
        if data.tool_jwks is None:
            data.tool_jwks = self.fetch_public_key(self._registration.get_tool_key_set_url())
        return data.tool_jwks

    def get_tool_public_key(self) -> bytes:
        try:
            return super().get_tool_public_key()
        except LtiException as error:
            if str(error) != "Unable to find public key":
                raise
        store().tool_jwks = None  # an unknown kid: the tool may have rotated its key; fetch once more
        return super().get_tool_public_key()

    # --- access tokens -----------------------------------------------------------------------------

    def validate_token(self, token: str, allowed_scopes: list[str] | None = None, audience: str | None = None) -> bool:
        """The package's check (issuer, expiry, any of ``allowed_scopes``) against each published key."""
        current = self._registration.get_platform_public_key()
        try:
            for key in keyring.published(current_app):
                self._registration.set_platform_public_key(key.public_pem)
                try:
                    return super().validate_token(token, allowed_scopes, audience)
                except jwt.InvalidSignatureError:
                    continue
            raise LtiException("The access token was not signed by this platform")
        finally:
            self._registration.set_platform_public_key(current)

    def issue_token(self, form: dict[str, str]):
        """The client_credentials grant with the tool's JWT client assertion (1EdTech Security Framework)."""
        for name in ("grant_type", "client_assertion_type", "client_assertion", "scope"):
            if not form.get(name):
                raise TokenError("invalid_request", f"{name} is required")
        if form["client_assertion_type"] != ASSERTION_TYPE:
            raise TokenError("invalid_client", f"client_assertion_type must be {ASSERTION_TYPE}")
        if form["grant_type"] != "client_credentials":
            raise TokenError("unsupported_grant_type", "The grant_type you requested is not currently supported")
        try:
            claims = self.tool_validate_and_decode(form["client_assertion"])
        except (LtiException, jwt.PyJWTError) as error:
            raise TokenError("invalid_request", f"The client assertion was refused: {error}") from error
        problems = _assertion_problems(claims)
        if problems:
            raise TokenError("invalid_request", "The client assertion was refused: " + "; ".join(problems))
        requested = form["scope"].split()
        refused = [s for s in requested if s not in GRANTED_SCOPES]
        if refused:
            raise TokenError("invalid_scope", "These scopes are not granted to this tool: " + ", ".join(refused))
        if not store().first_use("jti", str(claims["jti"])):
            raise TokenError("invalid_request", "This client assertion (jti) was already used")
        try:
            return self.get_access_token(form)
        except (MissingRequiredClaim, UnsupportedGrantType, LtiException, jwt.PyJWTError) as error:
            raise TokenError("invalid_request", str(error) or type(error).__name__) from error

    # --- deep linking ------------------------------------------------------------------------------

    def validate_deep_link_response(self, token: str) -> tuple[list[dict], dict]:
        """The content items and claims of a deep-linking response, or a ``BadRequest`` naming what is wrong."""
        if not token:
            raise BadRequest("The tool sent no deep-linking response.", hint="The form must carry a 'JWT' field.")
        try:
            self.set_accepted_deeplinking_types(["ltiResourceLink"])
            items = self.validate_deeplinking_resp({"JWT": token})
            claims = self.tool_validate_and_decode(token)
        except (LtiException, LtiDeepLinkingResponseException, InvalidKeySetUrl, jwt.PyJWTError, KeyError,
                TypeError) as error:
            raise BadRequest("The tool's deep-linking response was refused.",
                             hint=f"{type(error).__name__}: {error}") from error
        audience = claims.get("aud")
        checks = [
            (issuer() in (audience if isinstance(audience, list) else [audience]), f"aud must name {issuer()}"),
            (claims.get("iss") == CLIENT_ID, f"iss must be the client_id {CLIENT_ID}"),
            (claims.get(CLAIM + "deployment_id") == DEPLOYMENT_ID, f"deployment_id must be {DEPLOYMENT_ID}"),
            (claims.get(CLAIM + "version") == "1.3.0", "version must be 1.3.0"),
            (bool(claims.get("nonce")), "nonce is required"),
            (isinstance(claims.get("exp"), (int, float)), "exp is required"),
        ]
        problems = [message for ok, message in checks if not ok]
        if problems:
            raise BadRequest("The tool's deep-linking response names another platform, deployment or request.",
                             hint="; ".join(problems) + ".")
        return items, claims


def _assertion_problems(claims: dict[str, Any]) -> list[str]:
    audience = claims.get("aud")
    now = time.time()
    checks = [
        (claims.get("iss") == CLIENT_ID and claims.get("sub") == CLIENT_ID, f"iss and sub must be {CLIENT_ID}"),
        (token_url() in (audience if isinstance(audience, list) else [audience]), f"aud must be {token_url()}"),
        (isinstance(claims.get("exp"), (int, float)), "exp is required"),
        (isinstance(claims.get("iat"), (int, float)) and claims["iat"] <= now + CLOCK_LEEWAY,
         "iat must be in the past"),
        (bool(claims.get("jti")), "jti is required"),
    ]
    return [message for ok, message in checks if not ok]

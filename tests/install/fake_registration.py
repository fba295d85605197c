"""A fake of Canvas's LTI Dynamic Registration, built on the services fake (``tests/services/fake_canvas.py``)
so that a key it creates then issues access tokens the way Canvas does.

It keeps the rules Canvas keeps (read from canvas-lms: ``SecurityController#openid_configuration``,
``Lti::IMS::DynamicRegistrationController#create``, ``Schemas::Lti::IMS::OidcRegistration`` and
``LtiToolConfiguration``, ``Lti::IMS::Registration``, ``Lti::ResourcePlacement``), so a tool that registers
here has met them:

- a registration token lives one hour. The OpenID configuration URL Canvas hands the tool carries the token as
  its ``registration_token`` query parameter, and that parameter is what Canvas reads there (401 without it,
  401 for a bad or expired one). The issuer is not the host of every endpoint: the registration endpoint is on
  the account's own domain (``localhost`` here, the issuer being ``127.0.0.1``);
- the registration POST needs the token as a bearer (401 otherwise) and a body that passes Canvas's schema
  (422 ``{"errors": [...]}``): ``application_type`` "web"; ``grant_types`` holding client_credentials and
  implicit; ``response_types`` holding id_token; at least one redirect URI; absolute URIs where URIs go; a
  client name; ``token_endpoint_auth_method`` "private_key_jwt"; a tool configuration with a bare ``domain``
  (host and port, no scheme), ``claims``, and ``messages`` of known types whose placements that type allows,
  ``visibility`` one of admins, members, public, ``default_enabled`` a boolean; string custom parameters; a
  known privacy level. Every requested scope must be one Canvas knows (``openid`` is dropped first);
- the answer: ``client_id`` (a new developer key, holding the requested scopes), the registration echoed,
  ``scope`` = the scopes plus ``openid``, the tool configuration plus ``…/lti/registration_config_url``,
  ``registration_client_uri``, and the root-account ``deployment_id`` at the top level (Canvas with LTI
  Registrations). ``deployment_in`` moves it into the tool configuration (where the IMS spec puts it, as
  other platforms do) or leaves it out (Canvas before LTI Registrations);
- a token minted for an existing registration (Canvas's "update registration" flow) answers with that
  registration's client_id and deployment;
- the developer key issues access tokens through the services fake's token endpoint, which checks the client
  assertion against the keys served at the tool's ``jwks_uri`` (``jwks_for`` stands in for fetching it);
  ``disable_scopes`` is the administrator unticking scopes in Canvas's review step: the key loses them.

``grant`` and ``terse_scope_errors`` are not Canvas: a platform that grants less in its registration answer
(the IMS spec allows it) and one whose ``invalid_scope`` error does not name the scopes.
"""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlencode, urlsplit

import jwt
from flask import jsonify, request

from tests.services.fake_canvas import DeveloperKey, FakeCanvas

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS = "https://canvas.instructure.com/lti/"
TOKEN_LIFETIME = 3600
# TokenScopes::LTI_SCOPES (the ones a tool may request in a registration)
CANVAS_LTI_SCOPES = frozenset({
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    "https://canvas.instructure.com/lti/public_jwk/scope/update",
    "https://canvas.instructure.com/lti/account_lookup/scope/show",
    "https://canvas.instructure.com/lti-ags/progress/scope/show",
})
# Lti::ResourcePlacement::PLACEMENTS_BY_MESSAGE_TYPE
RESOURCE_LINK_PLACEMENTS = frozenset("""
    account_navigation assignment_edit assignment_group_menu assignment_index_menu assignment_menu
    assignment_selection assignment_view collaboration conference_selection course_assignments_menu
    course_home_sub_navigation course_navigation course_settings_sub_navigation discussion_topic_index_menu
    discussion_topic_menu file_index_menu file_menu global_navigation homework_submission link_selection
    migration_selection module_group_menu module_index_menu module_index_menu_modal module_menu_modal module_menu
    post_grades quiz_index_menu quiz_menu resource_selection similarity_detection student_context_card
    submission_type_selection tool_configuration user_navigation wiki_index_menu wiki_page_menu""".split())
DEEP_LINKING_PLACEMENTS = frozenset("""
    assignment_selection collaboration conference_selection course_assignments_menu editor_button
    homework_submission link_selection migration_selection module_index_menu_modal module_menu_modal
    resource_selection submission_type_selection""".split())
PLACEMENTS = {"LtiResourceLinkRequest": RESOURCE_LINK_PLACEMENTS, "LtiDeepLinkingRequest": DEEP_LINKING_PLACEMENTS}
IMS_PLACEMENT_NAMES = {"ContentArea": "link_selection", "RichTextEditor": "editor_button"}
PRIVACY_LEVELS = {"public", "name_only", "email_only", "anonymous"}
VISIBILITY = {"admins", "members", "public"}
DOMAIN = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?::\d{1,5})?$")


@dataclass
class RegistrationToken:
    expires_at: float
    existing_client_id: str | None = None


class FakeCanvasRegistration(FakeCanvas):
    def __init__(self, *, jwks_for: Callable[[str], dict[str, Any]] | None = None,
                 deployment_in: str | None = "answer", account_name: str = "Lakeside School District",
                 grant: str | None = None) -> None:
        super().__init__()
        self.jwks_for = jwks_for or (lambda url: {"keys": []})
        self.deployment_in = deployment_in  # "answer" (Canvas), "tool_configuration" (IMS spec) or None
        self.account_name = account_name
        self.grant = grant
        self.terse_scope_errors = False
        self.config_override: dict[str, Any] = {}
        self.config_body: str | None = None          # serve this text instead of the configuration
        self.config_redirect: str | None = None      # answer the configuration request with a 302 here
        self.registration_tokens: dict[str, RegistrationToken] = {}
        self.received: list[dict[str, Any]] = []      # registrations accepted
        self.refused: list[tuple[int, Any]] = []      # (status, body) of every refusal
        self.registrations: dict[str, dict[str, Any]] = {}  # client_id -> {"body", "deployment_id", "jwks_uri"}
        self.account_host = f"http://localhost:{self.server.server_port}"
        self.app.add_url_rule("/api/lti/security/openid-configuration", "openid_configuration",
                              self._openid_configuration)
        self.app.add_url_rule("/api/lti/registrations", "create_registration", self._create_registration,
                              methods=["POST"])
        self.start()

    # --- what an administrator does in Canvas ---------------------------------------------------------------

    def start_registration(self, *, existing_client_id: str | None = None, lifetime: float = TOKEN_LIFETIME
                           ) -> tuple[str, str]:
        """The admin pastes the tool's URL: Canvas mints a registration token and names the configuration URL
        (on the issuer's host, carrying the token). Returns (openid_configuration, registration_token)."""
        token = secrets.token_urlsafe(32)
        self.registration_tokens[token] = RegistrationToken(time.time() + lifetime, existing_client_id)
        return self.configuration_url(token), token

    def configuration_url(self, token: str) -> str:
        return f"{self.base_url}/api/lti/security/openid-configuration?{urlencode({'registration_token': token})}"

    def disable_scopes(self, client_id: str, *scopes: str) -> None:
        """The review step's unticked scopes (the registration overlay's disabledScopes): the key loses them."""
        self.keys[client_id].scopes -= set(scopes)

    def enable_scopes(self, client_id: str, *scopes: str) -> None:
        self.keys[client_id].scopes |= set(scopes)

    # --- the endpoints ----------------------------------------------------------------------------------

    def _valid(self, token: str | None) -> RegistrationToken | None:
        found = self.registration_tokens.get(token or "")
        return found if found is not None and found.expires_at > time.time() else None

    def _refuse(self, status: int, **body: Any):
        self.refused.append((status, body))
        return jsonify(body), status

    def _openid_configuration(self):
        # Canvas reads the token from the query string here (not the Authorization header).
        token = request.args.get("registration_token")
        if not token:
            return self._refuse(401, error="Access token missing (You must include the registration_token "
                                           "parameter).")
        if self._valid(token) is None:
            return self._refuse(401, error="Invalid or expired registration_token.")
        if self.config_redirect:
            return "", 302, {"Location": self.config_redirect}
        if self.config_body is not None:
            return self.config_body, 200, {"Content-Type": "application/json"}
        base = self.base_url
        body = {
            "issuer": base,
            "authorization_endpoint": f"{base}/api/lti/authorize_redirect",
            "registration_endpoint": f"{self.account_host}/api/lti/registrations",
            "jwks_uri": f"{base}/api/lti/security/jwks",
            "token_endpoint": self.token_url,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "scopes_supported": sorted(CANVAS_LTI_SCOPES),
            "response_types_supported": ["id_token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "picture", "email", "name", "given_name", "family_name", "locale"],
            "subject_types_supported": ["public"],
            "authorization_server": urlsplit(base).netloc,
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "canvas",
                "version": "OpenSource",
                "messages_supported": [{"type": kind, "placements": sorted(placements)}
                                       for kind, placements in PLACEMENTS.items()],
                "variables": ["Canvas.user.id", "Canvas.course.id", "Canvas.user.sisSourceId",
                              "Canvas.course.sectionIds"],
                CANVAS + "account_name": self.account_name,
                CANVAS + "account_lti_guid": "fake-account-guid:canvas-lms",
            },
        }
        body.update(self.config_override)
        return jsonify({k: v for k, v in body.items() if v is not None})

    def _create_registration(self):
        header = request.headers.get("Authorization", "")
        grant = self._valid(header[len("Bearer "):]) if header.startswith("Bearer ") else None
        if grant is None:
            return self._refuse(401, errorMessage="JWT did not include expected contents")
        body = request.get_json(silent=True)
        errors = registration_errors(body)
        if errors:
            return self._refuse(422, errors=errors)
        scopes = [s for s in (body.get("scope") or "").split() if s != "openid"]
        unknown = [s for s in scopes if s not in CANVAS_LTI_SCOPES]
        if unknown:
            return self._refuse(422, errors=[{"field": "scopes", "message": f"Invalid scopes: {', '.join(unknown)}"}])

        if grant.existing_client_id in self.registrations:  # update flow: the same key
            client_id = grant.existing_client_id
        else:
            client_id = str(10000000000000 + next(self._ids))
            self.keys[client_id] = DeveloperKey(client_id, {"keys": []}, set(scopes))
            self.registrations[client_id] = {"jwks_uri": body["jwks_uri"],
                                             "deployment_id": f"{next(self._ids)}:{secrets.token_hex(20)}"}
        registration = self.registrations[client_id]
        registration["body"] = body
        self.received.append(body)
        tool = dict(body[TOOL_CONFIGURATION],
                    **{CANVAS + "registration_config_url": f"{self.account_host}/api/lti/registrations/1/view"})
        answer: dict[str, Any] = {
            "client_id": client_id,
            **{k: body[k] for k in ("application_type", "grant_types", "initiate_login_uri", "redirect_uris",
                                    "response_types", "client_name", "jwks_uri", "token_endpoint_auth_method")},
            "scope": self.grant if self.grant is not None else " ".join(scopes + ["openid"]),
            TOOL_CONFIGURATION: tool,
            "registration_client_uri": f"{self.account_host}/api/lti/registrations/1",
        }
        if self.deployment_in == "answer":
            answer["deployment_id"] = registration["deployment_id"]
        elif self.deployment_in == "tool_configuration":
            tool["deployment_id"] = registration["deployment_id"]
        return jsonify(answer)

    def _token(self):
        """Canvas fetches the key's public JWK URL to check a client assertion."""
        try:
            client_id = str(jwt.decode(request.form.get("client_assertion", ""),
                                       options={"verify_signature": False}).get("sub"))
        except jwt.PyJWTError:
            client_id = ""
        if client_id in self.registrations and client_id in self.keys:
            self.keys[client_id].jwks = self.jwks_for(self.registrations[client_id]["jwks_uri"])
        response = super()._token()
        if self.terse_scope_errors and isinstance(response, tuple) and response[1] == 400:
            body = response[0].get_json()
            if body.get("error") == "invalid_scope":
                return jsonify(error="invalid_scope", error_description="invalid_scope"), 400
        return response


# --- Canvas's registration schema -----------------------------------------------------------------------

def _uri(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in value)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def registration_errors(body: Any) -> list[dict[str, str]]:
    """What Schemas::Lti::IMS::OidcRegistration (with LtiToolConfiguration) finds wrong with a registration."""
    if not isinstance(body, dict):
        return [{"field": "", "message": "must be a JSON object"}]
    errors: list[dict[str, str]] = []

    def fail(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    for field in ("application_type", "grant_types", "response_types", "redirect_uris", "initiate_login_uri",
                  "client_name", "jwks_uri", "token_endpoint_auth_method", TOOL_CONFIGURATION):
        if field not in body:
            fail(field, "is required")
    if errors:
        return errors
    if body["application_type"] != "web":
        fail("application_type", "must be 'web'")
    if not _strings(body["grant_types"]) or not {"client_credentials", "implicit"} <= set(body["grant_types"]):
        fail("grant_types", "must include client_credentials, implicit")
    if not _strings(body["response_types"]) or "id_token" not in body["response_types"]:
        fail("response_types", "must include id_token")
    if not isinstance(body["redirect_uris"], list) or not body["redirect_uris"] \
            or not all(_uri(uri) for uri in body["redirect_uris"]):
        fail("redirect_uris", "must be a non-empty list of URIs")
    for field in ("initiate_login_uri", "jwks_uri"):
        if not _uri(body[field]):
            fail(field, "must be a URI")
    if not isinstance(body["client_name"], str) or not body["client_name"]:
        fail("client_name", "must be a non-empty string")
    if body["token_endpoint_auth_method"] != "private_key_jwt":
        fail("token_endpoint_auth_method", "must be 'private_key_jwt'")
    if body.get("scope") is not None and not isinstance(body["scope"], str):
        fail("scope", "must be a string")
    for field in ("client_uri", "logo_uri", "tos_uri", "policy_uri"):
        if body.get(field) is not None and not _uri(body[field]):
            fail(field, "must be a URI")
    errors += _tool_configuration_errors(body[TOOL_CONFIGURATION])
    return errors


def _custom_errors(field: str, value: Any) -> list[dict[str, str]]:
    if value is None or (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
        return []
    return [{"field": field, "message": "values must be strings"}]


def _tool_configuration_errors(config: Any) -> list[dict[str, str]]:
    field = TOOL_CONFIGURATION
    if not isinstance(config, dict):
        return [{"field": field, "message": "must be an object"}]
    errors = [{"field": f"{field}.{key}", "message": "is required"}
              for key in ("domain", "messages", "claims") if key not in config]
    if errors:
        return errors
    if not isinstance(config["domain"], str) or not DOMAIN.match(config["domain"]):
        errors.append({"field": f"{field}.domain", "message": "must be a host name (and port), without a scheme"})
    if not _strings(config["claims"]):
        errors.append({"field": f"{field}.claims", "message": "must be a list of strings"})
    if config.get("target_link_uri") is not None and not isinstance(config["target_link_uri"], str):
        errors.append({"field": f"{field}.target_link_uri", "message": "must be a string"})
    if config.get(CANVAS + "privacy_level") not in PRIVACY_LEVELS | {None}:
        errors.append({"field": f"{field}.privacy_level", "message": "is not a privacy level"})
    errors += _custom_errors(f"{field}.custom_parameters", config.get("custom_parameters"))
    if not isinstance(config["messages"], list):
        return errors + [{"field": f"{field}.messages", "message": "must be a list"}]
    for index, message in enumerate(config["messages"]):
        errors += _message_errors(f"{field}.messages[{index}]", message)
    return errors


def _message_errors(field: str, message: Any) -> list[dict[str, str]]:
    if not isinstance(message, dict) or message.get("type") not in PLACEMENTS:
        return [{"field": f"{field}.type", "message": "must be LtiResourceLinkRequest or LtiDeepLinkingRequest"}]
    errors: list[dict[str, str]] = []
    allowed = PLACEMENTS[message["type"]]
    placements = message.get("placements", [])
    if not _strings(placements):
        errors.append({"field": f"{field}.placements", "message": "must be a list of strings"})
    else:
        for placement in placements:
            name = IMS_PLACEMENT_NAMES.get(placement, placement.removeprefix(CANVAS))
            if name not in allowed:
                errors.append({"field": f"{field}.placements", "message": f"{placement} is not a placement "
                                                                         f"for {message['type']}"})
    for key in ("target_link_uri", "icon_uri"):
        if message.get(key) is not None and not _uri(message[key]):
            errors.append({"field": f"{field}.{key}", "message": "must be a URI"})
    if CANVAS + "course_navigation/default_enabled" in message \
            and not isinstance(message[CANVAS + "course_navigation/default_enabled"], bool):
        errors.append({"field": f"{field}.default_enabled", "message": "must be a boolean"})
    if message.get(CANVAS + "visibility") not in VISIBILITY | {None}:
        errors.append({"field": f"{field}.visibility", "message": "must be admins, members or public"})
    return errors + _custom_errors(f"{field}.custom_parameters", message.get("custom_parameters"))

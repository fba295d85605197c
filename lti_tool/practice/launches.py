"""Launches from the practice LMS: third-party login initiation, the OIDC authorization answer, the claims.

The platform's ``lti_message_hint`` is signed (as Canvas's is a signed JWT): it names the persona, the kind of
launch and the placed link, so ``/practice/auth`` trusts only what the platform itself started, and the
``login_hint`` the tool echoes must name the same person. The deep-linking request's ``data`` is signed
too, and must come back unchanged in the tool's response.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeTimedSerializer
from lti1p3platform.exceptions import PreflightRequestValidationException
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract

from lti_tool.errors import BadRequest
from lti_tool.practice import personas as people
from lti_tool.practice.platform import AGS_SCOPES, CLAIM, DEPLOYMENT_ID, PracticeConf, issuer
from lti_tool.practice.store import store

STORAGE_TARGET = "post_message_forwarding"  # the frame name Canvas offers for Platform Storage
HINT_MAX_AGE = 600
DATA_MAX_AGE = 3600
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
KINDS = ("resource_link", "deep_link")


@dataclass(frozen=True)
class MessageHint:
    persona: people.Persona
    kind: str
    link: str | None


def _signer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=salt)


def read_hint(value: str | None) -> MessageHint:
    try:
        data = _signer("practice-message-hint").loads(value or "", max_age=HINT_MAX_AGE)
    except BadSignature as error:
        raise BadRequest("This launch was not started by the practice LMS, or took too long.",
                         hint="lti_message_hint must be passed back unchanged from the login request "
                              f"(it expires after {HINT_MAX_AGE // 60} minutes).") from error
    persona = people.PERSONAS.get(data.get("persona", ""))
    if persona is None or data.get("kind") not in KINDS:
        raise BadRequest("This launch names no practice persona.")
    return MessageHint(persona, data["kind"], data.get("link"))


def read_deep_link_data(value: Any) -> people.Persona:
    """The persona a deep-linking request was made for, from the ``data`` the tool must echo back."""
    try:
        key = _signer("practice-deep-link-data").loads(value if isinstance(value, str) else "", max_age=DATA_MAX_AGE)
    except BadSignature as error:
        raise BadRequest("The tool's deep-linking response does not answer a request from this platform.",
                         hint="The response's data claim must echo the request's deep_linking_settings.data "
                              "unchanged (and within an hour).") from error
    return people.PERSONAS[key]


class PracticeLogin(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = _signer("practice-message-hint").dumps(kwargs)

    def get_redirect(self, url: str) -> str:
        return url


def login_url(persona: people.Persona, *, kind: str, link: str | None, storage: bool) -> str:
    """The tool's login URL with the parameters Canvas sends (``deployment_id`` besides the spec's
    ``lti_deployment_id``, and ``lti_storage_target`` where Platform Storage is offered)."""
    login = PracticeLogin(None, PracticeConf())
    if kind == "deep_link":
        login.set_deeplinking_launch_url()
    login.set_lti_message_hint(persona=persona.key, kind=kind, link=link)
    extra = {"deployment_id": DEPLOYMENT_ID, "canvas_environment": "prod", "canvas_region": "practice"}
    if storage:
        extra["lti_storage_target"] = STORAGE_TARGET
    return login.initiate_login(persona.subject) + "&" + urlencode(extra)


class PracticeLaunch(LTIAdvantageMessageLaunchAbstract):
    """The answer to the tool's authorization request: a signed id_token for the hinted persona."""

    hint: MessageHint

    def validate_preflight_response(self, preflight_response: dict[str, Any]) -> None:
        """Beyond the package's presence checks: the exact launch URL (else the id_token could be sent
        anywhere), the OIDC parameters LTI fixes, and a login_hint naming the hinted persona."""
        registration = self._registration
        expected = {"client_id": registration.get_client_id(), "redirect_uri": registration.get_launch_url(),
                    "response_type": "id_token", "response_mode": "form_post"}
        for name, value in expected.items():
            if preflight_response.get(name) != value:
                raise BadRequest("The tool's authorization request does not match its registration.",
                                 hint=f"{name} must be {value}, not {preflight_response.get(name)!r}.")
        if "openid" not in str(preflight_response.get("scope", "")).split():
            raise BadRequest("The tool's authorization request is not an OpenID Connect request.",
                             hint="scope must include openid.")
        try:
            super().validate_preflight_response(preflight_response)
        except PreflightRequestValidationException as error:
            raise BadRequest("The tool's authorization request is incomplete.",
                             hint="nonce, state, redirect_uri and client_id are required.") from error
        self.hint = read_hint(preflight_response.get("lti_message_hint"))
        if preflight_response.get("login_hint") != self.hint.persona.subject:
            raise BadRequest("The tool's authorization request names another user.",
                             hint="login_hint must be passed back unchanged from the login request.")

    def prepare_launch(self, preflight_response: dict[str, Any]) -> None:
        persona, base = self.hint.persona, issuer()
        link = store().links.get(self.hint.link or "")
        self.set_user_data(persona.subject, list(persona.roles), full_name=persona.name,
                           email_address=persona.email or None)
        self.set_launch_context_claim(people.CONTEXT_ID, context_types=[people.LIS + "course#CourseOffering"],
                                      context_title=people.COURSE_TITLE, context_label=people.COURSE_LABEL)
        custom = {"canvas_user_id": persona.canvas_user_id, "canvas_course_id": people.CANVAS_COURSE_ID,
                  "canvas_section_ids": people.CANVAS_SECTION_ID}
        self.set_custom_parameters_claim({**(link.custom if link else {}), **custom})
        self.set_launch_presentation_claim("iframe", return_url=f"{base}/course/{persona.key}")
        line_item = store().line_items.get(link.line_item_id or "") if link else None
        self.set_ags(f"{base}/ags/lineitems", line_item["id"] if line_item else None)
        # The package names three scopes; Canvas lists every AGS scope the developer key has.
        self.extra_claims[AGS_CLAIM]["scope"] = list(AGS_SCOPES)
        self.set_nrps(f"{base}/nrps/members")
        self.set_extra_claims({
            "given_name": persona.given_name, "family_name": persona.family_name, "locale": "en",
            CLAIM + "tool_platform": {"guid": "practice-lms", "name": "Microcred practice LMS",
                                      "product_family_code": "practice", "version": "1"},
            "https://www.instructure.com/placement": "link_selection" if self.hint.kind == "deep_link"
            else "course_navigation",
        })
        if self.hint.kind == "deep_link":
            data = _signer("practice-deep-link-data").dumps(persona.key)
            self.set_dl(deep_link_return_url=f"{base}/deep-link-return", title="Add a micro-credential",
                        description="Place a micro-credential in the practice course as an assignment.",
                        accept_types={"ltiResourceLink"}, extra_data=data)  # type: ignore[arg-type]
        elif link is not None:
            self.set_resource_link_claim(link.id, title=link.title)
        else:
            self.set_resource_link_claim(people.NAVIGATION_LINK_ID, title="Micro-credentials")

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> str:
        return render_template("practice/autopost.html", action=launch_data["launch_url"],
                               fields={"id_token": launch_data["id_token"], "state": launch_data["state"]})

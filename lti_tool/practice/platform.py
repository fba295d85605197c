"""The practice LMS as an LTI 1.3 platform, built on the ``lti1p3platform`` package.

lti1p3platform signs the id_token, builds the launch and deep-linking claims, validates the tool's
deep-linking response and issues access tokens; this module supplies what it leaves to the host (a Flask
request adapter, the registration, the personas) and closes its gaps: ``redirect_uri`` must be the tool's
launch URL, the AGS claim is written directly (the package drops scopes when a line item is given), and
the tool's key set is read from the database instead of fetched over the network.
"""
from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration as PlatformRegistration
from lti1p3platform.request import Request as PlatformRequest

from lti_tool import db
from lti_tool.errors import BadRequest
from lti_tool.lti import keys

CLIENT_ID = "practice-lms"
DEPLOYMENT_ID = "practice-deployment-1"
CONTEXT_ID = "practice-course-1"
COURSE_TITLE = "PD: Micro-credentials at Lakeside Elementary"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
USER = LIS + "system/person#User"
AGS_SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
              "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
              "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
              "https://purl.imsglobal.org/spec/lti-ags/scope/score"]
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


@dataclass(frozen=True)
class Persona:
    key: str
    name: str
    email: str
    roles: tuple[str, ...]
    describes: str
    canvas_user_id: str


PERSONAS = {p.key: p for p in (
    Persona("teacher", "Ana Ruiz", "ana.ruiz@lakeside.example", (LIS + "membership#Learner", USER),
            "a teacher earning micro-credentials", "1001"),
    Persona("teacher2", "Ben Okafor", "ben.okafor@lakeside.example", (LIS + "membership#Learner", USER),
            "a second teacher at the same school (a peer reviewer)", "1002"),
    Persona("school_admin", "Carmen Li", "carmen.li@lakeside.example", (LIS + "membership#Instructor", USER),
            "the principal of Lakeside Elementary (designated school admin)", "1003"),
    Persona("district_admin", "Dana Brooks", "dana.brooks@lakeside.example",
            (LIS + "institution/person#Administrator", LIS + "membership#Instructor", USER),
            "the district's professional-learning lead", "1004"),
    Persona("student_view", "Test Student", "", (LIS + "membership#Learner",
                                                 "http://purl.imsglobal.org/vocab/lti/system/person#TestUser", USER),
            "Canvas's Student View: may look, never earns", "1005"),
)}


def base_url() -> str:
    return current_app.config["TOOL_BASE_URL"]


def issuer() -> str:
    return base_url() + "/practice"


def subject(persona: Persona) -> str:
    return f"practice-{persona.key}"


def _platform_key_pem() -> str:
    """The platform's RSA key, generated once into instance/ (mode 0600)."""
    path = Path(current_app.instance_path) / "practice-platform-key.pem"
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    return path.read_text()


def _public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class FlaskRequestAdapter(PlatformRequest):
    """lti1p3platform ships Django and FastAPI adapters only."""

    def build_metadata(self, request: Any):
        return {"method": request.method, "form_data": request.form.to_dict(), "get_data": request.args.to_dict(),
                "headers": request.headers, "content_type": request.content_type, "path": request.path,
                "json": request.get_json(force=True, silent=True)}


class PracticeConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        private = _platform_key_pem()
        tool = base_url()
        self._registration = (
            PlatformRegistration().set_iss(issuer()).set_client_id(CLIENT_ID).set_deployment_id(DEPLOYMENT_ID)
            .set_oidc_login_url(f"{tool}/lti/login").set_launch_url(f"{tool}/lti/launch")
            .set_deeplink_launch_url(f"{tool}/lti/launch").set_tool_key_set_url(f"{tool}/lti/jwks")
            .set_platform_private_key(private).set_platform_public_key(_public_pem(private)))

    def get_registration_by_params(self, **kwargs: Any) -> PlatformRegistration:
        return self._registration

    def fetch_public_key(self, key_set_url: str):
        """The tool is this same app: read its published keys from the database, not over the network."""
        return keys.jwks(db.session())


class PracticeLogin(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = json.dumps(kwargs, sort_keys=True)

    def get_redirect(self, url: str) -> str:
        return url


class PracticeLaunch(LTIAdvantageMessageLaunchAbstract):
    """One launch for a persona; the message hint says whether it is a deep-linking request."""

    def validate_preflight_response(self, preflight_response: dict[str, Any]) -> None:
        super().validate_preflight_response(preflight_response)
        expected = self._registration.get_launch_url()
        if preflight_response.get("redirect_uri") != expected:
            raise BadRequest("The tool asked to return to an unregistered URL.",
                             hint=f"redirect_uri must be {expected}.")
        for name, value in (("response_type", "id_token"), ("scope", "openid"), ("response_mode", "form_post")):
            if preflight_response.get(name) != value:
                raise BadRequest(hint=f"The OIDC authorization request must have {name}={value}.")

    def prepare_launch(self, preflight_response: dict[str, Any]) -> None:
        persona = PERSONAS.get(preflight_response.get("login_hint", "").removeprefix("practice-"))
        if persona is None:
            raise BadRequest("Unknown practice persona.", hint="login_hint must name a practice persona.")
        try:
            hint = json.loads(preflight_response.get("lti_message_hint") or "{}")
        except ValueError:
            hint = {}
        self.set_user_data(subject(persona), list(persona.roles), full_name=persona.name,
                           email_address=persona.email or None)
        self.set_launch_context_claim(CONTEXT_ID, context_types=["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
                                      context_title=COURSE_TITLE, context_label="PD-MC")
        self.set_custom_parameters_claim({"canvas_user_id": persona.canvas_user_id, "canvas_course_id": "501",
                                          "canvas_section_ids": "601"})
        base = issuer()
        lineitems = f"{base}/ags/lineitems"
        ags = {"scope": AGS_SCOPES, "lineitems": lineitems}
        if hint.get("lineitem"):
            ags["lineitem"] = f"{lineitems}/{hint['lineitem']}"
        self.set_extra_claims({
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": ags,
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": f"{base}/nrps/members", "service_versions": ["2.0"]},
            "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {
                "guid": "practice-lms", "name": "Microcred practice LMS", "product_family_code": "practice"},
        })
        if hint.get("kind") == "deep_link":
            self.set_dl(deep_link_return_url=f"{base}/deep-link-return", title="Add a micro-credential",
                        description="Place a micro-credential in the practice course.",
                        accept_types={"ltiResourceLink"}, extra_data=json.dumps({"course": CONTEXT_ID}))
        else:
            self.set_resource_link_claim(hint.get("resource_link_id") or "practice-course-navigation",
                                         title="Micro-credentials")

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> str:
        return ("<!doctype html><title>Launching…</title>"
                f'<form method="post" action="{html.escape(launch_data["launch_url"])}">'
                f'<input type="hidden" name="id_token" value="{html.escape(launch_data["id_token"])}">'
                f'<input type="hidden" name="state" value="{html.escape(launch_data["state"])}">'
                '<noscript><button type="submit">Continue</button></noscript></form>'
                f'<script nonce="{kwargs["nonce"]}">document.forms[0].submit()</script>')

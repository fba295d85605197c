"""LTI Dynamic Registration, as Canvas runs it.

Canvas opens ``/lti/register?openid_configuration=…&registration_token=…`` in a dialog. The tool fetches the
platform's OpenID configuration (bearer: the registration token), posts its own registration to the
``registration_endpoint``, stores the ``client_id`` and deployment Canvas answers with, and closes the
dialog with the ``org.imsglobal.lti.close`` postMessage. Nothing is stored unless every step succeeded.

The registration URL carries an **invite** that district IT mints with ``flask --app wsgi platform
registration-url``: without it anyone holding a Canvas account (a free one will do) could register their own
Canvas into a district and launch as its administrator. The invite is signed with SECRET_KEY, names the
district, expires after seven days, and registers one platform once: its random id is recorded
(``UsedInvite``) in the transaction that stores the registration, so a refused or failed registration leaves
it usable, and of two registrations racing with one invite the primary key lets exactly one commit.

Talking to the platform goes through ``platform_http`` (checked, pinned, capped requests inside one
deadline). What the platform says is never shown raw: hints carry its status and, at most, field names it
listed.
"""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.errors import BadRequest
from lti_tool.lti import registry
from lti_tool.lti.description import CUSTOM_FIELDS, DESCRIPTION, PRIVACY_LEVEL, TITLE
from lti_tool.lti.models import Registration, UsedInvite
from lti_tool.lti.platform_http import (Answer, Limits, PlatformClient, PlatformRefused, RegistrationError,
                                        check_url, plain, shown)
from lti_tool.lti.services.scopes import TOOL_SCOPES

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS = "https://canvas.instructure.com/lti/"
INSTRUCTURE_HOSTS = ("instructure.com", "canvaslms.com")
ACCOUNT_NAME = "https://canvas.instructure.com/lti/account_name"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"


class InviteRefused(RegistrationError):
    status, code = 403, "registration_invite_refused"
    message = "This registration link is not valid. Ask your Microcred administrator for a new one."


class InviteUsed(InviteRefused):
    code = "registration_invite_used"
    message = ("This registration link has already been used; ask IT (your Microcred administrator) for a new "
               "one.")


# --- the invite -------------------------------------------------------------------------------------------

INVITE_MAX_AGE = 7 * 24 * 3600


@dataclass(frozen=True)
class Invite:
    district: str  # the district's slug
    id: str        # recorded in UsedInvite when it has registered a platform


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="microcred-dynamic-registration")


def make_invite(secret: str, district_slug: str) -> str:
    """A new signed invite for one registration into the district (each call a different one)."""
    return _serializer(secret).dumps({"district": district_slug, "id": secrets.token_urlsafe(24)})


def read_invite(secret: str, invite: str | None) -> Invite:
    """The district and id an invite carries; ``InviteRefused`` if it is missing, forged, expired or older
    than single-use invites (no id)."""
    if not invite:
        raise InviteRefused(hint="The registration URL has no 'invite': create one with "
                                 "'flask --app wsgi platform registration-url --district <slug>'.")
    try:
        data = _serializer(secret).loads(invite, max_age=INVITE_MAX_AGE)
        district, invite_id = data["district"], data.get("id")
    except SignatureExpired as error:
        raise InviteRefused(hint="The invite has expired (7 days): create a new registration URL.") from error
    except (BadSignature, KeyError, TypeError, AttributeError) as error:
        raise InviteRefused(hint="The invite was not issued by this server.") from error
    if not isinstance(district, str) or not isinstance(invite_id, str) or not 0 < len(invite_id) <= 64:
        raise InviteRefused(hint="This link was made before registration links became single-use: create a new "
                                 "registration URL ('flask --app wsgi platform registration-url').")
    return Invite(district=district, id=invite_id)


def _check_unspent(session: Session, invite: Invite) -> None:
    """Refuse a spent invite before calling the platform (``_spend`` is what makes it single-use)."""
    if session.get(UsedInvite, invite.id) is not None:
        raise InviteUsed()


def _spend(session: Session, invite: Invite) -> None:
    """Record the invite as used, in the registration's transaction: it commits with the registration or not
    at all. A concurrent registration with the same invite waits on the primary key (PostgreSQL) or the write
    lock (SQLite), then fails here; the request boundary rolls its transaction back."""
    session.add(UsedInvite(invite_id=invite.id))
    try:
        session.flush()
    except IntegrityError as error:
        raise InviteUsed() from error


def _same_platform(config_url: str, issuer: str) -> bool:
    a, b = urlsplit(config_url).hostname or "", urlsplit(issuer).hostname or ""
    instructure = lambda h: any(h == d or h.endswith("." + d) for d in INSTRUCTURE_HOSTS)  # noqa: E731
    return a == b or (instructure(a) and instructure(b))


def tool_registration(base: str, scopes: tuple[str, ...] = TOOL_SCOPES) -> dict:
    """The registration the tool posts: OpenID client metadata plus the LTI tool configuration."""
    launch = f"{base}/lti/launch"
    return {
        "application_type": "web",
        "grant_types": ["client_credentials", "implicit"],
        "response_types": ["id_token"],
        "redirect_uris": [launch],
        "initiate_login_uri": f"{base}/lti/login",
        "client_name": TITLE,
        "jwks_uri": f"{base}/lti/jwks",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(base).netloc,
            "description": DESCRIPTION,
            "target_link_uri": launch,
            "custom_parameters": CUSTOM_FIELDS,
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [
                {"type": "LtiResourceLinkRequest", "target_link_uri": launch, "label": "Micro-credentials",
                 "placements": ["course_navigation"], CANVAS + "course_navigation/default_enabled": True,
                 CANVAS + "visibility": "members"},
                {"type": "LtiDeepLinkingRequest", "target_link_uri": launch, "label": "Micro-credential",
                 "placements": ["assignment_selection", "link_selection"]},
                {"type": "LtiResourceLinkRequest", "target_link_uri": launch, "label": "Micro-credentials (district)",
                 "placements": ["account_navigation"], CANVAS + "visibility": "admins"},
            ],
            CANVAS + "privacy_level": PRIVACY_LEVEL,
            CANVAS + "tool_id": "microcred",
        },
    }


def _json(body: bytes, what: str) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:  # RecursionError: nesting deeper than the parser goes
        raise RegistrationError(hint=f"The platform's {what} is not JSON.") from error
    if not isinstance(data, dict):
        raise RegistrationError(hint=f"The platform's {what} is not a JSON object.")
    return data


_FIELD = re.compile(r"[A-Za-z0-9_.:/\[\]-]{1,100}")
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")


def _refusal(answer: Answer) -> str:
    """The hint for a refused registration: the status and, at most, the field names or OAuth error code
    the platform listed (each a plain token). Its own words, which a hostile platform would choose for the
    district's IT to read, are not shown."""
    named: list[str] = []
    try:
        data = json.loads(answer.body)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        errors = data.get("errors")
        for error in errors[:5] if isinstance(errors, list) else ():
            field = error.get("field") if isinstance(error, dict) else None
            if isinstance(field, str) and _FIELD.fullmatch(field) and field not in named:
                named.append(field)
        code = data.get("error")
        if isinstance(code, str) and _ERROR_CODE.fullmatch(code):
            named.append(f"error {code}")
    said = f"; it named: {', '.join(named)}" if named else ""
    return f"The platform refused the registration ({answer.status}){said}."


def _identifier(label: str, value: object, *, required: bool = True) -> str | None:
    """A client_id or deployment_id as the platform sent it, if it is one Microcred can store and show."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RegistrationError(hint=f"The platform's answer carries no {label}.")
        return None
    if not isinstance(value, str) or len(value.strip()) > 255 or not value.strip().isprintable():
        raise RegistrationError(hint=f"The platform's {label} is not usable (a string of at most 255 printable "
                                     "characters).")
    return value.strip()


def register(session: Session, http: requests.Session, *, config_url: str, token: str, base: str,
             invite: str | None, secret: str, production: bool, limits: Limits = Limits()) -> Registration:
    """Register with the platform and store the registration; spends the invite only when it is stored."""
    if not config_url or not token:
        raise BadRequest("Open this page from Canvas: Admin → Developer Keys → + Developer Key → + LTI Registration.",
                         hint="The registration URL needs 'openid_configuration' and 'registration_token'.")
    granted = read_invite(secret, invite)  # before any outbound call
    district = registry.resolve_district(session, granted.district)
    _check_unspent(session, granted)
    bearer = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with PlatformClient(http, production=production, limits=limits) as platform:
        answer = platform.get("configuration", config_url, url_label="OpenID configuration URL", headers=bearer)
        if not answer.ok:
            raise PlatformRefused(hint=f"The platform answered {answer.status} to the configuration request "
                                       "(the registration token may have expired: start again from Canvas).")
        config = _json(answer.body, "OpenID configuration")
        issuer = check_url("issuer", config.get("issuer"), production=production)
        if not _same_platform(config_url, issuer):
            raise RegistrationError(hint=f"The configuration at {shown(config_url)} names another platform "
                                         f"({shown(issuer)}).")
        endpoints = registry.PlatformEndpoints(
            issuer=issuer,
            auth_login_url=check_url("authorization_endpoint", config.get("authorization_endpoint"),
                                     production=production),
            auth_token_url=check_url("token_endpoint", config.get("token_endpoint"), production=production),
            key_set_url=check_url("jwks_uri", config.get("jwks_uri"), production=production),
        )
        answer = platform.post("registration answer", config.get("registration_endpoint"),  # type: ignore[arg-type]
                               url_label="registration_endpoint", headers=bearer, json_body=tool_registration(base))
        if not answer.ok:
            raise PlatformRefused(hint=_refusal(answer))
        result = _json(answer.body, "registration answer")
    client_id = _identifier("client_id", result.get("client_id"))
    # Canvas answers its root-account deployment at the top level; the IMS spec puts it in the tool configuration.
    configuration = result.get(TOOL_CONFIGURATION)
    deployment_id = result.get("deployment_id")
    if not (isinstance(deployment_id, str) and deployment_id.strip()):
        deployment_id = configuration.get("deployment_id") if isinstance(configuration, dict) else None
    deployment_id = _identifier("deployment_id", deployment_id, required=False)
    granted_scopes = result.get("scope")
    # Only what Microcred asked for is recorded ("openid" and anything else a platform adds are not its to use).
    scopes = [s for s in TOOL_SCOPES if s in granted_scopes.split()] if isinstance(granted_scopes, str) \
        else list(TOOL_SCOPES)
    # Every hosted Canvas shares one issuer: the account's name tells registrations apart.
    platform_configuration = config.get(PLATFORM_CONFIGURATION)
    account = platform_configuration.get(ACCOUNT_NAME) if isinstance(platform_configuration, dict) else None
    name = (plain(account, 200) if isinstance(account, str) else "") or plain(issuer, 200)
    registration = registry.add_platform(session, district=district, name=name, endpoints=endpoints,
                                         client_id=client_id, deployment_ids=[deployment_id] if deployment_id else [],
                                         scopes=scopes, production=production)
    _spend(session, granted)
    return registration

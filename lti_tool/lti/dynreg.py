"""LTI Dynamic Registration, as Canvas runs it.

Canvas opens ``/lti/register?openid_configuration=…&registration_token=…`` in a dialog. The tool fetches the
platform's OpenID configuration (bearer: the registration token), posts its own registration to the
``registration_endpoint``, stores the ``client_id`` and deployment Canvas answers with, and closes the
dialog with the ``org.imsglobal.lti.close`` postMessage. Nothing is stored unless every step succeeded.

The registration URL carries an **invite** that district IT mints with ``flask --app wsgi platform
registration-url``: without it anyone holding a Canvas account (a free one will do) could register their own
Canvas into a district and launch as its administrator. The invite is signed with SECRET_KEY, names the
district, and expires after seven days.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import requests
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from lti_tool.errors import BadRequest, MicrocredError
from lti_tool.lti import registry
from lti_tool.lti.install import CUSTOM_FIELDS, DESCRIPTION, PRIVACY_LEVEL, TITLE
from lti_tool.lti.cli import TOOL_SCOPES
from lti_tool.lti.models import Registration

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS = "https://canvas.instructure.com/lti/"
INSTRUCTURE_HOSTS = ("instructure.com", "canvaslms.com")


class RegistrationError(MicrocredError):
    status, code = 400, "registration_failed"
    message = "Microcred could not finish registering with your LMS. Nothing was saved."


class PlatformRefused(RegistrationError):
    """The platform answered but said no (an expired registration token, a registration it would not accept):
    something the installer fixes, hence a 4xx, not the 502 of a broken platform."""

    status, code = 400, "registration_refused"
    message = "Your LMS did not accept Microcred's registration. Nothing was saved."


ACCOUNT_NAME = "https://canvas.instructure.com/lti/account_name"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"


class InviteRefused(RegistrationError):
    status, code = 403, "registration_invite_refused"
    message = "This registration link is not valid. Ask your Microcred administrator for a new one."


INVITE_MAX_AGE = 7 * 24 * 3600


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="microcred-dynamic-registration")


def make_invite(secret: str, district_slug: str) -> str:
    return _serializer(secret).dumps({"district": district_slug})


def read_invite(secret: str, invite: str | None) -> str:
    """The district slug an invite names; ``InviteRefused`` if it is missing, forged or expired."""
    if not invite:
        raise InviteRefused(hint="The registration URL has no 'invite': create one with "
                                 "'flask --app wsgi platform registration-url --district <slug>'.")
    try:
        return _serializer(secret).loads(invite, max_age=INVITE_MAX_AGE)["district"]
    except SignatureExpired as error:
        raise InviteRefused(hint="The invite has expired (7 days): create a new registration URL.") from error
    except (BadSignature, KeyError, TypeError) as error:
        raise InviteRefused(hint="The invite was not issued by this server.") from error


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check_url(label: str, url: object, *, production: bool) -> str:
    """An https URL whose host is public (in production); loopback http is allowed outside production."""
    if not isinstance(url, str) or not url:
        raise RegistrationError(hint=f"The platform's {label} is missing.")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https" and not (not production and parts.scheme == "http" and _loopback(host)):
        raise RegistrationError(hint=f"The platform's {label} must use https: {url}")
    if production:
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 443)}
        except OSError as error:
            raise RegistrationError(hint=f"The host of the platform's {label} ({host}) does not resolve.") from error
        for address in addresses:
            ip = ipaddress.ip_address(address)
            if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
                raise RegistrationError(hint=f"The platform's {label} points to a private address ({host}).")
    return url


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


def _json(response: requests.Response, what: str) -> dict:
    try:
        data = response.json()
    except ValueError as error:
        raise RegistrationError(hint=f"The platform's {what} is not JSON.") from error
    if not isinstance(data, dict):
        raise RegistrationError(hint=f"The platform's {what} is not a JSON object.")
    return data


def register(session: Session, http: requests.Session, *, config_url: str, token: str, base: str,
             invite: str | None, secret: str, production: bool) -> Registration:
    if not config_url or not token:
        raise BadRequest("Open this page from Canvas: Admin → Developer Keys → + Developer Key → + LTI Registration.",
                         hint="The registration URL needs 'openid_configuration' and 'registration_token'.")
    district = registry.resolve_district(session, read_invite(secret, invite))  # before any outbound call
    check_url("OpenID configuration URL", config_url, production=production)

    def check_redirect(response: requests.Response, *args, **kwargs) -> requests.Response:
        """A redirect's target passes the same check as the URLs the platform gave, before it is followed."""
        if response.is_redirect:
            check_url("redirect target", urljoin(response.url, response.headers.get("Location", "")),
                      production=production)
        return response

    http.hooks["response"].append(check_redirect)
    try:
        response = http.get(config_url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    except requests.RequestException as error:
        raise RegistrationError(hint=f"The platform's configuration could not be fetched: {type(error).__name__}.") from error
    if not response.ok:
        raise PlatformRefused(hint=f"The platform answered {response.status_code} to the configuration request "
                                   "(the registration token may have expired: start again from Canvas).")
    config = _json(response, "OpenID configuration")
    issuer = check_url("issuer", config.get("issuer"), production=production)
    if not _same_platform(config_url, issuer):
        raise RegistrationError(hint=f"The configuration at {config_url} names another platform ({issuer}).")
    endpoints = registry.PlatformEndpoints(
        issuer=issuer,
        auth_login_url=check_url("authorization_endpoint", config.get("authorization_endpoint"), production=production),
        auth_token_url=check_url("token_endpoint", config.get("token_endpoint"), production=production),
        key_set_url=check_url("jwks_uri", config.get("jwks_uri"), production=production),
    )
    registration_endpoint = check_url("registration_endpoint", config.get("registration_endpoint"),
                                      production=production)
    try:
        answer = http.post(registration_endpoint, json=tool_registration(base),
                           headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    except requests.RequestException as error:
        raise RegistrationError(hint=f"The registration could not be sent: {type(error).__name__}.") from error
    if not answer.ok:
        raise PlatformRefused(hint=f"The platform refused the registration ({answer.status_code}): "
                                   f"{answer.text[:200]}")
    result = _json(answer, "registration answer")
    client_id = result.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise RegistrationError(hint="The platform's answer carries no client_id.")
    # Canvas answers its root-account deployment at the top level; the IMS spec puts it in the tool configuration.
    configuration = result.get(TOOL_CONFIGURATION) or {}
    deployment_id = result.get("deployment_id")
    if not (isinstance(deployment_id, str) and deployment_id.strip()):
        deployment_id = configuration.get("deployment_id") if isinstance(configuration, dict) else None
    granted = result.get("scope")
    scopes = [s for s in granted.split() if s != "openid"] if isinstance(granted, str) else list(TOOL_SCOPES)
    # Every hosted Canvas shares one issuer: the account's name tells registrations apart.
    platform = config.get(PLATFORM_CONFIGURATION)
    account = platform.get(ACCOUNT_NAME) if isinstance(platform, dict) else None
    name = account.strip()[:200] if isinstance(account, str) and account.strip() else (config.get("issuer") or "Canvas")
    return registry.add_platform(session, district=district, name=name,
                                 endpoints=endpoints, client_id=client_id,
                                 deployment_ids=[deployment_id] if isinstance(deployment_id, str) and deployment_id else [],
                                 scopes=scopes)

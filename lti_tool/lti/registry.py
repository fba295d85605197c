"""Platform registrations and their deployments: add, list, remove; lookups for launches.

Deployment ids are matched exactly, never as substrings. Every registration belongs to one district.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lti_tool import audit
from lti_tool.errors import BadRequest, Conflict, NotFound
from lti_tool.lti.models import Deployment, Registration
from lti_tool.people.models import District
from lti_tool.people.service import ensure_district


@dataclass(frozen=True)
class PlatformEndpoints:
    issuer: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str


def _canvas(env: str) -> PlatformEndpoints:
    sub = "" if env == "production" else f"{env}."
    return PlatformEndpoints(
        issuer=f"https://canvas.{sub}instructure.com",
        auth_login_url=f"https://sso.{sub}canvaslms.com/api/lti/authorize_redirect",
        auth_token_url=f"https://sso.{sub}canvaslms.com/login/oauth2/token",
        key_set_url=f"https://sso.{sub}canvaslms.com/api/lti/security/jwks",
    )


CANVAS = {env: _canvas(env) for env in ("production", "beta", "test")}


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# host[:port] or [IPv6][:port], nothing else: urlsplit reads "http://[::1].evil.example" as host ::1.
NETLOC = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[^\[\]@:/?#\s]+)(?::\d{1,5})?")
# The widths of the columns they are stored in.
MAX_URL_LENGTH, MAX_ISSUER_LENGTH, MAX_ID_LENGTH, MAX_NAME_LENGTH = 500, 255, 255, 200


def _production() -> bool:
    """Whether the running app is in production; without an app, assume it is (the strict rules)."""
    from flask import current_app, has_app_context

    return not has_app_context() or current_app.config.get("ENV") == "production"


def _require_https(label: str, url: str, *, production: bool) -> None:
    """An https URL with a host and no user name or password; plain http only to exactly localhost,
    127.0.0.1 or ::1, and never in production. Parsed, so ``http://localhost.evil.example`` and
    ``http://localhost@evil.example`` are what they are: other hosts."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        host = None
    if host and NETLOC.fullmatch(parts.netloc) and (
            parts.scheme == "https" or (parts.scheme == "http" and not production and host in LOOPBACK_HOSTS)):
        return
    allowed = "an https:// URL" if production else "an https:// URL (or http:// to localhost)"
    raise BadRequest(f"{label} must be {allowed} with a host and no user name or password, not {url!r}.")


def _require_length(label: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise BadRequest(f"{label} is too long ({len(value)} characters; at most {limit}).")


def resolve_district(session: Session, slug: str | None) -> District:
    """The named district; with no name, the only district, or a new 'default' one on an empty server."""
    if slug:
        district = session.scalar(select(District).where(District.slug == slug))
        if district is None:
            raise NotFound(f"No district with slug {slug!r}. Districts: "
                           + (", ".join(session.scalars(select(District.slug))) or "(none)"))
        return district
    districts = list(session.scalars(select(District).limit(2)))
    if len(districts) == 1:
        return districts[0]
    if not districts:
        return ensure_district(session, slug="default", name="Default district")
    raise BadRequest("This server has several districts: name one with --district.")


def add_platform(session: Session, *, district: District, name: str, endpoints: PlatformEndpoints, client_id: str,
                 deployment_ids: list[str] | tuple[str, ...] = (), scopes: list[str] | None = None,
                 production: bool | None = None) -> Registration:
    """Register a platform in a district (audited). ``production`` decides whether loopback http endpoints are
    allowed; by default the running app's environment (no app: production)."""
    production = _production() if production is None else production
    for label, url in (("issuer", endpoints.issuer), ("auth login URL", endpoints.auth_login_url),
                       ("auth token URL", endpoints.auth_token_url), ("key set URL", endpoints.key_set_url)):
        _require_https(label, url, production=production)
        _require_length(label, url, MAX_ISSUER_LENGTH if label == "issuer" else MAX_URL_LENGTH)
    if not client_id.strip():
        raise BadRequest("client_id is required.")
    _require_length("client_id", client_id.strip(), MAX_ID_LENGTH)
    _require_length("name", name, MAX_NAME_LENGTH)
    if find_registration(session, endpoints.issuer, client_id) is not None:
        raise Conflict(f"A platform with issuer {endpoints.issuer} and client_id {client_id} is already registered.",
                       hint="Use 'platform add-deployment' to add a deployment to it.")
    registration = Registration(
        district_id=district.id, name=name, issuer=endpoints.issuer, client_id=client_id.strip(),
        auth_login_url=endpoints.auth_login_url, auth_token_url=endpoints.auth_token_url,
        key_set_url=endpoints.key_set_url, scopes=scopes,
    )
    session.add(registration)
    session.flush()
    audit.record(session, action="platform.registered", subject_type="lti_registration", subject_id=registration.id,
                 district_id=district.id, after={"issuer": registration.issuer, "client_id": registration.client_id})
    for deployment_id in deployment_ids:
        add_deployment(session, registration, deployment_id)
    _platforms_changed()
    return registration


def add_deployment(session: Session, registration: Registration, deployment_id: str) -> Deployment:
    deployment_id = deployment_id.strip()
    if not deployment_id:
        raise BadRequest("deployment_id is required.")
    _require_length("deployment_id", deployment_id, MAX_ID_LENGTH)
    existing = find_deployment(session, registration, deployment_id)
    if existing is not None:
        return existing
    deployment = Deployment(registration_id=registration.id, deployment_id=deployment_id)
    session.add(deployment)
    session.flush()
    audit.record(session, action="platform.deployment_added", subject_type="lti_registration",
                 subject_id=registration.id, district_id=registration.district_id,
                 after={"deployment_id": deployment_id})
    return deployment


def remove_platform(session: Session, registration: Registration) -> None:
    audit.record(session, action="platform.removed", subject_type="lti_registration", subject_id=registration.id,
                 district_id=registration.district_id,
                 before={"issuer": registration.issuer, "client_id": registration.client_id})
    session.delete(registration)
    session.flush()
    _platforms_changed()


def _platforms_changed() -> None:
    """Who may frame the tool follows the registered platforms (security.frame_ancestors caches it)."""
    from flask import current_app, has_app_context

    from lti_tool.security import forget_frame_ancestors

    if has_app_context():
        forget_frame_ancestors(current_app)


def find_registration(session: Session, issuer: str, client_id: str | None) -> Registration | None:
    query = select(Registration).where(Registration.issuer == issuer)
    if client_id is None:
        found = list(session.scalars(query.limit(2)))
        return found[0] if len(found) == 1 else None
    return session.scalar(query.where(Registration.client_id == client_id))


def registrations_for_issuer(session: Session, issuer: str) -> int:
    return len(list(session.scalars(select(Registration.id).where(Registration.issuer == issuer))))


def find_deployment(session: Session, registration: Registration, deployment_id: str) -> Deployment | None:
    return session.scalar(select(Deployment).where(Deployment.registration_id == registration.id,
                                                   Deployment.deployment_id == deployment_id))


def get_registration(session: Session, registration_id: int) -> Registration:
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise NotFound(f"No platform registration {registration_id}.")
    return registration


def list_platforms(session: Session, district_id: int | None = None) -> list[Registration]:
    query = select(Registration).options(selectinload(Registration.deployments)).order_by(Registration.id)
    if district_id is not None:
        query = query.where(Registration.district_id == district_id)
    return list(session.scalars(query))

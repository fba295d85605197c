"""OAuth2 access tokens for a platform's services (1EdTech Security Framework: client_credentials grant
with a JWT client assertion), cached in ``lti_access_token`` for every worker and process.

- The assertion is signed RS256 with the tool's current key (``kid`` in the header); ``iss`` and ``sub`` are
  the client_id, ``aud`` the registration's token URL (Canvas accepts its token URL, on its own host or on
  the universal grant host), ``exp`` five minutes on, ``jti`` fresh each time.
- Scopes are sent sorted and space-separated; the cache key is the SHA-256 (hex) of exactly that string, so
  the same set of scopes always finds the same row, whatever order a caller lists them in.
- A token is used until ``EARLY_REFRESH`` before the platform's ``expires_in`` runs out (Canvas: one hour),
  so a call never starts with a token about to die in flight. ``expires_at`` stores that earlier moment.
- Two workers that miss the cache at once both fetch a token; the second write is an upsert on the unique
  (registration_id, scope_key), so neither fails and the last token wins (both tokens stay valid at the
  platform). On PostgreSQL the second upsert waits until the first worker's transaction ends: callers
  should keep units of work short (one outbox job each).

Functions take the caller's session, flush (or execute) and never commit.
"""
from __future__ import annotations

import hashlib
import time
import uuid
from datetime import datetime, timedelta
from typing import Iterable

import jwt
import requests
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti import keys
from lti_tool.lti.models import AccessToken, Registration
from lti_tool.lti.services import errors

GRANT_TYPE = "client_credentials"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 300
CLOCK_SKEW = 5             # iat this many seconds back, for a platform whose clock runs a little behind ours
EARLY_REFRESH = timedelta(seconds=60)
DEFAULT_EXPIRES_IN = 3600  # when a platform leaves expires_in out (Canvas always sends it)


def scope_string(scopes: Iterable[str]) -> str:
    return " ".join(sorted(set(scopes)))


def scope_key(scopes: Iterable[str]) -> str:
    return hashlib.sha256(scope_string(scopes).encode()).hexdigest()


def client_assertion(session: Session, registration: Registration) -> str:
    key = keys.current_key(session)
    now = int(time.time())
    claims = {
        "iss": registration.client_id,
        "sub": registration.client_id,
        "aud": registration.auth_token_url,
        "iat": now - CLOCK_SKEW,
        "exp": now + ASSERTION_LIFETIME,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid})


def cached_token(session: Session, registration: Registration, scopes: Iterable[str]) -> str | None:
    return session.scalar(select(AccessToken.token).where(
        AccessToken.registration_id == registration.id,
        AccessToken.scope_key == scope_key(scopes),
        AccessToken.expires_at > utcnow(),
    ))


def access_token(session: Session, registration: Registration, scopes: Iterable[str],
                 http: requests.Session) -> tuple[str, bool]:
    """A usable token for these scopes and whether it came from the cache (only then is a 401 worth a retry)."""
    scopes = sorted(set(scopes))
    token = cached_token(session, registration, scopes)
    if token is not None:
        return token, True
    return fetch_token(session, registration, scopes, http), False


def fetch_token(session: Session, registration: Registration, scopes: Iterable[str],
                http: requests.Session) -> str:
    """Ask the platform for a new token and cache it."""
    scopes = sorted(set(scopes))
    form = {
        "grant_type": GRANT_TYPE,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(session, registration),
        "scope": scope_string(scopes),
    }
    platform, doing = registration.name, "issuing an access token"
    try:
        response = http.post(registration.auth_token_url, data=form, headers={"Accept": "application/json"})
    except requests.RequestException as error:
        raise errors.from_connection_error(error, platform=platform, doing=doing) from error
    if not response.ok:
        raise _token_error(response, registration, scopes)
    try:
        body = response.json()
    except ValueError:
        body = None
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token or str(body.get("token_type", "bearer")).lower() != "bearer":
        raise errors.PlatformServiceError(f"{platform} answered the token request with something other than "
                                          "a bearer token.", http_status=response.status_code)
    if isinstance(body.get("scope"), str):
        # RFC 6749 §5.1: a platform that grants less than asked says so in ``scope``.
        missing = set(scopes) - set(body["scope"].split())
        if missing:
            raise errors.ScopeNotGranted(missing, platform=platform, http_status=response.status_code)
    try:
        expires_in = int(body.get("expires_in", DEFAULT_EXPIRES_IN))
    except (TypeError, ValueError):
        expires_in = DEFAULT_EXPIRES_IN
    store_token(session, registration, scopes, token, utcnow() + timedelta(seconds=expires_in) - EARLY_REFRESH)
    return token


def _token_error(response: requests.Response, registration: Registration,
                 scopes: list[str]) -> errors.PlatformServiceError:
    try:
        code = response.json().get("error")
    except (ValueError, AttributeError):
        code = None
    if code == "invalid_scope":
        return errors.ScopeNotGranted(scopes, platform=registration.name, http_status=response.status_code,
                                      platform_message=errors.platform_message(response))
    error = errors.from_response(response, platform=registration.name, doing="issuing an access token")
    if type(error) is errors.PlatformRejected:
        # A refused assertion (400 invalid_request / 401 invalid_client) is a credentials problem.
        error = errors.PlatformAuthError(
            error.message, http_status=error.http_status, platform_message=error.platform_message,
            hint="Check the registration's client_id and token URL, and that the LMS has Microcred's current "
                 "public key (its JWKS URL, or the key pasted in the developer key).")
    return error


def store_token(session: Session, registration: Registration, scopes: Iterable[str], token: str,
                expires_at: datetime) -> None:
    """Insert or replace the cached token for (registration, scopes), safe against a concurrent writer."""
    values = {"registration_id": registration.id, "scope_key": scope_key(scopes), "token": token,
              "expires_at": expires_at}
    dialect = session.get_bind(AccessToken).dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(AccessToken).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["registration_id", "scope_key"],
            set_={"token": statement.excluded.token, "expires_at": statement.excluded.expires_at})
        session.execute(statement)
        return
    try:  # other databases: a savepoint, then update the row the other writer made
        with session.begin_nested():
            session.add(AccessToken(**values))
    except IntegrityError:
        row = session.scalar(select(AccessToken).where(AccessToken.registration_id == registration.id,
                                                       AccessToken.scope_key == values["scope_key"]))
        if row is not None:
            row.token, row.expires_at = token, expires_at
            session.flush()


def forget_token(session: Session, registration: Registration, scopes: Iterable[str], token: str) -> None:
    """Drop a token the platform refused; a newer one another worker cached meanwhile is kept."""
    session.execute(delete(AccessToken).where(
        AccessToken.registration_id == registration.id,
        AccessToken.scope_key == scope_key(scopes),
        AccessToken.token == token,
    ).execution_options(synchronize_session=False))

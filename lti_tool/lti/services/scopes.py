"""The LTI Advantage scopes: what Microcred asks a platform for, what each platform granted, and the check
made before any call that needs them.

In Canvas's review step, after Microcred's registration dialog has closed, and at any time later on the
developer key, an administrator may untick scopes; the tool is not told. ``Registration.scopes`` is what the
platform granted as far as Microcred knows; ``refresh_granted_scopes`` asks the platform's token endpoint
what it grants now and records the answer (``flask --app wsgi platform scopes ID --refresh``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

import requests
from sqlalchemy.orm import Session

from lti_tool import audit
from lti_tool.lti.models import Registration
from lti_tool.lti.services.errors import ScopeNotGranted

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
LINEITEM = AGS + "lineitem"
LINEITEM_READONLY = AGS + "lineitem.readonly"
RESULT_READONLY = AGS + "result.readonly"
SCORE = AGS + "score"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
# What the tool asks for (canvas_templates/, Dynamic Registration); an admin may grant fewer.
TOOL_SCOPES = (LINEITEM, LINEITEM_READONLY, RESULT_READONLY, SCORE, NRPS)


def granted(registration: Registration, scope: str) -> bool:
    return scope in granted_scopes(registration)


def require(registration: Registration, scopes: Iterable[str]) -> None:
    missing = [scope for scope in scopes if not granted(registration, scope)]
    if missing:
        raise ScopeNotGranted(missing, platform=registration.name)


def granted_scopes(registration: Registration) -> frozenset[str]:
    """The LTI Advantage scopes Microcred may use with this platform: what it granted (Dynamic Registration's
    answer, ``platform add --scope``, or the last ``refresh_granted_scopes``). ``None`` means never learned
    (a registration added on the command line without ``--scope``): everything the tool asks for."""
    if registration.scopes is None:
        return frozenset(TOOL_SCOPES)
    return frozenset(registration.scopes) - {"openid"}


def missing_scopes(registration: Registration) -> tuple[str, ...]:
    """The scopes Microcred asks for that this platform has not granted, in the order the tool lists them."""
    granted = granted_scopes(registration)
    return tuple(scope for scope in TOOL_SCOPES if scope not in granted)


@dataclass(frozen=True)
class ScopeCheck:
    granted: frozenset[str]
    removed: frozenset[str]  # recorded as granted before, refused now
    added: frozenset[str]    # refused before, granted now


# Canvas::OAuth::InvalidScopeError: "... The following scopes were requested, but not granted: A, B, and C"
_NOT_GRANTED = re.compile(r"not granted:\s*(?P<scopes>.+)$", re.IGNORECASE | re.DOTALL)
_SENTENCE_SEPARATOR = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


def scopes_named_in(message: str | None, asked: frozenset[str]) -> frozenset[str] | None:
    """The asked-for scopes a platform's ``invalid_scope`` description names as not granted, if it names any."""
    found = _NOT_GRANTED.search(message or "")
    if not found:
        return None
    names = {part.strip().rstrip(".") for part in _SENTENCE_SEPARATOR.split(found.group("scopes").strip())}
    return frozenset(names & asked) or None


def refresh_granted_scopes(session: Session, registration: Registration,
                           http: requests.Session | None = None) -> ScopeCheck:
    """Ask the platform which of Microcred's scopes it grants now, and record the answer on the registration.

    One client-credentials token request for every scope the tool asks for. Canvas refuses a request naming
    any scope the developer key lacks (400 ``invalid_scope``) and names the missing ones in
    ``error_description``; a platform that grants less in a 200 says so in ``scope`` (RFC 6749 §5.1). When
    neither names them, each scope is asked for alone. Flushes (and audits a change), never commits.
    """
    from lti_tool.lti.services import tokens
    from lti_tool.lti.services.errors import ScopeNotGranted

    from lti_tool import http as outbound

    http = http or outbound.session()
    asked = frozenset(TOOL_SCOPES)

    def refused_alone(scope: str) -> bool:
        try:
            tokens.fetch_token(session, registration, [scope], http)
        except ScopeNotGranted:
            return True
        return False

    try:
        tokens.fetch_token(session, registration, asked, http)
        missing: frozenset[str] = frozenset()
    except ScopeNotGranted as refused:
        named = scopes_named_in(refused.platform_message, asked)
        if named is None and frozenset(refused.missing) < asked:  # a 200 that granted less says exactly what
            named = frozenset(refused.missing)
        missing = named if named is not None else frozenset(s for s in asked if refused_alone(s))
    granted = asked - missing
    before = granted_scopes(registration)
    if registration.scopes is None or set(registration.scopes) != granted:
        audit.record(session, action="platform.scopes_changed", subject_type="lti_registration",
                     subject_id=registration.id, district_id=registration.district_id,
                     before={"scopes": None if registration.scopes is None else sorted(registration.scopes)},
                     after={"scopes": sorted(granted)})
        registration.scopes = [scope for scope in TOOL_SCOPES if scope in granted]
        session.flush()
    return ScopeCheck(granted=granted, removed=before - granted, added=granted - before)

"""The LTI Advantage scopes the tool asks for, and the check made before any call that needs them."""
from __future__ import annotations

from typing import Iterable

from lti_tool.lti.models import Registration
from lti_tool.lti.services.errors import ScopeNotGranted

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
LINEITEM = AGS + "lineitem"
LINEITEM_READONLY = AGS + "lineitem.readonly"
RESULT_READONLY = AGS + "result.readonly"
SCORE = AGS + "score"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def granted(registration: Registration, scope: str) -> bool:
    """``Registration.scopes`` is what the platform granted; ``None`` means unknown (CLI-added): assume all."""
    return registration.scopes is None or scope in registration.scopes


def require(registration: Registration, scopes: Iterable[str]) -> None:
    missing = [scope for scope in scopes if not granted(registration, scope)]
    if missing:
        raise ScopeNotGranted(missing, platform=registration.name)

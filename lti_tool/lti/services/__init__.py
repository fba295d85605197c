"""The platform's services, called by the tool: AGS (line items, scores) and NRPS (rosters).

Usage (inside an app context, or pass ``http=`` a requests session)::

    client = PlatformClient(session, registration)
    item = ags.find_or_create_line_item(client, lineitems_url, resource_id="mc-42", label="...", score_maximum=1)
    ags.post_score(client, item.id, ags.Score(...))
    people = nrps.members(client, memberships_url)

Access tokens are shared by every worker through ``lti_access_token`` (``tokens``); failures are
``errors.PlatformServiceError`` subclasses, with ``retryable`` and ``retry_after`` for the outbox worker.
"""
from __future__ import annotations

from lti_tool.lti.services import ags, nrps, scopes, tokens
from lti_tool.lti.services.client import PlatformClient
from lti_tool.lti.services.errors import (PlatformAuthError, PlatformRejected, PlatformServiceError,
                                          PlatformThrottled, PlatformUnavailable, ScopeNotGranted)

__all__ = ["PlatformAuthError", "PlatformClient", "PlatformRejected", "PlatformServiceError", "PlatformThrottled",
           "PlatformUnavailable", "ScopeNotGranted", "ags", "nrps", "scopes", "tokens"]

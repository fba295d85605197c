"""What can go wrong when the tool calls a platform's services, in one small hierarchy.

Workers decide with ``error.retryable`` (and ``error.retry_after``, seconds, when the platform named a wait);
views render the ``MicrocredError`` like any other. ``platform_message`` is the platform's own words (Canvas:
``errors.message``, ``errors[].message`` or OAuth's ``error_description``), kept short and never logged with
tokens.

Canvas throttles LTI Advantage calls per developer key with a leaky bucket shared by every course: a
throttled call answers ``403`` with the plain-text body ``403 Forbidden (Rate Limit Exceeded)`` and
``X-Rate-Limit-Remaining: 0.0``; some deployments (and Canvas's newer docs) answer ``429``. Both are
``PlatformThrottled``, never a refusal: the same call succeeds once the bucket has leaked.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Iterable

import requests

from lti_tool.errors import MicrocredError

MESSAGE_LIMIT = 500
THROTTLE_MARKER = "rate limit exceeded"


class PlatformServiceError(MicrocredError):
    """A platform service call failed. Not retryable unless a subclass says so."""

    status, code = 502, "platform_service_error"
    message = "Your LMS did not accept a request from Microcred."
    retryable = False

    def __init__(self, message: str | None = None, *, hint: str | None = None, http_status: int | None = None,
                 platform_message: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, hint=hint)
        self.http_status = http_status
        self.platform_message = platform_message
        self.retry_after = retry_after


class ScopeNotGranted(PlatformServiceError):
    """The registration lacks a scope the call needs (known before any HTTP call, or refused by the token
    endpoint as ``invalid_scope``). Only an administrator can fix it: never retry."""

    status, code = 403, "scope_not_granted"
    message = "Microcred is not allowed to do this in your LMS."

    def __init__(self, missing: Iterable[str], *, platform: str, platform_message: str | None = None,
                 http_status: int | None = None) -> None:
        self.missing = tuple(sorted(missing))
        super().__init__(
            f"{platform} has not granted Microcred the permission it needs: {', '.join(self.missing)}.",
            hint="Ask the LMS administrator to enable these scopes on Microcred's developer key, then update "
                 "the registration's scopes.",
            http_status=http_status, platform_message=platform_message)


class PlatformAuthError(PlatformServiceError):
    """The platform refused the tool's credentials (token endpoint) or its access token (service, after one
    fresh token): a wrong client_id, an unpublished or rotated-away key, or a tool not deployed where asked."""

    code = "platform_auth_failed"
    message = "Your LMS refused Microcred's credentials."


class PlatformRejected(PlatformServiceError):
    """A 4xx the platform means: the request is wrong for it (Canvas: 422 for a Student View user or staff,
    400 for a timestamp older than the last score, 404 for a deleted line item). Retrying cannot help."""

    code = "platform_rejected"


class PlatformUnavailable(PlatformServiceError):
    """5xx, a timeout or no connection: try again later."""

    status, code = 503, "platform_unavailable"
    message = "Your LMS is not answering right now. Microcred will try again."
    retryable = True


class PlatformThrottled(PlatformUnavailable):
    """The platform's rate limit: wait ``retry_after`` seconds (when given), then try again."""

    code = "platform_throttled"
    message = "Your LMS asked Microcred to slow down. Microcred will try again shortly."


# --- mapping responses to errors -----------------------------------------------------------------------

def platform_message(response: requests.Response) -> str | None:
    """The platform's own explanation, from the body shapes Canvas (and OAuth) use, else the text."""
    text = (response.text or "").strip()
    if not text:
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return text[:MESSAGE_LIMIT]
    found = _message_in(body)
    return (found or text)[:MESSAGE_LIMIT]


def _message_in(body: object) -> str | None:
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        parts = [m for m in (_message_in(item) for item in body) if m]
        return "; ".join(parts) or None
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("error_description"), str):
        return body["error_description"]
    for key in ("errors", "message", "error"):
        if key in body:
            found = _message_in(body[key])
            if found:
                return found
    return None


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def is_throttled(response: requests.Response) -> bool:
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    remaining = response.headers.get("X-Rate-Limit-Remaining")
    if remaining is not None:
        try:
            if float(remaining) <= 0:
                return True
        except ValueError:
            pass
    return THROTTLE_MARKER in (response.text or "").lower()


def from_response(response: requests.Response, *, platform: str, doing: str) -> PlatformServiceError:
    """The error for a failed service response (``doing``: "posting a score", for the message)."""
    status = response.status_code
    said = platform_message(response)
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    detail = f": {said}" if said else f" (HTTP {status})"
    if is_throttled(response):
        return PlatformThrottled(f"{platform} is rate-limiting Microcred while {doing}.", http_status=status,
                                 platform_message=said, retry_after=retry_after)
    if status >= 500:
        return PlatformUnavailable(f"{platform} failed while {doing} (HTTP {status}).", http_status=status,
                                   platform_message=said, retry_after=retry_after)
    if status in (401, 403):
        return PlatformAuthError(f"{platform} refused Microcred's access while {doing}{detail}",
                                 hint="Check that Microcred is deployed in this course and that its developer key "
                                      "is on and has the needed scopes.",
                                 http_status=status, platform_message=said)
    return PlatformRejected(f"{platform} refused {doing}{detail}", http_status=status, platform_message=said)


def from_connection_error(error: requests.RequestException, *, platform: str, doing: str) -> PlatformUnavailable:
    kind = "timed out" if isinstance(error, requests.Timeout) else "could not be reached"
    return PlatformUnavailable(f"{platform} {kind} while {doing}.")

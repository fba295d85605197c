"""What the practice platform's AGS and NRPS endpoints share, written the way Canvas answers.

- Bearer tokens from ``/practice/token``. Canvas answers 401 for a missing, invalid or expired token and
  also for a token without a scope the call accepts ("Insufficient permissions"); so does this.
- Errors as Canvas's ``render_error``: ``{"errors": {"type": ..., "message": ...}}``.
- Lists are paged by ``limit`` (default 10, at most 50, as Canvas's ``per_page``) and ``page``; the next
  page is named in ``Link: <absolute URL>; rel="next"`` (quoted: some clients' parsers require it).
"""
from __future__ import annotations

from typing import Any, Sequence
from urllib.parse import urlencode

import jwt
from flask import Response, jsonify, request
from lti1p3platform.exceptions import LtiException

from lti_tool.practice.platform import PracticeConf

DEFAULT_PAGE = 10
MAX_PAGE = 50
_TYPES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 415: "unsupported_media_type",
          422: "unprocessable_entity"}


class ServiceError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message

    def response(self) -> tuple[Response, int]:
        return jsonify(errors={"type": _TYPES.get(self.status, "error"), "message": self.message}), self.status


def authorize(*any_of: str) -> None:
    """Raise a 401 ``ServiceError`` unless the request carries a valid token with one of ``any_of``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ServiceError(401, "Missing access token")
    conf = PracticeConf()
    conf.get_registration()
    try:
        allowed = conf.validate_token(token.strip(), allowed_scopes=list(any_of))
    except jwt.ExpiredSignatureError as error:
        raise ServiceError(401, "Access token expired") from error
    except (LtiException, jwt.PyJWTError) as error:
        raise ServiceError(401, "Access token invalid - signature likely incorrect") from error
    if not allowed:
        raise ServiceError(401, "Insufficient permissions")


def json_body(*media_types: str) -> dict[str, Any]:
    """The JSON object in the body; Canvas parses ``application/json`` and the ``+json`` media types."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and mimetype not in media_types:
        raise ServiceError(415, f"The body must be {' or '.join(media_types) or 'application/json'}, not "
                                f"{mimetype or 'missing'}.")
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise ServiceError(400, "The body is not a JSON object.")
    return body


def page_of(items: Sequence[Any], base_url: str) -> tuple[list[Any], dict[str, str]]:
    """One page of ``items`` per ``limit``/``page``, and the ``Link`` header naming the next page if any."""
    try:
        limit = int(request.args.get("limit") or DEFAULT_PAGE)
        page = int(request.args.get("page") or 1)
    except ValueError as error:
        raise ServiceError(400, "limit and page must be whole numbers.") from error
    limit, page = max(1, min(limit, MAX_PAGE)), max(1, page)
    chunk = list(items[(page - 1) * limit: page * limit])
    headers = {}
    if page * limit < len(items):
        query = {**request.args.to_dict(), "limit": str(limit), "page": str(page + 1)}
        headers["Link"] = f'<{base_url}?{urlencode(query)}>; rel="next"'
    return chunk, headers


def answer(body: Any, *, media_type: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.mimetype = media_type
    response.headers.update(headers or {})
    return response

"""Authenticated calls to one platform's services: scopes checked first, a cached token, one retry after a
401, platform answers turned into ``errors``, and ``Link: <...>; rel="next"`` paging.

Only for URLs the platform gave the tool (claims in a launch, ids of line items, Link headers): a next-page
link must stay on the origin of the first page, so the bearer token never travels anywhere else.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Iterable, Iterator
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from sqlalchemy.orm import Session

from lti_tool import http as outbound
from lti_tool.lti.models import Registration
from lti_tool.lti.services import errors, scopes as scope_names, tokens

log = logging.getLogger(__name__)

MAX_PAGES = 1000  # 50 per page: 50,000 members or line items, far past any course


class PlatformClient:
    """One platform registration's services, for one unit of work (a request or an outbox job)."""

    def __init__(self, session: Session, registration: Registration, http: requests.Session | None = None) -> None:
        self.session = session
        self.registration = registration
        self.http = http if http is not None else outbound.session()

    @property
    def platform(self) -> str:
        return self.registration.name

    def request(self, method: str, url: str, *, scopes: Iterable[str], accept: str, doing: str,
                body: Any = None, content_type: str | None = None) -> requests.Response:
        """Send one authorized request; return the response when it is a success, raise otherwise.

        A 401 with a cached token means the platform no longer takes that token (revoked, a key rotated,
        an expiry shorter than announced): drop it, get one new token and try exactly once more. A 401 with
        a token fetched just now is final.
        """
        scopes = sorted(set(scopes))
        scope_names.require(self.registration, scopes)
        token, cached = tokens.access_token(self.session, self.registration, scopes, self.http)
        response = self._send(method, url, token, accept=accept, body=body, content_type=content_type, doing=doing)
        if response.status_code == 401 and cached:
            log.info("platform refused a cached access token; fetching a new one",
                     extra={"registration_id": self.registration.id})
            tokens.forget_token(self.session, self.registration, scopes, token)
            token = tokens.fetch_token(self.session, self.registration, scopes, self.http)
            response = self._send(method, url, token, accept=accept, body=body, content_type=content_type,
                                  doing=doing)
        if not response.ok:
            raise errors.from_response(response, platform=self.platform, doing=doing)
        return response

    def _send(self, method: str, url: str, token: str, *, accept: str, body: Any, content_type: str | None,
              doing: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": accept}
        data = None
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
            data = json.dumps(body).encode()
        try:
            return self.http.request(method, url, headers=headers, data=data)
        except requests.RequestException as error:
            raise errors.from_connection_error(error, platform=self.platform, doing=doing) from error

    def json(self, response: requests.Response, *, doing: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise errors.PlatformServiceError(f"{self.platform} answered {doing} with something that is not JSON.",
                                              http_status=response.status_code) from None

    def pages(self, url: str, *, scopes: Iterable[str], accept: str, doing: str) -> Iterator[requests.Response]:
        """GET ``url`` and every ``rel="next"`` page after it, in order.

        Stops where a page has no next link. A next link already followed (a platform bug) ends the walk
        rather than looping; more than ``MAX_PAGES`` pages, or a next link to another origin, is an error.
        """
        origin = _origin(url)
        seen: set[str] = set()
        while url:
            if len(seen) >= MAX_PAGES:
                raise errors.PlatformServiceError(f"{self.platform} kept paging past {MAX_PAGES} pages while {doing}.")
            seen.add(url)
            response = self.request("GET", url, scopes=scopes, accept=accept, doing=doing)
            yield response
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return
            next_url = urljoin(response.url or url, next_url)
            if _origin(next_url) != origin:
                raise errors.PlatformServiceError(f"{self.platform} sent a next-page link to another site while "
                                                  f"{doing}; Microcred did not follow it.")
            if next_url in seen:
                log.warning("platform pagination loops; stopping", extra={"registration_id": self.registration.id})
                return
            url = next_url


def with_query(url: str, **params: str | int | None) -> str:
    """``url`` with ``params`` added to (or replacing the same names in) its query string; ``None`` skips."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()

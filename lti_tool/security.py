"""What every request and response gets: a body-size limit, a nonce-based Content-Security-Policy whose
``frame-ancestors`` names the registered platforms, HSTS in production, and ``no-store`` on private pages.

Body size: ``MAX_CONTENT_LENGTH`` (1 MiB) holds everywhere; an upload endpoint raises it for itself in
``UPLOAD_LIMITS``. A request that declares a larger body is refused with a 413 before any of it is read; one
that declares none (chunked) is read by Werkzeug no further than the limit.

Framing: Canvas frames the tool from the institution's own site (``https://district.instructure.com``, or a
vanity domain), not from its issuer ``https://canvas.instructure.com``. The allowed ancestors are: this site;
each registration's issuer and login origins (a self-hosted Canvas, Moodle or the stand-in test platforms
frame from their issuer's site); the origins of the roster and gradebook services of every course launched
from (stored per course: the platform's own site, vanity domains included); for a registration with
Instructure's cloud issuer, ``https://*.instructure.com`` (a first launch, or the Platform Storage login page,
comes before any course is stored); the ``FRAME_ANCESTORS`` setting; and, when the practice LMS is on, this
server under its loopback names. Never plain http in production. The list is read at most once per
``FRAME_ANCESTORS_TTL`` seconds.
"""
from __future__ import annotations

import logging
import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

log = logging.getLogger(__name__)

MiB = 1024 * 1024
# endpoint → the largest request body it accepts (the default, MAX_CONTENT_LENGTH, is 1 MiB).
UPLOAD_LIMITS: dict[str, int] = {
    "catalog.import_documents": 8 * MiB,  # several catalog JSON files of up to 2 MB each
    "catalog.edit": 4 * MiB,              # the MC form with a rubric CSV of up to 2 MB
}
# Issuers of Instructure's hosted Canvas; each institution's Canvas is served from a *.instructure.com site.
CANVAS_CLOUD_ISSUERS = {"https://canvas.instructure.com", "https://canvas.beta.instructure.com",
                        "https://canvas.test.instructure.com"}
CANVAS_CLOUD_FRAMES = "https://*.instructure.com"
FRAME_ANCESTORS_TTL = 60.0
HSTS = "max-age=31536000"
# Session tokens arrive in this cookie, query parameter or header (see lti.session).
_SESSION_COOKIE, _SESSION_PARAM, _SESSION_HEADER = "mc_session", "mcs", "X-Microcred-Session"


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


def body_limit(endpoint: str | None) -> int:
    """The largest request body ``endpoint`` accepts."""
    default = current_app.config["MAX_CONTENT_LENGTH"]
    return max(default, UPLOAD_LIMITS.get(endpoint or "", 0))


def _limit_body() -> None:
    limit = body_limit(request.endpoint)
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _loopback_aliases(base_url: str) -> list[str]:
    parts = urlsplit(base_url)
    port = f":{parts.port}" if parts.port else ""
    return [f"{parts.scheme}://{host}{port}" for host in ("localhost", "127.0.0.1", "[::1]")]


def _registered_origins(app: Flask) -> set[str]:
    from lti_tool.lti.models import CourseContext, Registration

    origins: set[str] = set()
    with app.extensions["db_engine"].connect() as connection:
        for issuer, login_url in connection.execute(select(Registration.issuer, Registration.auth_login_url)):
            origins.update(o for o in (_origin(issuer), _origin(login_url)) if o)
            if issuer.rstrip("/") in CANVAS_CLOUD_ISSUERS:
                origins.add(CANVAS_CLOUD_FRAMES)
        # A launched course's roster and gradebook live on the platform's own site, the one that frames us.
        services = select(CourseContext.line_items_url, CourseContext.memberships_url).distinct()
        for row in connection.execute(services):
            origins.update(o for o in map(_origin, row) if o)
    return origins


def frame_ancestors(app: Flask) -> str:
    """The ``frame-ancestors`` source list (cached for ``FRAME_ANCESTORS_TTL`` seconds per app)."""
    cached = app.extensions.get("frame_ancestors")
    now = time.monotonic()
    # A launch that brought a new platform site (context.record_launch) has not committed it yet: this
    # response is computed without caching, so the next request reads the committed list.
    uncommitted = has_request_context() and g.get("frame_origins_changed", False)
    if cached and cached[0] > now and not uncommitted:
        return cached[1]
    origins = set(app.config.get("FRAME_ANCESTORS", "").split())
    if app.config.get("PRACTICE_LMS"):
        origins.update(_loopback_aliases(app.config["TOOL_BASE_URL"]))
    ttl = FRAME_ANCESTORS_TTL
    try:
        origins |= _registered_origins(app)
    except SQLAlchemyError:  # not migrated yet: health and the "not ready" page still get an answer
        log.warning("registered platforms unreadable; framing limited to this site")
        ttl = 5.0
    if app.config["ENV"] == "production":
        origins = {o for o in origins if o.startswith("https://")}
    value = " ".join(["'self'", *sorted(origins)])
    app.extensions["frame_ancestors"] = (now + (0 if uncommitted else ttl), value)
    return value


def forget_frame_ancestors(app: Flask) -> None:
    """Drop the cached list (after a registration is added or removed in this process). Inside a request
    whose change is not committed yet, the list is also recomputed after it, on the next request."""
    app.extensions.pop("frame_ancestors", None)
    if has_request_context():
        g.frame_origins_changed = True


def _carries_session(response) -> bool:
    return bool(request.cookies.get(_SESSION_COOKIE) or request.args.get(_SESSION_PARAM)
                or request.headers.get(_SESSION_HEADER) or g.get("session_token")
                or response.headers.getlist("Set-Cookie"))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(csp_nonce=csp_nonce, has_endpoint=has_endpoint)
    app.before_request(_limit_body)

    @app.after_request
    def _headers(response):
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", (
                "default-src 'self'; "
                f"script-src 'self' 'nonce-{csp_nonce()}'; "
                "style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                f"frame-ancestors {frame_ancestors(app)}"))
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if app.config["ENV"] == "production" and request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        # Pages name people and carry session tokens in links: no copy in the browser's or a proxy's cache.
        # Static files hold neither and stay cacheable.
        if request.endpoint != "static" and (response.mimetype == "text/html" or _carries_session(response)):
            response.headers["Cache-Control"] = "no-store"
        return response

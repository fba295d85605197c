"""What every request and response gets: a body-size limit, a nonce-based Content-Security-Policy whose
``frame-ancestors`` names the registered platforms, HSTS in production, and ``no-store`` on private pages.

Body size: ``MAX_CONTENT_LENGTH`` (1 MiB) holds everywhere; an upload endpoint raises it for itself in
``UPLOAD_LIMITS``. A request that declares a larger body is refused with a 413 before any of it is read; one
that declares none (chunked) is read by Werkzeug no further than the limit.

Framing: Canvas frames the tool from the institution's own site (``https://district.instructure.com``, or a
vanity domain), not from its issuer ``https://canvas.instructure.com``. The allowed ancestors are: this site;
each registration's issuer and login origins (a self-hosted Canvas, Moodle or the stand-in test platforms
frame from their issuer's site); the sites launches came from (``FrameOrigin``: each launch's return URL and
service URLs, recorded by ``lti.context``); the ``FRAME_ANCESTORS`` setting; and, when the practice LMS is
on, this server under its loopback names. Only the OIDC login and launch answers, which come before the tool
knows the site, may also be framed by any ``https://*.instructure.com`` site when a registration is Canvas
cloud: they carry no session. (Partitioned cookies are keyed by the top-level *site*, and every Canvas cloud
school shares ``instructure.com``: naming exact origins keeps another Canvas from framing a signed-in page.)
Never plain http in production. The list is read at most once per ``FRAME_ANCESTORS_TTL`` seconds.
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
LOGIN_FLOW = {"lti.login", "lti.launch"}  # endpoints answered before the tool knows the framing site
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


def origin_of(url: object) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or None (no user name or password accepted)."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _loopback_aliases(base_url: str) -> list[str]:
    parts = urlsplit(base_url)
    port = f":{parts.port}" if parts.port else ""
    return [f"{parts.scheme}://{host}{port}" for host in ("localhost", "127.0.0.1", "[::1]")]


def _registered_origins(app: Flask) -> tuple[set[str], bool]:
    """(origins, whether a registration is Instructure's hosted Canvas)."""
    from lti_tool.lti.models import FrameOrigin, Registration

    origins: set[str] = set()
    cloud = False
    with app.extensions["db_engine"].connect() as connection:
        for issuer, login_url in connection.execute(select(Registration.issuer, Registration.auth_login_url)):
            origins.update(o for o in (origin_of(issuer), origin_of(login_url)) if o)
            cloud = cloud or issuer.rstrip("/") in CANVAS_CLOUD_ISSUERS
        # The sites launches came from (context.record_launch): a Canvas's own domain, vanity ones included.
        origins.update(connection.scalars(select(FrameOrigin.origin).distinct()))
    return origins, cloud


def frame_ancestors(app: Flask, *, login_flow: bool = False) -> str:
    """The ``frame-ancestors`` source list (read at most every ``FRAME_ANCESTORS_TTL`` seconds per app).

    ``login_flow``: the OIDC login and launch responses, which come before the tool knows which site frames
    it; for a Canvas cloud registration they may be framed by any ``*.instructure.com`` site. They carry no
    session and nothing to click but "open in a new window"; every other page names exact sites."""
    cached = app.extensions.get("frame_ancestors")
    now = time.monotonic()
    # A launch that brought a new platform site (context.record_launch) has not committed it yet: this
    # response is computed without caching, so the next request reads the committed list.
    uncommitted = has_request_context() and g.get("frame_origins_changed", False)
    if cached and cached[0] > now and not uncommitted:
        origins, cloud = cached[1]
    else:
        origins = set(app.config.get("FRAME_ANCESTORS", "").split())
        if app.config.get("PRACTICE_LMS"):
            origins.update(_loopback_aliases(app.config["TOOL_BASE_URL"]))
        ttl, cloud = FRAME_ANCESTORS_TTL, False
        try:
            registered, cloud = _registered_origins(app)
            origins |= registered
        except SQLAlchemyError:  # not migrated yet: health and the "not ready" page still get an answer
            log.warning("registered platforms unreadable; framing limited to this site")
            ttl = 5.0
        if app.config["ENV"] == "production":
            origins = {o for o in origins if o.startswith("https://")}
        app.extensions["frame_ancestors"] = (now + (0 if uncommitted else ttl), (origins, cloud))
    sources = origins | ({CANVAS_CLOUD_FRAMES} if login_flow and cloud else set())
    return " ".join(["'self'", *sorted(sources)])


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
                f"frame-ancestors {frame_ancestors(app, login_flow=request.endpoint in LOGIN_FLOW)}"))
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if app.config["ENV"] == "production" and request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        # Pages name people and carry session tokens in links: no copy in the browser's or a proxy's cache.
        # Static files hold neither and stay cacheable.
        if request.endpoint != "static" and (response.mimetype == "text/html" or _carries_session(response)):
            response.headers["Cache-Control"] = "no-store"
        return response

"""Response headers every page gets: a nonce-based Content-Security-Policy and friends.

Pages are meant to be framed by the LMS (any origin a district runs Canvas on), so framing stays open
(``frame-ancestors https:``); scripts run only with the per-request nonce.
"""
from __future__ import annotations

import secrets

from flask import Flask, current_app, g


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(csp_nonce=csp_nonce, has_endpoint=has_endpoint)

    @app.after_request
    def _headers(response):
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", (
                "default-src 'self'; "
                f"script-src 'self' 'nonce-{csp_nonce()}'; "
                "style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                "frame-ancestors 'self' https: http://localhost:* http://127.0.0.1:*"))
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

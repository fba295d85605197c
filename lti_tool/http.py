"""The one outbound HTTP session the tool uses to talk to platforms (JWKS, tokens, AGS, NRPS, registration).

Timeouts always; a User-Agent that names the tool; and, for development, trust in the local development
certificate (``EXTRA_CA_CERTS``, default ``instance/dev-cert.pem`` outside production) on top of the
system's CA bundle, so the practice LMS at https://localhost works without turning verification off.
"""
from __future__ import annotations

import os
from pathlib import Path

import requests
from flask import Flask, current_app

DEFAULT_TIMEOUT = 10
USER_AGENT = "Microcred-LTI-Tool/0.1"


class _TimeoutSession(requests.Session):
    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override ``Session.verify``; pass it per request
        # so the bundle chosen below (which already starts from those variables) is the one used.
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, **kwargs)


def _ca_bundle(app: Flask) -> str | bool:
    extra = app.config.get("EXTRA_CA_CERTS")
    if not extra and app.config["ENV"] != "production":
        candidate = Path(app.instance_path) / "dev-cert.pem"
        extra = str(candidate) if candidate.exists() else None
    if not extra or not Path(extra).exists():
        return True
    import certifi

    base = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
    bundle = Path(app.instance_path) / "ca-bundle.pem"
    bundle.write_text(Path(base).read_text() + "\n" + Path(extra).read_text())
    return str(bundle)


def session() -> requests.Session:
    """A requests session for the current app (build a new one per unit of work; they are cheap)."""
    app = current_app._get_current_object()
    verify = app.extensions.get("http_verify")
    if verify is None:
        verify = app.extensions["http_verify"] = _ca_bundle(app)
    http = _TimeoutSession()
    http.headers["User-Agent"] = USER_AGENT
    http.verify = verify
    return http

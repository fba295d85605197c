"""The practice LMS (development only): a real LTI 1.3 platform at /practice, so Microcred can be tried
without Canvas. Refused in production."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    if app.config["ENV"] == "production" or app.config.get("PRACTICE_LMS") is False:
        return
    from lti_tool.practice.services import bp as services_bp
    from lti_tool.practice.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(services_bp)

"""The LTI boundary: registrations, keys, launches, sessions, deep linking, platform services.

Nothing outside this package reads an LTI claim; the rest of the app takes an ``Actor``.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lti_tool.lti import cli, keys  # noqa: F401  (keys registers its after-upgrade hook)
    from lti_tool.lti.session import CSRF_FIELD, csrf_token, session_url
    from lti_tool.lti.install import bp as install_bp
    from lti_tool.lti.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(install_bp)
    cli.init_app(app)
    app.jinja_env.globals.update(csrf_token=csrf_token, csrf_field=CSRF_FIELD, session_url=session_url)

"""Microcred: educator micro-credentials inside Canvas, as an LTI 1.3 tool."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import load_settings, parse_proxy_fix


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides settings read from the environment (tests pass it)."""
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"),
                instance_relative_config=True)
    overrides = dict(config or {})
    if "INSTANCE_PATH" in overrides:
        app.instance_path = str(overrides.pop("INSTANCE_PATH"))
    settings = load_settings(app.instance_path, overrides=overrides)
    app.config.from_mapping(settings.as_flask_config())
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    if settings.PROXY_FIX:
        app.wsgi_app = ProxyFix(app.wsgi_app, **parse_proxy_fix(settings.PROXY_FIX))  # type: ignore[method-assign]

    from lti_tool import cli, db, errors, home, i18n, logs, lti, migrate, practice, security
    from lti_tool.health import bp as health_bp

    logs.configure(app)
    db.init_app(app)
    errors.init_app(app)
    migrate.init_app(app)
    security.init_app(app)
    cli.init_app(app)
    lti.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(home.bp)
    from lti_tool.catalog.views import bp as catalog_bp

    app.register_blueprint(catalog_bp)
    from lti_tool.people.views import bp as schools_bp

    app.register_blueprint(schools_bp)
    practice.init_app(app)
    return app

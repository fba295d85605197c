"""The practice LMS (development and testing only): a real LTI 1.3 platform at /practice, so Microcred can
be tried without Canvas. It signs launches as any persona, a district admin included, so it is registered
only on an explicit opt-in (``PRACTICE_LMS=1``, which ``make demo`` sets), which the settings accept only with
a loopback ``TOOL_BASE_URL`` and never in production (see ``config``). Otherwise /practice answers 404."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup


def init_app(app: Flask) -> None:
    if app.config["ENV"] == "production" or app.config.get("PRACTICE_LMS") is not True:
        return
    from lti_tool.practice import ags, nrps, views

    app.register_blueprint(views.bp)
    app.register_blueprint(ags.bp)
    app.register_blueprint(nrps.bp)
    app.cli.add_command(practice_cli)


practice_cli = AppGroup("practice", help="The practice LMS (not in production).")


@practice_cli.command("rotate-key")
def rotate_key() -> None:
    """Give the practice platform a new signing key; the previous one stays in its JWKS."""
    from lti_tool.practice import keyring

    key = keyring.rotate(current_app)
    click.echo(f"The practice LMS now signs with kid {key.kid}.")

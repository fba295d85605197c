"""``flask --app wsgi platform add|list|remove|add-deployment``: how district IT registers Canvas."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from lti_tool.db import session_scope
from lti_tool.errors import MicrocredError
from lti_tool.lti import registry
from lti_tool.lti.keys import keys_cli
from lti_tool.lti.services import scopes
from lti_tool.lti.services.scopes import TOOL_SCOPES

platform_cli = AppGroup("platform", help="LTI platforms (Canvas developer keys) this tool trusts.")


def _fail(error: MicrocredError) -> None:
    raise click.ClickException(error.message + (f" {error.hint}" if error.hint else ""))


@platform_cli.command("add")
@click.option("--canvas", "canvas_env", flag_value="production", help="Use hosted Canvas's issuer and endpoints.")
@click.option("--canvas-beta", "canvas_env", flag_value="beta", help="Hosted Canvas, beta environment.")
@click.option("--canvas-test", "canvas_env", flag_value="test", help="Hosted Canvas, test environment.")
@click.option("--issuer")
@click.option("--client-id", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True, help="May be repeated.")
@click.option("--auth-login-url")
@click.option("--auth-token-url")
@click.option("--key-set-url")
@click.option("--name", default=None)
@click.option("--district", default=None, help="District slug (default: the only district).")
@click.option("--scope", "scopes", multiple=True,
              help="A scope the developer key grants (repeat); default: the scopes in /lti/canvas.json.")
@with_appcontext
def add(canvas_env, issuer, client_id, deployment_ids, auth_login_url, auth_token_url, key_set_url, name, district,
        scopes):
    """Register a platform. For hosted Canvas: platform add --canvas --client-id ID --deployment-id DEP."""
    if canvas_env:
        defaults = registry.CANVAS[canvas_env]
        issuer = issuer or defaults.issuer
        auth_login_url = auth_login_url or defaults.auth_login_url
        auth_token_url = auth_token_url or defaults.auth_token_url
        key_set_url = key_set_url or defaults.key_set_url
    missing = [flag for flag, value in (("--issuer", issuer), ("--auth-login-url", auth_login_url),
                                        ("--auth-token-url", auth_token_url), ("--key-set-url", key_set_url))
               if not value]
    if missing:
        raise click.UsageError(f"missing {', '.join(missing)} (or use --canvas for hosted Canvas)")
    try:
        with session_scope() as session:
            registration = registry.add_platform(
                session, district=registry.resolve_district(session, district), name=name or issuer,
                endpoints=registry.PlatformEndpoints(issuer, auth_login_url, auth_token_url, key_set_url),
                client_id=client_id, deployment_ids=deployment_ids, scopes=list(scopes or TOOL_SCOPES))
            click.echo(f"Registered platform {registration.id}: {registration.issuer} client_id={registration.client_id}"
                       f" deployments={', '.join(deployment_ids) or '(none yet)'}")
    except MicrocredError as error:
        _fail(error)


@platform_cli.command("registration-url")
@click.option("--district", default=None, help="District slug (default: the only district).")
@with_appcontext
def registration_url(district):
    """Print a Dynamic Registration URL for Canvas that registers one platform into one district, once
    (valid 7 days; a registration that fails does not use it up)."""
    from flask import current_app

    from lti_tool.lti.dynreg import make_invite

    try:
        with session_scope() as session:
            slug = registry.resolve_district(session, district).slug
    except MicrocredError as error:
        _fail(error)
    invite = make_invite(current_app.config["SECRET_KEY"], slug)
    click.echo(f"{current_app.config['TOOL_BASE_URL']}/lti/register?invite={invite}")


@platform_cli.command("add-deployment")
@click.argument("registration_id", type=int)
@click.argument("deployment_id")
@with_appcontext
def add_deployment(registration_id, deployment_id):
    """Add a deployment id to a registered platform."""
    try:
        with session_scope() as session:
            registry.add_deployment(session, registry.get_registration(session, registration_id), deployment_id)
    except MicrocredError as error:
        _fail(error)
    click.echo(f"Deployment {deployment_id} added to platform {registration_id}.")


@platform_cli.command("list")
@with_appcontext
def list_platforms():
    """List registered platforms and their deployments."""
    with session_scope() as session:
        platforms = registry.list_platforms(session)
        if not platforms:
            click.echo("No platforms registered yet.")
        for r in platforms:
            deployments = ", ".join(d.deployment_id for d in r.deployments) or "(none)"
            click.echo(f"{r.id}  {r.name}  issuer={r.issuer}  client_id={r.client_id}  deployments={deployments}")


@platform_cli.command("remove")
@click.argument("registration_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def remove(registration_id, yes):
    """Remove a platform registration (its launches stop working at once)."""
    try:
        with session_scope() as session:
            registration = registry.get_registration(session, registration_id)
            if not yes:
                click.confirm(f"Remove {registration.issuer} client_id={registration.client_id}?", abort=True)
            registry.remove_platform(session, registration)
    except MicrocredError as error:
        _fail(error)
    click.echo(f"Platform {registration_id} removed.")


@platform_cli.command("scopes")
@click.argument("registration_id", type=int)
@click.option("--refresh", is_flag=True, help="Ask the platform what it grants now, and record the answer.")
@with_appcontext
def scopes_command(registration_id: int, refresh: bool) -> None:
    """Show the scopes a platform granted Microcred; --refresh asks the platform again (after an administrator
    unticked or ticked scopes on the developer key)."""
    try:
        with session_scope() as session:
            registration = registry.get_registration(session, registration_id)
            check = scopes.refresh_granted_scopes(session, registration) if refresh else None
            granted = scopes.granted_scopes(registration)
            for scope in scopes.TOOL_SCOPES:
                click.echo(f"{'granted    ' if scope in granted else 'NOT granted'}  {scope}")
            if check is not None:
                changes = [f"-{s}" for s in sorted(check.removed)] + [f"+{s}" for s in sorted(check.added)]
                click.echo("Recorded: " + (", ".join(changes) if changes else "no change") + ".")
    except MicrocredError as error:
        raise click.ClickException(error.message + (f" {error.hint}" if error.hint else "")) from error


lti_cli = AppGroup("lti", help="LTI housekeeping.")


@lti_cli.command("purge")
@with_appcontext
def purge():
    """Delete expired logins, launches and sessions (run daily from cron or a systemd timer)."""
    from lti_tool.lti.session import purge_expired

    with session_scope() as session:
        counts = purge_expired(session)
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))


def init_app(app: Flask) -> None:
    app.cli.add_command(lti_cli)
    app.cli.add_command(platform_cli)
    app.cli.add_command(keys_cli)

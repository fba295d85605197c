"""``flask --app wsgi people list|grant-district-admin|revoke-district-admin``: district IT designates the
district's first administrator on the server (an LMS role never makes one); district admins name the rest on
the Schools page."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.errors import MicrocredError
from lti_tool.people import service
from lti_tool.people.models import User

people_cli = AppGroup("people", help="People who have opened Microcred, and who runs each district.")
WHO = click.argument("who", metavar="EMAIL|SUBJECT|#ID")
DISTRICT = click.option("--district", default=None, help="District slug (default: the only district).")


def _district(session, slug):
    from lti_tool.lti.registry import resolve_district

    return resolve_district(session, slug)


def _designate(who: str, slug: str | None, *, on: bool) -> None:
    try:
        with session_scope() as session:
            district = _district(session, slug)
            user = service.find_person(session, district.id, who)
            changed = service.set_district_admin(session, district.id, user, on=on, actor_user_id=None,
                                                 by="district IT (command line)")
            label = f"#{user.id}" + (f" ({user.name})" if user.name else "")
            district_name = district.name
    except MicrocredError as error:
        raise click.ClickException(error.message + (f" {error.hint}" if error.hint else "")) from error
    state = "is now" if on else "is no longer"
    click.echo(f"{label} {state} a district administrator of {district_name}."
               + ("" if changed else " (No change was needed.)")
               + (" It takes effect on their next page." if changed else ""))


@people_cli.command("grant-district-admin")
@WHO
@DISTRICT
def grant_district_admin(who: str, district: str | None) -> None:
    """Make someone a district administrator. They must have opened Microcred from Canvas once; name them by
    email, by platform subject, or by #id (see 'people list')."""
    _designate(who, district, on=True)


@people_cli.command("revoke-district-admin")
@WHO
@DISTRICT
def revoke_district_admin(who: str, district: str | None) -> None:
    """Remove a district administrator (never the district's last one)."""
    _designate(who, district, on=False)


@people_cli.command("list")
@DISTRICT
def list_people(district: str | None) -> None:
    """Everyone who has opened Microcred in the district, district administrators marked with '*'."""
    try:
        with session_scope() as session:
            found = _district(session, district)
            admins = {u.id for u in service.district_admins(session, found.id)}
            people = session.scalars(select(User).where(User.district_id == found.id).order_by(User.id))
            rows = [(u.id in admins, u.id, u.name or "(name not shared)", u.email or "", u.subject) for u in people]
    except MicrocredError as error:
        raise click.ClickException(error.message) from error
    if not rows:
        click.echo("No one has opened Microcred in this district yet.")
    for admin, user_id, name, email, subject in rows:
        click.echo(f"{'*' if admin else ' '} #{user_id}\t{name}\t{email}\tsubject {subject}")

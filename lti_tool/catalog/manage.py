"""What the district admin's catalog pages show: the catalog with its versions, the MC and stack editors,
the editor's live preview. Each checks permission, reads in a fixed number of queries, changes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.catalog import document as doc
from lti_tool.catalog import editor_form
from lti_tool.catalog.models import McVersion, MicroCredential, Stack, StackVersion, Status, VersionState
from lti_tool.catalog.policy import Policy, district_rules, mc_policy
from lti_tool.catalog.service import draft_version, get_mc, get_stack, lock_token, require_catalog_admin
from lti_tool.lti.actor import Actor


@dataclass(frozen=True)
class Row:
    slug: str
    title: str              # the draft's, else the published version's
    status: Status
    published: int | None   # version numbers
    draft: int | None


@dataclass(frozen=True)
class ManagePage:
    mcs: list[Row]
    stacks: list[Row]
    rules: Policy


def manage_page(session: Session, actor: Actor) -> ManagePage:
    require_catalog_admin(actor)
    return ManagePage(_rows(session, actor.district_id, MicroCredential, McVersion, McVersion.mc_id),
                      _rows(session, actor.district_id, Stack, StackVersion, StackVersion.stack_id),
                      district_rules(session, actor))


def _rows(session: Session, district_id: int, model, version_model, owner) -> list[Row]:
    """Every item of the district with its published and newest draft version: two queries."""
    drafts = {}
    for item_id, number, title in session.execute(
            select(owner, version_model.number, version_model.title).join(model, model.id == owner)
            .where(model.district_id == district_id, version_model.state == VersionState.DRAFT)
            .order_by(version_model.number)):
        drafts[item_id] = (number, title)  # the newest draft wins
    rows = []
    for item_id, slug, status, number, title in session.execute(
            select(model.id, model.slug, model.status, version_model.number, version_model.title)
            .outerjoin(version_model, version_model.id == model.published_version_id)
            .where(model.district_id == district_id).order_by(model.slug)):
        draft = drafts.get(item_id)
        rows.append(Row(slug, draft[1] if draft else title or slug, status, number, draft[0] if draft else None))
    return rows


def manage_row(session: Session, actor: Actor, slug: str) -> Row:
    """One MC as the catalog's table shows it (for the page that confirms retiring or deleting it)."""
    require_catalog_admin(actor)
    mc = get_mc(session, actor, slug)
    draft = draft_version(mc)
    title = (draft or mc.published or mc.versions[-1]).title if mc.versions else slug
    return Row(mc.slug, title, mc.status, mc.published.number if mc.published else None,
               draft.number if draft else None)


@dataclass(frozen=True)
class Editor:
    raw: dict[str, Any]           # the document shown: the draft, else the newest version, else a blank one
    version: McVersion | None
    lock: str                     # the editor sends it back (``service.lock_token``)
    rules: Policy                 # the district's, shown beside each rule the MC may set for itself


def editor_page(session: Session, actor: Actor, slug: str | None) -> Editor:
    require_catalog_admin(actor)
    version = None
    if slug:
        mc = get_mc(session, actor, slug)
        version = draft_version(mc) or mc.versions[-1]
    raw = version.document if version else editor_form.blank_document()
    return Editor(raw, version, lock_token(version), district_rules(session, actor))


@dataclass(frozen=True)
class StackEditor:
    raw: dict[str, Any]
    version: StackVersion | None
    lock: str
    choices: list[tuple[str, str]]  # (slug, title) of every MC: the stack's members first, in its order


def stack_editor_page(session: Session, actor: Actor, slug: str | None) -> StackEditor:
    require_catalog_admin(actor)
    version = get_stack(session, actor, slug).versions[-1] if slug else None
    raw = version.document if version else editor_form.blank_stack()
    newest = (select(McVersion.mc_id, func.max(McVersion.number).label("number"))
              .join(MicroCredential, MicroCredential.id == McVersion.mc_id)
              .where(MicroCredential.district_id == actor.district_id).group_by(McVersion.mc_id).subquery())
    choices = session.execute(
        select(MicroCredential.slug, McVersion.title)
        .join(newest, newest.c.mc_id == MicroCredential.id)
        .join(McVersion, (McVersion.mc_id == newest.c.mc_id) & (McVersion.number == newest.c.number))).all()
    members = list(raw["micro_credentials"])  # keep the stack's order: its members first, as they stand
    choices = sorted(((s, t) for s, t in choices),
                     key=lambda c: (members.index(c[0]) if c[0] in members else len(members), c[0]))
    return StackEditor(raw, version, lock_token(version), choices)


@dataclass(frozen=True)
class Preview:
    document: doc.McDocument | None
    error: doc.DocumentError | None  # what still stops the draft from being saved
    policy: Policy | None


def preview(session: Session, actor: Actor, raw: dict[str, Any]) -> Preview:
    """What a teacher would see of an unsaved draft, or what still stops it from being saved."""
    require_catalog_admin(actor)
    try:
        parsed = doc.parse(dict(raw, version=1), "the draft")
    except doc.DocumentError as error:
        return Preview(None, error, None)
    return Preview(parsed, None, mc_policy(district_rules(session, actor), raw.get("policy")))

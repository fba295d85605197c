"""What each person sees in the catalog, and how a school admin chooses their school's offer.

Principals choose what their building offers (150 choices for 150 staff overwhelmed admins in Seminole
County): teachers see their school's offer — and the whole district catalog only if the district allows.
Offering a stack offers its micro-credentials. Retired and unpublished items are never shown to teachers.
Each page costs the same few queries however large the catalog: published versions are joined in SQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import audit
from lti_tool.catalog import document as doc
from lti_tool.catalog.models import McVersion, MicroCredential, SchoolOffering, Stack, StackVersion, Status
from lti_tool.catalog.policy import Policy, district_rules, mc_policy
from lti_tool.catalog.service import get_mc, get_stack
from lti_tool.errors import BadRequest, Forbidden, NotFound
from lti_tool.lti.actor import Actor
from lti_tool.people.models import School


@dataclass(frozen=True)
class Entry:
    kind: str            # "mc" or "stack"
    slug: str
    title: str
    summary: str
    topics: tuple[str, ...]
    effort_hours: int | None
    grade_band: str | None
    stacks: tuple[str, ...]   # for an MC: the stacks it belongs to
    members: tuple[str, ...]  # for a stack: its MCs
    featured: bool
    offered: bool            # offered by the actor's school


@dataclass(frozen=True)
class Filters:
    query: str = ""
    topic: str = ""
    max_effort: int | None = None
    stack: str = ""


def _published_mcs(session: Session, district_id: int) -> list[Any]:
    """Published MCs with what a list shows of their published version: one query."""
    return session.execute(
        select(MicroCredential.id, MicroCredential.slug, McVersion.title, McVersion.summary, McVersion.topics,
               McVersion.effort_hours, McVersion.grade_band)
        .join(McVersion, McVersion.id == MicroCredential.published_version_id)
        .where(MicroCredential.district_id == district_id, MicroCredential.status == Status.PUBLISHED)).all()


def _published_stacks(session: Session, district_id: int, ids: set[int] | None = None) -> list[Any]:
    query = (select(Stack.id, Stack.slug, StackVersion.title, StackVersion.summary, StackVersion.document)
             .join(StackVersion, StackVersion.id == Stack.published_version_id)
             .where(Stack.district_id == district_id, Stack.status == Status.PUBLISHED))
    if ids is not None:
        query = query.where(Stack.id.in_(ids))
    return session.execute(query).all()


def _offerings(session: Session, school_id: int | None) -> dict[tuple[str, int], bool]:
    """What the school offers, ``(kind, id) → featured``."""
    if school_id is None:
        return {}
    rows = session.scalars(select(SchoolOffering).where(SchoolOffering.school_id == school_id))
    return {(("mc", r.mc_id) if r.mc_id else ("stack", r.stack_id)): r.featured for r in rows}


def is_staff(actor: Actor) -> bool:
    """Who reads the catalog to run it (district and school admins, facilitators), not to earn from it."""
    return actor.is_district_admin or actor.school_admin or actor.is_facilitator


def _sees_everything(actor: Actor, rules: Policy) -> bool:
    # Facilitators place MCs in PD courses and coach across schools: they see the district catalog too.
    return actor.is_district_admin or actor.school_admin or actor.is_facilitator or rules.district_catalog_visible


def catalog_for(session: Session, actor: Actor, filters: Filters = Filters()) -> list[Entry]:
    """The entries this actor may see, featured first, then by title."""
    see_all = _sees_everything(actor, district_rules(session, actor))
    offered = _offerings(session, actor.school_id)
    stacks = _published_stacks(session, actor.district_id)
    stack_members = {s.slug: tuple(s.document["micro_credentials"]) for s in stacks}
    offered_stack_members = {m for s in stacks if ("stack", s.id) in offered for m in stack_members[s.slug]}

    entries = []
    for stack in stacks:
        is_offered = ("stack", stack.id) in offered
        if see_all or is_offered:
            entries.append(Entry("stack", stack.slug, stack.title, stack.summary, (), None, None, (),
                                 stack_members[stack.slug], offered.get(("stack", stack.id), False), is_offered))
    for mc in _published_mcs(session, actor.district_id):
        is_offered = ("mc", mc.id) in offered or mc.slug in offered_stack_members
        if see_all or is_offered:
            in_stacks = tuple(s for s, members in stack_members.items() if mc.slug in members)
            entries.append(Entry("mc", mc.slug, mc.title, mc.summary, tuple(mc.topics), mc.effort_hours,
                                 mc.grade_band, in_stacks, (), offered.get(("mc", mc.id), False), is_offered))
    entries = [e for e in entries if _matches(e, filters)]
    return sorted(entries, key=lambda e: (not e.featured, not e.offered, e.kind != "stack", e.title.lower()))


def _matches(entry: Entry, filters: Filters) -> bool:
    query = filters.query.strip().lower()
    if query and query not in f"{entry.title} {entry.summary} {' '.join(entry.topics)}".lower():
        return False
    if filters.topic and filters.topic not in entry.topics:
        return False
    if filters.max_effort is not None and (entry.effort_hours is None or entry.effort_hours > filters.max_effort):
        return False
    if filters.stack and not (entry.slug == filters.stack or filters.stack in entry.stacks):
        return False
    return True


def topics(entries: list[Entry]) -> list[str]:
    return sorted({t for e in entries for t in e.topics})


# --- pages ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CatalogPage:
    entries: list[Entry]   # what the filters let through
    total: int             # how many the actor may see in all
    topics: list[str]      # the filter's choices, from everything the actor may see
    stacks: list[Entry]
    school: School | None
    staff: bool            # the page speaks to staff (offered where, manage) rather than to an earner


def catalog_page(session: Session, actor: Actor, filters: Filters) -> CatalogPage:
    everything = catalog_for(session, actor)
    school = session.get(School, actor.school_id) if actor.school_id else None
    return CatalogPage([e for e in everything if _matches(e, filters)], len(everything), topics(everything),
                       [e for e in everything if e.kind == "stack"], school, is_staff(actor))


@dataclass(frozen=True)
class McPage:
    version: McVersion
    document: doc.McDocument
    policy: Policy  # the rules a teacher pursuing it works under
    staff: bool     # the reader runs the catalog (edit, offer) rather than earns
    school: School | None
    offered_here: bool  # offered at the reader's school (directly or in a stack it offers)


def mc_page(session: Session, actor: Actor, slug: str) -> McPage:
    """A published MC as its reader sees it, with the rules that apply to it (the district's where it says
    nothing). What the actor's catalog does not show is "not found" (district admins read everything)."""
    mc = get_mc(session, actor, slug)
    if mc.published is None or not (actor.is_district_admin or _readable(session, actor, "mc", mc)):
        raise NotFound(_l("This micro-credential is not offered to you."))
    version = mc.published
    rules = mc_policy(district_rules(session, actor), version.document.get("policy"))
    school = session.get(School, actor.school_id) if actor.school_id else None
    return McPage(version, doc.stored(version.document), rules, is_staff(actor), school,
                  _offered_here(session, actor, "mc", mc))


@dataclass(frozen=True)
class StackPage:
    version: StackVersion
    members: list[tuple[str, McVersion]]  # (slug, published version), in the stack's order


def stack_page(session: Session, actor: Actor, slug: str) -> StackPage:
    stack = get_stack(session, actor, slug)
    if stack.published is None or not (actor.is_district_admin or _readable(session, actor, "stack", stack)):
        raise NotFound(_l("This stack is not offered to you."))
    order = list(stack.published.document["micro_credentials"])
    rows = session.execute(select(MicroCredential.slug, McVersion)
                           .join(McVersion, McVersion.id == MicroCredential.published_version_id)
                           .where(MicroCredential.district_id == actor.district_id,
                                  MicroCredential.slug.in_(order))).all()
    return StackPage(stack.published, sorted(((s, v) for s, v in rows), key=lambda row: order.index(row[0])))


def _readable(session: Session, actor: Actor, kind: str, item: MicroCredential | Stack) -> bool:
    """Whether ``item`` (published) is in the actor's catalog, decided without building the catalog."""
    if item.status != Status.PUBLISHED:
        return False
    if _sees_everything(actor, district_rules(session, actor)):
        return True
    return _offered_here(session, actor, kind, item)


def _offered_here(session: Session, actor: Actor, kind: str, item: MicroCredential | Stack) -> bool:
    offered = _offerings(session, actor.school_id)
    if (kind, item.id) in offered:
        return True
    if kind == "stack":
        return False
    stack_ids = {item_id for other, item_id in offered if other == "stack"}
    return any(item.slug in s.document["micro_credentials"]
               for s in _published_stacks(session, actor.district_id, stack_ids)) if stack_ids else False


# --- the school's offer --------------------------------------------------------------------------------

def _require_school_admin(session: Session, actor: Actor, school_id: int | None) -> School:
    if school_id is None:
        raise Forbidden(_l("Only a school administrator can choose what the school offers."),
                        hint=_l("School administrators are designated per school by the district."))
    school = session.get(School, school_id)
    if school is None or school.district_id != actor.district_id:
        raise NotFound(_l("No such school in this district."))
    if actor.test_user or not (actor.is_district_admin or (actor.school_admin and actor.school_id == school_id)):
        raise Forbidden(_l("Only this school's administrator can choose what it offers."),
                        hint=_l("School administrators are designated per school by the district."))
    return school


@dataclass(frozen=True)
class OfferPage:
    school: School
    entries: list[Entry]  # the whole district catalog, each marked offered (and featured) or not


def offer_page(session: Session, actor: Actor) -> OfferPage:
    """What the actor's school offers, to change it: for its school admin (or a district admin there)."""
    school = _require_school_admin(session, actor, actor.school_id)
    return OfferPage(school, catalog_for(session, actor))


def set_offering(session: Session, actor: Actor, school_id: int | None, kind: str, slug: str, *, offered: bool,
                 featured: bool = False) -> None:
    """Offer (or stop offering) a published MC or stack at a school; ``featured`` pins it to the top."""
    _require_school_admin(session, actor, school_id)
    if kind == "mc":
        item, column = get_mc(session, actor, slug), SchoolOffering.mc_id
    elif kind == "stack":
        item, column = get_stack(session, actor, slug), SchoolOffering.stack_id
    else:
        raise BadRequest(_l("Choose a micro-credential or a stack."))
    row = session.scalar(select(SchoolOffering).where(SchoolOffering.school_id == school_id, column == item.id))
    before = {"offered": row is not None, "featured": bool(row and row.featured)}
    if offered:
        if item.status != Status.PUBLISHED:
            raise BadRequest(_l("Only published micro-credentials and stacks can be offered."))
        if row is None:
            row = SchoolOffering(school_id=school_id, **{column.key: item.id})
            session.add(row)
        row.featured = featured
    elif row is not None:
        session.delete(row)
    session.flush()
    audit.record(session, action="school.offering_changed", subject_type="school", subject_id=school_id,
                 district_id=actor.district_id, actor_user_id=actor.user_id,
                 before={"item": f"{kind}:{slug}", **before},
                 after={"item": f"{kind}:{slug}", "offered": offered, "featured": featured and offered})

"""What each person sees in the catalog, and how a school admin chooses their school's offer.

Principals choose what their building offers (150 choices for 150 staff overwhelmed admins in Seminole
County): teachers see their school's offer — and the whole district catalog only if the district allows.
Offering a stack offers its micro-credentials. Retired and unpublished items are never shown to teachers.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lti_tool import audit
from lti_tool.catalog.models import McVersion, MicroCredential, SchoolOffering, Stack, Status
from lti_tool.catalog.policy import district_policy
from lti_tool.catalog.service import get_mc, get_stack, published_version
from lti_tool.errors import BadRequest, Forbidden, NotFound
from lti_tool.lti.actor import Actor
from lti_tool.people.models import District, School


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


def _published(session: Session, district_id: int):
    mcs = [m for m in session.scalars(select(MicroCredential).where(
        MicroCredential.district_id == district_id, MicroCredential.status == Status.PUBLISHED)
        .options(selectinload(MicroCredential.versions))) if published_version(m)]
    stacks = [s for s in session.scalars(select(Stack).where(
        Stack.district_id == district_id, Stack.status == Status.PUBLISHED)
        .options(selectinload(Stack.versions))) if published_version(s)]
    return mcs, stacks


def _offerings(session: Session, school_id: int | None) -> dict[tuple[str, int], bool]:
    if school_id is None:
        return {}
    rows = session.scalars(select(SchoolOffering).where(SchoolOffering.school_id == school_id))
    return {(("mc", r.mc_id) if r.mc_id else ("stack", r.stack_id)): r.featured for r in rows}


def catalog_for(session: Session, actor: Actor, filters: Filters = Filters()) -> list[Entry]:
    """The entries this actor may see, featured first, then by title."""
    district = session.get(District, actor.district_id)
    policy = district_policy(district.policy)
    mcs, stacks = _published(session, actor.district_id)
    offered = _offerings(session, actor.school_id)
    stack_members = {s.slug: tuple(published_version(s).document["micro_credentials"]) for s in stacks}
    offered_stack_members = {m for s in stacks if ("stack", s.id) in offered for m in stack_members[s.slug]}
    # Facilitators place MCs in PD courses and coach across schools: they see the district catalog too.
    see_all = (actor.is_district_admin or actor.school_admin or actor.is_facilitator
               or policy.district_catalog_visible)

    entries = []
    for stack in stacks:
        version = published_version(stack)
        is_offered = ("stack", stack.id) in offered
        if see_all or is_offered:
            entries.append(Entry("stack", stack.slug, version.title, version.summary, (), None, None, (),
                                 stack_members[stack.slug], offered.get(("stack", stack.id), False), is_offered))
    for mc in mcs:
        version: McVersion = published_version(mc)
        is_offered = ("mc", mc.id) in offered or mc.slug in offered_stack_members
        if see_all or is_offered:
            in_stacks = tuple(s for s, members in stack_members.items() if mc.slug in members)
            entries.append(Entry("mc", mc.slug, version.title, version.summary, tuple(version.topics),
                                 version.effort_hours, version.grade_band, in_stacks,
                                 (), offered.get(("mc", mc.id), False), is_offered))
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


def _require_school_admin(session: Session, actor: Actor, school_id: int) -> None:
    school = session.get(School, school_id)
    if school is None or school.district_id != actor.district_id:
        raise NotFound("No such school in this district.")
    if actor.test_user or not (actor.is_district_admin or (actor.school_admin and actor.school_id == school_id)):
        raise Forbidden("Only this school's administrator can choose what it offers.")


def set_offering(session: Session, actor: Actor, school_id: int, kind: str, slug: str, *, offered: bool,
                 featured: bool = False) -> None:
    """Offer (or stop offering) a published MC or stack at a school; ``featured`` pins it to the top."""
    _require_school_admin(session, actor, school_id)
    if kind == "mc":
        item, column = get_mc(session, actor.district_id, slug), SchoolOffering.mc_id
    elif kind == "stack":
        item, column = get_stack(session, actor.district_id, slug), SchoolOffering.stack_id
    else:
        raise BadRequest("Choose a micro-credential or a stack.")
    row = session.scalar(select(SchoolOffering).where(SchoolOffering.school_id == school_id, column == item.id))
    before = {"offered": row is not None, "featured": bool(row and row.featured)}
    if offered:
        if item.status != Status.PUBLISHED:
            raise BadRequest("Only published micro-credentials and stacks can be offered.")
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

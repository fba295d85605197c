"""What every saved catalog document must satisfy within its district, beyond its own schema: stack members
and prerequisites name the district's MCs, prerequisites form no cycle, and no two MCs (or two stacks) share a
title. Import and the editors both check these before anything is saved."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from lti_tool.catalog import document as doc
from lti_tool.catalog.models import McVersion, MicroCredential, Stack, StackVersion, VersionState


def columns(parsed) -> dict:
    """The version row's columns lists filter on, from a parsed document (the document itself among them)."""
    raw = parsed.raw
    columns = {"title": parsed.title, "summary": parsed.summary, "document": raw}
    if isinstance(parsed, doc.McDocument):
        columns.update(grade_band=raw["grade_band"], topics=list(raw["topics"]), effort_hours=raw["effort_hours"])
    return columns


def check_references(session: Session, district_id: int, parsed: list) -> None:
    """Stack members and prerequisites name MCs of this district, and prerequisites form no cycle."""
    slugs = set(session.scalars(select(MicroCredential.slug).where(MicroCredential.district_id == district_id)))
    for item in parsed:
        names = item.members if isinstance(item, doc.StackDocument) else item.prerequisites
        field = "micro_credentials" if isinstance(item, doc.StackDocument) else "prerequisites"
        problems = [((field, index), f"there is no micro-credential '{name}' in this district")
                    for index, name in enumerate(names) if name not in slugs]
        if problems:
            raise doc.DocumentError(problems, f"'{item.slug}'")
    cycle = _prerequisite_cycle(prerequisite_graph(session, district_id))
    if cycle:
        raise doc.DocumentError([(("prerequisites",), f"they form a cycle: {' → '.join(cycle)}")], "the import")


def check_titles(session: Session, district_id: int, parsed: list) -> None:
    """No two MCs (or two stacks) of a district share a title: teachers tell them apart by it. Compared
    without case, with every current version (drafts and published) of the district's other items."""
    for item in parsed:
        is_stack = isinstance(item, doc.StackDocument)
        model, version_model = (Stack, StackVersion) if is_stack else (MicroCredential, McVersion)
        owner = StackVersion.stack_id if is_stack else McVersion.mc_id
        other = session.execute(
            select(model.slug, version_model.title).join(version_model, owner == model.id)
            .where(model.district_id == district_id, model.slug != item.slug,
                   version_model.state != VersionState.SUPERSEDED,
                   func.lower(version_model.title) == item.title.strip().lower()).limit(1)).first()
        if other is not None:
            what = "stack" if is_stack else "micro-credential"
            raise doc.DocumentError([(("title",), f"another {what} already has this title: “{other.title}” "
                                                  f"({other.slug}); choose a different title")], f"'{item.slug}'")


def prerequisite_graph(session: Session, district_id: int) -> dict[str, tuple[str, ...]]:
    """Each MC's prerequisites in the district, from its newest version (draft or published)."""
    graph = {}
    for mc in session.scalars(select(MicroCredential).where(MicroCredential.district_id == district_id)
                              .options(selectinload(MicroCredential.versions))):
        if mc.versions:
            graph[mc.slug] = tuple(mc.versions[-1].document.get("prerequisites", ()))
    return graph


def _prerequisite_cycle(graph: dict[str, tuple[str, ...]]) -> list[str] | None:
    visiting, done = set(), set()

    def visit(node: str, trail: list[str]) -> list[str] | None:
        if node in visiting:
            return trail[trail.index(node):] + [node]
        if node in done:
            return None
        visiting.add(node)
        for nxt in graph.get(node, ()):
            found = visit(nxt, trail + [node])
            if found:
                return found
        visiting.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None

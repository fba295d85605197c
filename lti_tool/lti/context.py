"""Where a launch came from, typed once: the course, the resource link and what it placed, and where the
platform keeps that course's gradebook (AGS line items) and roster (NRPS).

Each launch updates a stored ``CourseContext`` and, for a resource link, its ``Placement``. Launch records
are purged after hours; these rows stay, so a completion signed off days later still knows which line item
to score and which roster to read. No claim URL is read outside this package.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, has_request_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti.claims import CLAIM, CLAIM_AGS, CLAIM_DEEP_LINKING, CLAIM_NRPS
from lti_tool.lti.models import CourseContext, FrameOrigin, Placement, Registration
from lti_tool.security import forget_frame_ancestors, origin_of

PLACED_KINDS = ("mc", "stack")


def _text(value: Any, limit: int) -> str | None:
    """A claim value as text, or None: platforms send numbers for ids; anything else is ignored, not trusted."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text[:limit] if text else None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _custom(claims: dict[str, Any]) -> dict[str, str]:
    """Custom parameters as text; Canvas sends a variable it cannot expand literally (``$Canvas.course.id``)."""
    return {str(k): text for k, v in _object(claims.get(CLAIM + "custom")).items()
            if (text := _text(v, 1000)) is not None and not text.startswith("$")}


@dataclass(frozen=True)
class LaunchContext:
    message_type: str | None
    deployment_id: str | None
    context_id: str | None
    context_title: str | None
    canvas_course_id: str | None
    canvas_user_id: str | None
    section_ids: tuple[str, ...]
    resource_link_id: str | None
    resource_link_title: str | None
    placed_kind: str | None          # "mc" or "stack": what the instructor placed with deep linking
    placed_slug: str | None
    line_items_url: str | None       # the course's line items (AGS)
    line_item_url: str | None        # this link's own column, when the link has one
    ags_scopes: tuple[str, ...]
    memberships_url: str | None      # the course roster (NRPS)
    frame_origins: tuple[str, ...] = ()  # sites the launch came from: return URL, deep-link return, services
    return_url: str | None = None    # where the platform takes the person back (launch_presentation)

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> LaunchContext:
        custom = _custom(claims)
        context, link = _object(claims.get(CLAIM + "context")), _object(claims.get(CLAIM + "resource_link"))
        ags, nrps = _object(claims.get(CLAIM_AGS)), _object(claims.get(CLAIM_NRPS))
        kind = custom.get("microcred_kind")
        scopes = ags.get("scope") if isinstance(ags.get("scope"), list) else []
        presentation, deep_linking = _object(claims.get(CLAIM + "launch_presentation")), _object(
            claims.get(CLAIM_DEEP_LINKING))
        sites = (presentation.get("return_url"), deep_linking.get("deep_link_return_url"), ags.get("lineitems"),
                 nrps.get("context_memberships_url"))
        return cls(
            message_type=_text(claims.get(CLAIM + "message_type"), 64),
            deployment_id=_text(claims.get(CLAIM + "deployment_id"), 255),
            context_id=_text(context.get("id"), 255), context_title=_text(context.get("title"), 255),
            canvas_course_id=_text(custom.get("canvas_course_id"), 64),
            canvas_user_id=_text(custom.get("canvas_user_id"), 64),
            section_ids=tuple(s.strip()[:64] for s in custom.get("canvas_section_ids", "").split(",") if s.strip()),
            resource_link_id=_text(link.get("id"), 255), resource_link_title=_text(link.get("title"), 255),
            placed_kind=kind if kind in PLACED_KINDS else None,
            placed_slug=_text(custom.get("microcred_slug"), 100) if kind in PLACED_KINDS else None,
            line_items_url=_text(ags.get("lineitems"), 1000), line_item_url=_text(ags.get("lineitem"), 1000),
            ags_scopes=tuple(s for s in scopes if isinstance(s, str)),
            memberships_url=_text(nrps.get("context_memberships_url"), 1000),
            frame_origins=tuple(dict.fromkeys(o for o in map(origin_of, sites) if o)),
            return_url=_text(presentation.get("return_url"), 1000) if origin_of(presentation.get("return_url"))
            else None,
        )


def _get_or_add(session: Session, model, lookup: dict[str, Any], **values: Any):
    """The row matching ``lookup``, made if missing; a concurrent first launch that made it wins."""
    row = session.scalar(select(model).filter_by(**lookup))
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = model(**lookup, **values)
            session.add(row)
    except IntegrityError:
        row = session.scalar(select(model).filter_by(**lookup))
    return row


def _record_frame_origins(session: Session, registration: Registration, origins: tuple[str, ...]) -> None:
    """Remember the sites this platform's launches come from: the pages there frame the tool (a Canvas on
    the district's own domain among them), so CSP ``frame-ancestors`` must name them from the next page on."""
    if not origins:
        return
    known = set(session.scalars(select(FrameOrigin.origin).where(FrameOrigin.registration_id == registration.id,
                                                                FrameOrigin.origin.in_(origins))))
    new = [o for o in origins if o not in known and len(o) <= 255]
    for origin in new:
        _get_or_add(session, FrameOrigin, {"registration_id": registration.id, "origin": origin})
    if new and has_request_context():
        forget_frame_ancestors(current_app)


def record_launch(session: Session, registration: Registration,
                  launch: LaunchContext) -> tuple[CourseContext | None, Placement | None]:
    """Update the stored course context and placement from a launch, and the sites the platform frames the
    tool from. What a launch leaves out (a course navigation launch has no line item) keeps its earlier
    value; what it sends replaces it."""
    _record_frame_origins(session, registration, launch.frame_origins)
    if launch.context_id is None or launch.deployment_id is None:
        return None, None
    now = utcnow()
    course = _get_or_add(session, CourseContext, {"registration_id": registration.id,
                                                  "deployment_id": launch.deployment_id,
                                                  "context_id": launch.context_id},
                         district_id=registration.district_id, updated_at=now)
    for name, value in (("title", launch.context_title), ("canvas_course_id", launch.canvas_course_id),
                        ("line_items_url", launch.line_items_url), ("memberships_url", launch.memberships_url)):
        if value is not None:
            setattr(course, name, value)
    if launch.ags_scopes:
        course.ags_scopes = list(launch.ags_scopes)
    course.updated_at = now
    placement = None
    if launch.resource_link_id is not None:
        placement = _get_or_add(session, Placement, {"course_context_id": course.id,
                                                     "resource_link_id": launch.resource_link_id}, updated_at=now)
        for name, value in (("title", launch.resource_link_title), ("kind", launch.placed_kind),
                            ("slug", launch.placed_slug), ("line_item_url", launch.line_item_url)):
            if value is not None:
                setattr(placement, name, value)
        placement.updated_at = now
    session.flush()
    return course, placement


def placed_item(session: Session, actor) -> tuple[str, str] | None:
    """(kind, slug) of what the actor's resource link placed, if the actor may read it now; else None."""
    from lti_tool.catalog import offer
    from lti_tool.errors import MicrocredError

    placement = session.get(Placement, actor.placement_id) if actor.placement_id else None
    if placement is None or placement.kind not in PLACED_KINDS or not placement.slug:
        return None
    try:
        (offer.mc_page if placement.kind == "mc" else offer.stack_page)(session, actor, placement.slug)
    except MicrocredError:  # retired since, or not in this person's catalog
        return None
    return placement.kind, placement.slug

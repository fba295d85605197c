"""Deep linking: an instructor places an MC or a stack in the course as a graded assignment.

The response is an ``ltiResourceLink`` with a ``lineItem`` (scoreMaximum, label, tag, resourceId) and
custom parameters naming what was placed, signed with the tool's current key by pylti1p3's ``DeepLink``.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from sqlalchemy.orm import Session

from lti_tool.errors import BadRequest, Forbidden
from lti_tool.lti.actor import Actor
from lti_tool.lti.claims import CLAIM_DEEP_LINKING
from lti_tool.lti.models import LaunchRecord, Registration
from lti_tool.lti.toolconf import DbToolConf

LINE_ITEM_TAG = "microcred"
SCORE_MAXIMUM = 1.0  # complete / not yet: the gradebook shows 1/1 when the MC is awarded


@dataclass(frozen=True)
class Placeable:
    kind: str   # "mc" or "stack"
    slug: str
    title: str
    summary: str

    @property
    def resource_id(self) -> str:
        return f"{self.kind}:{self.slug}"


def choices(session: Session, actor: Actor) -> tuple[Placeable, ...]:
    """What this instructor may place: the published stacks and MCs their catalog view shows."""
    from lti_tool.catalog.offer import catalog_for

    _require_placer(actor)
    return tuple(Placeable(e.kind, e.slug, e.title, e.summary) for e in catalog_for(session, actor))


def _require_placer(actor: Actor) -> None:
    if not (actor.is_facilitator or actor.is_district_admin) or actor.test_user:
        raise Forbidden(_l("Only a course instructor can place micro-credentials in a course."))


def settings(record: LaunchRecord) -> dict:
    data = record.claims.get(CLAIM_DEEP_LINKING)
    if not isinstance(data, dict) or not data.get("deep_link_return_url"):
        raise BadRequest(_l("This page only works from an assignment or link picker in Canvas."),
                         hint="The launch is not a deep-linking request.")
    return data


class ChoiceRefused(BadRequest):
    """What the instructor ticked cannot be placed: the picker shows the reason beside the list."""


def build_response(session: Session, actor: Actor, record: LaunchRecord, selected: list[str],
                   launch_url: str) -> tuple[str, str]:
    """Return (deep_link_return_url, signed JWT) for the selected resource ids."""
    _require_placer(actor)
    dl_settings = settings(record)
    by_id = {p.resource_id: p for p in choices(session, actor)}
    picked = [by_id[r] for r in selected if r in by_id]
    if not picked or len(picked) != len(selected):
        raise ChoiceRefused(_l("Choose at least one micro-credential or stack from the list."))
    if len(picked) > 1 and str(dl_settings.get("accept_multiple", "false")).lower() != "true":
        raise ChoiceRefused(_l("This Canvas picker accepts one item: choose just one."))
    if "ltiResourceLink" not in (dl_settings.get("accept_types") or []):
        raise BadRequest(_l("This Canvas placement does not accept links to activities."),
                         hint="The platform's accept_types lacks ltiResourceLink.")
    resources = []
    for item in picked:
        line_item = (LineItem().set_label(item.title).set_score_maximum(SCORE_MAXIMUM)
                     .set_resource_id(item.resource_id).set_tag(LINE_ITEM_TAG))
        resources.append(DeepLinkResource().set_type("ltiResourceLink").set_title(item.title).set_url(launch_url)
                         .set_custom_params({"microcred_kind": item.kind, "microcred_slug": item.slug})
                         .set_lineitem(line_item))
    registration = DbToolConf(session).wrap(session.get(Registration, record.registration_id))
    deep_link = DeepLink(registration, actor.deployment_id, dl_settings)
    return dl_settings["deep_link_return_url"], deep_link.get_response_jwt(resources)

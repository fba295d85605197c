"""The practice platform's Names and Role Provisioning Services (NRPS 2.0), as Canvas answers it.

Only active memberships are listed (Canvas leaves ended enrollments out), optionally only those with a
``role``; ``limit`` pages at most 50 with ``Link: <...>; rel="next"``; with ``rlid`` (a link in this course)
each member carries a ``message`` with the launch's custom parameters, which is how Canvas hands out its
own user ids.
"""
from __future__ import annotations

from flask import Blueprint, request

from lti_tool.practice import personas as people
from lti_tool.practice.api import ServiceError, answer, authorize, page_of
from lti_tool.practice.platform import CLAIM, NRPS_SCOPE, issuer
from lti_tool.practice.store import store

bp = Blueprint("practice_nrps", __name__, url_prefix="/practice/nrps")
MEMBERSHIPS_MEDIA = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError):
    return error.response()


def _member(persona: people.Persona, rlid: str | None) -> dict:
    member = {"status": "Active", "name": persona.name, "given_name": persona.given_name,
              "family_name": persona.family_name, "user_id": persona.subject, "roles": persona.membership_roles}
    if persona.email:
        member["email"] = persona.email
    if rlid:
        member["message"] = [{CLAIM + "message_type": "LtiResourceLinkRequest",
                              CLAIM + "custom": {"canvas_user_id": persona.canvas_user_id,
                                                 "canvas_course_id": people.CANVAS_COURSE_ID}}]
    return member


@bp.get("/members")
def members():
    authorize(NRPS_SCOPE)
    rlid = request.args.get("rlid") or None
    if rlid and rlid != people.NAVIGATION_LINK_ID and rlid not in store().links:
        raise ServiceError(400, "Tool does not have access to rlid or rlid does not exist")
    url = f"{issuer()}/nrps/members"
    role = request.args.get("role") or None  # a full role URI, or its short form ("Learner")
    active = [_member(p, rlid) for p in people.ROSTER if p.active and (
        role is None or any(role in (r, r.rsplit("#", 1)[-1]) for r in p.membership_roles))]
    chunk, headers = page_of(active, url)
    body = {"id": request.url, "context": {"id": people.CONTEXT_ID, "label": people.COURSE_LABEL,
                                           "title": people.COURSE_TITLE}, "members": chunk}
    return answer(body, media_type=MEMBERSHIPS_MEDIA, headers=headers)

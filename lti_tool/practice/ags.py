"""The practice platform's Assignment and Grade Services, with Canvas's rules (shared/notes/canvas-lti.md).

- Line items: ``scoreMaximum`` (a number, 0 or more) and ``label`` required (400); a ``resourceLinkId`` must
  name a placed link (404); the list filters by ``resource_id``, ``tag``, ``resource_link_id`` and pages.
- Scores (``application/vnd.ims.lis.v1.score+json``): ``userId, activityProgress, gradingProgress,
  timestamp`` required (400); a user who is not an active student — Student View, staff, not enrolled —
  422; ``scoreGiven`` without ``scoreMaximum`` 422; a timestamp older than the last score's 400.
- Deep linking places items here too (``place_items``), so their line items are the tool's to grade.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, request

from lti_tool.errors import BadRequest
from lti_tool.practice import personas as people
from lti_tool.practice.api import ServiceError, answer, authorize, json_body, page_of
from lti_tool.practice.platform import LINEITEM, LINEITEM_READONLY, RESULT_READONLY, SCORE, issuer
from lti_tool.practice.store import PlacedLink, store

bp = Blueprint("practice_ags", __name__, url_prefix="/practice/ags")
LINEITEM_MEDIA = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_MEDIA = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_MEDIA = "application/vnd.ims.lis.v1.score+json"
RESULTS_MEDIA = "application/vnd.ims.lis.v2.resultcontainer+json"
ACTIVITY = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
GRADING = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}
FILTERS = (("resource_id", "resourceId"), ("tag", "tag"), ("resource_link_id", "resourceLinkId"))


def lineitems_url() -> str:
    return f"{issuer()}/ags/lineitems"


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError):
    return error.response()


def _line_item_problem(data: dict[str, Any]) -> str | None:
    maximum = data.get("scoreMaximum")
    if isinstance(maximum, bool) or not isinstance(maximum, (int, float)) or maximum < 0:
        return "scoreMaximum is required: a number, 0 or more"
    if not isinstance(data.get("label"), str) or not data["label"].strip():
        return "label is required"
    return None


@bp.get("/lineitems")
def list_line_items():
    authorize(LINEITEM, LINEITEM_READONLY)
    wanted = {key: request.args[name] for name, key in FILTERS if request.args.get(name)}
    items = [item for item in store().line_items.values() if all(item.get(k) == v for k, v in wanted.items())]
    chunk, headers = page_of(items, lineitems_url())
    return answer(chunk, media_type=CONTAINER_MEDIA, headers=headers)


@bp.post("/lineitems")
def create_line_item():
    authorize(LINEITEM)
    data = json_body(LINEITEM_MEDIA)
    problem = _line_item_problem(data)
    if problem:
        raise ServiceError(400, problem)
    if data.get("resourceLinkId") and data["resourceLinkId"] not in store().links:
        raise ServiceError(404, "The specified resource does not exist.")
    return answer(store().add_line_item(lineitems_url(), data), media_type=LINEITEM_MEDIA, status=201)


def _line_item(item_id: str) -> dict[str, Any]:
    item = store().line_items.get(item_id)
    if item is None:
        raise ServiceError(404, "The specified resource does not exist.")
    return item


@bp.get("/lineitems/<item_id>")
def get_line_item(item_id: str):
    authorize(LINEITEM, LINEITEM_READONLY)
    return answer(_line_item(item_id), media_type=LINEITEM_MEDIA)


def _moment(value: Any, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise ServiceError(400, f"Provided {name} of {value} not a valid timestamp") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@bp.post("/lineitems/<item_id>/scores")
def post_score(item_id: str):
    authorize(SCORE)
    _line_item(item_id)
    score = json_body(SCORE_MEDIA)
    for name in ("userId", "activityProgress", "gradingProgress", "timestamp"):
        if score.get(name) in (None, ""):
            raise ServiceError(400, f"param is missing or the value is empty: {name}")
    if score["activityProgress"] not in ACTIVITY or score["gradingProgress"] not in GRADING:
        raise ServiceError(400, "activityProgress or gradingProgress is not a value AGS defines")
    member = people.by_subject(str(score["userId"]))
    if member is None or not member.is_student:
        raise ServiceError(422, "User not found in course or is not a student")
    if score.get("scoreGiven") is not None and score.get("scoreMaximum") is None:
        raise ServiceError(422, "ScoreMaximum not supplied when ScoreGiven present.")
    when = _moment(score["timestamp"], "timestamp")
    last = store().last_score(item_id, member.subject)
    if last is not None and when < _moment(last["timestamp"], "timestamp"):
        raise ServiceError(400, f"Provided timestamp of {score['timestamp']} before last updated timestamp "
                                f"of {last['timestamp']}")
    number = store().record_score(item_id, member.subject, score)
    return answer({"resultUrl": f"{lineitems_url()}/{item_id}/results/{number}"}, media_type="application/json")


@bp.get("/lineitems/<item_id>/results")
def results(item_id: str):
    authorize(RESULT_READONLY)
    item = _line_item(item_id)
    rows = [{"id": f"{item['id']}/results/{len(history)}", "scoreOf": item["id"], "userId": user_id,
             "resultScore": history[-1].get("scoreGiven"), "resultMaximum": history[-1].get("scoreMaximum"),
             "comment": history[-1].get("comment")}
            for (scored_item, user_id), history in store().scores.items() if scored_item == item_id and history]
    chunk, headers = page_of(rows, f"{item['id']}/results")
    return answer(chunk, media_type=RESULTS_MEDIA, headers=headers)


def check_items(items: list[dict[str, Any]]) -> None:
    """Raise a ``BadRequest`` naming the first deep-linking item this platform cannot place."""
    for item in items:
        line_item = item.get("lineItem")
        problem = (_line_item_problem({"label": item.get("title"), **line_item}) if isinstance(line_item, dict)
                   else None if line_item is None else "lineItem must be an object")
        custom = item.get("custom") or {}
        if problem or not isinstance(custom, dict):
            raise BadRequest("The tool's deep-linking response has an item this platform cannot place.",
                             hint=f"Item {item.get('title')!r}: {problem or 'custom must be an object'}.")


def place_items(items: list[dict[str, Any]], placed_by: people.Persona) -> list[tuple[PlacedLink, dict | None]]:
    """Deep linking: each ``ltiResourceLink`` becomes an assignment; its ``lineItem`` a gradebook column.
    Everything is checked before anything is placed."""
    check_items(items)
    placed = []
    for item in items:
        link = store().place(title=str(item.get("title") or "Micro-credential"), url=str(item.get("url") or ""),
                             custom={str(k): str(v) for k, v in (item.get("custom") or {}).items()},
                             placed_by=placed_by.key)
        line_item = None
        if isinstance(item.get("lineItem"), dict):
            line_item = store().add_line_item(lineitems_url(), {"label": link.title, **item["lineItem"],
                                                                "resourceLinkId": link.id})
            link.line_item_id = line_item["id"].rsplit("/", 1)[-1]
        placed.append((link, line_item))
    return placed

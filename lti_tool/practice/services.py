"""The practice LMS's Assignment and Grade Services and Names and Role Provisioning Services endpoints.

They follow Canvas's rules closely enough to exercise the tool's clients: bearer tokens from the practice
token endpoint with the scope each call needs; line items need ``scoreMaximum`` and ``label``; a score needs
``userId``, ``activityProgress``, ``gradingProgress`` and ``timestamp``, is refused for Student View and staff
(422), for ``scoreGiven`` without ``scoreMaximum`` (422) and for a timestamp older than the last one (400);
lists are paged with ``limit`` (at most 50) and ``Link: <…>; rel="next"``. Data lives in memory per app: it
is a practice platform, not a store.
"""
from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for

from lti_tool.practice.platform import AGS_SCOPES, CONTEXT_ID, NRPS_SCOPE, PERSONAS, PracticeConf, issuer, subject

bp = Blueprint("practice_services", __name__, url_prefix="/practice")
LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


class Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.line_items: dict[str, dict[str, Any]] = {}
        self.scores: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.placed: list[dict[str, Any]] = []
        self.jwks_hits = 0


def store() -> Store:
    return current_app.extensions.setdefault("practice_store", Store())


def _problem(status: int, message: str):
    return jsonify(errors=[{"message": message}]), status


def _authorize(*needed: str) -> bool:
    """The bearer token is the practice platform's own, unexpired, and carries one of ``needed``."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return False
    conf = PracticeConf()
    conf.get_registration()
    try:
        return conf.validate_token(header[7:], allowed_scopes=list(needed))
    except Exception:  # lti1p3platform raises jwt errors and its own LtiException for bad tokens
        return False


def _page(items: list[Any], endpoint: str, **values):
    limit = min(int(request.args.get("limit", 50) or 50), 50)
    page = max(int(request.args.get("page", 1) or 1), 1)
    chunk = items[(page - 1) * limit: page * limit]
    headers = {}
    if page * limit < len(items):
        next_url = url_for(endpoint, _external=False, **values, **{**request.args.to_dict(), "page": page + 1,
                                                                      "limit": limit})
        headers["Link"] = f'<{current_app.config["TOOL_BASE_URL"]}{next_url}>; rel="next"'
    return chunk, headers


def _item_url(item_id: str) -> str:
    return f"{issuer()}/ags/lineitems/{item_id}"


@bp.get("/ags/lineitems")
def list_line_items():
    if not _authorize(AGS_SCOPES[0], AGS_SCOPES[1]):
        return _problem(401, "Invalid access token or scope")
    items = [i for i in store().line_items.values()
             if all(not request.args.get(k) or i.get(f) == request.args[k]
                    for k, f in (("resource_id", "resourceId"), ("tag", "tag"), ("resource_link_id", "resourceLinkId")))]
    chunk, headers = _page(items, "practice_services.list_line_items")
    response = jsonify(chunk)
    response.headers.update(headers)
    response.mimetype = LINEITEMS
    return response


def create_line_item(data: dict[str, Any]) -> dict[str, Any]:
    data_store = store()
    with data_store.lock:
        item_id = str(len(data_store.line_items) + 1)
        item = {"id": _item_url(item_id), "scoreMaximum": data["scoreMaximum"], "label": data["label"],
                **{k: data[k] for k in ("resourceId", "tag", "resourceLinkId") if data.get(k)}}
        data_store.line_items[item_id] = item
    return item


@bp.post("/ags/lineitems")
def post_line_item():
    if not _authorize(AGS_SCOPES[0]):
        return _problem(401, "Invalid access token or scope")
    data = request.get_json(force=True, silent=True) or {}
    if not isinstance(data.get("scoreMaximum"), (int, float)) or not data.get("label"):
        return _problem(400, "scoreMaximum and label are required")
    response = jsonify(create_line_item(data))
    response.status_code, response.mimetype = 201, LINEITEM
    return response


@bp.get("/ags/lineitems/<item_id>")
def get_line_item(item_id: str):
    if not _authorize(AGS_SCOPES[0], AGS_SCOPES[1]):
        return _problem(401, "Invalid access token or scope")
    item = store().line_items.get(item_id)
    return (jsonify(item), 200) if item else _problem(404, "The specified resource does not exist.")


@bp.post("/ags/lineitems/<item_id>/scores")
def post_score(item_id: str):
    if not _authorize(AGS_SCOPES[3]):
        return _problem(401, "Invalid access token or scope")
    item = store().line_items.get(item_id)
    if item is None:
        return _problem(404, "The specified resource does not exist.")
    score = request.get_json(force=True, silent=True) or {}
    missing = [k for k in ("userId", "activityProgress", "gradingProgress", "timestamp") if not score.get(k)]
    if missing:
        return _problem(400, f"Missing required: {', '.join(missing)}")
    learners = {subject(p) for p in PERSONAS.values() if p.key in ("teacher", "teacher2")}
    if score["userId"] not in learners:
        return _problem(422, "User not found in course or is not a student")
    if "scoreGiven" in score and "scoreMaximum" not in score:
        return _problem(422, "ScoreMaximum must be present when ScoreGiven is present")
    try:
        when = datetime.fromisoformat(score["timestamp"])
    except ValueError:
        return _problem(400, "Provided timestamp is not valid")
    history = store().scores.setdefault((item_id, score["userId"]), [])
    if history and when < datetime.fromisoformat(history[-1]["timestamp"]):
        return _problem(400, "Provided timestamp of ... before last updated timestamp")
    history.append(score)
    return jsonify(resultUrl=f"{_item_url(item_id)}/results/{len(history)}"), 200


@bp.get("/nrps/members")
def members():
    if not _authorize(NRPS_SCOPE):
        return _problem(401, "Invalid access token or scope")
    everyone = [{"status": "Active", "name": p.name, "email": p.email or None, "user_id": subject(p),
                 "roles": [r for r in p.roles if "/membership" in r]} for p in PERSONAS.values()]
    chunk, headers = _page(everyone, "practice_services.members")
    response = jsonify(id=request.url, context={"id": CONTEXT_ID, "title": "PD course"}, members=chunk)
    response.headers.update(headers)
    response.mimetype = MEMBERSHIPS
    return response

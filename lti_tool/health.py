"""``GET /healthz``: the database answers and its schema is at the migrations' head."""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from lti_tool import db
from lti_tool.migrate import current_revisions, head_revisions

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    checks: dict[str, str] = {}
    try:
        with db.engine().connect() as connection:
            connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
            current = current_revisions(connection)
    except SQLAlchemyError as error:
        log.warning("health check: database unreachable", extra={"error": type(error).__name__})
        return jsonify(status="unavailable", database="unreachable"), 503
    head = head_revisions()
    checks["migrations"] = "head" if current == head else "behind"
    ok = checks["migrations"] == "head"
    body = {"status": "ok" if ok else "unavailable", **checks}
    if not ok:
        body["hint"] = "Run: flask --app wsgi db upgrade"
    response = jsonify(body)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response

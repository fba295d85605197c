"""One exception hierarchy and the one place that renders errors.

Raise a ``MicrocredError`` subclass for anything a user or an installer can fix: it becomes a 4xx page
(or 502/503 when a platform such as Canvas failed) inside the Canvas iframe, or JSON for API callers, with
the class's message and an optional hint. Anything
else is a bug: a 500 page with a reference number, the traceback only in the log.
"""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class MicrocredError(Exception):
    """Base of every expected error. Subclasses set ``status`` and a default ``message``."""

    status = 400
    code = "bad_request"
    message = "The request could not be handled."

    def __init__(self, message: str | None = None, *, hint: str | None = None) -> None:
        self.message = message or self.message
        self.hint = hint
        super().__init__(self.message)


class BadRequest(MicrocredError):
    status, code, message = 400, "bad_request", "Something in the request was not right."


class NotAuthenticated(MicrocredError):
    status, code, message = 401, "not_authenticated", "Please open Microcred from your course in Canvas."


class Forbidden(MicrocredError):
    status, code, message = 403, "forbidden", "Your role does not allow this."


class NotFound(MicrocredError):
    status, code, message = 404, "not_found", "That page or record does not exist."


class Conflict(MicrocredError):
    status, code, message = 409, "conflict", "Someone changed this in the meantime. Reload and try again."


class TooLarge(MicrocredError):
    status, code, message = 413, "too_large", "That file is larger than this site accepts."


class ServiceUnavailable(MicrocredError):
    status, code, message = 503, "unavailable", "Microcred is not ready. Please try again shortly."


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def render_error(status: int, code: str, message: str, hint: str | None = None):
    request_id = g.get("request_id")
    if wants_json():
        body = {"error": code, "message": message, "request_id": request_id}
        if hint:
            body["hint"] = hint
        return jsonify(body), status
    return render_template("error.html", status=status, code=code, message=message, hint=hint,
                           request_id=request_id), status


def init_app(app: Flask) -> None:
    @app.errorhandler(MicrocredError)
    def _expected(error: MicrocredError):
        log.info("request refused", extra={"status": error.status, "error_code": error.code})
        return render_error(error.status, error.code, error.message, error.hint)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        status = error.code or 500
        messages = {
            404: "That page does not exist.",
            405: "That action is not available here.",
        }
        code = (error.name or "error").lower().replace(" ", "_")
        if status == 413:
            limit = request.max_content_length
            size = f" (at most {limit / 1048576:g} MB here)" if limit else ""
            return render_error(status, code, f"That is more than Microcred accepts in one request{size}.",
                                hint="Send smaller or fewer files at a time. If this came from your LMS, "
                                     "give your IT team the reference number below.")
        return render_error(status, code, messages.get(status, error.description or error.name))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # The request session is rolled back by db.init_app's after_request (status >= 400).
        log.exception("unhandled error")
        return render_error(500, "internal_error",
                            "Something went wrong on our side. Nothing you entered was lost; please try again.",
                            hint="If it keeps happening, give your IT team the reference number below.")

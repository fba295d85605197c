"""One exception hierarchy and the one place that renders errors.

Raise a ``MicrocredError`` subclass for anything a user or an installer can fix: it becomes a 4xx page
(or 502/503 when a platform such as Canvas failed) inside the Canvas iframe, or JSON for API callers, with
the class's message and an optional hint. Anything
else is a bug: a 500 page with a reference number, the traceback only in the log.

Messages speak the page's language: class-level messages are ``lazy_gettext`` strings, translated when the
page renders; so is any message or hint raised as one. A plain string (a hint meant for district IT, which
names protocol fields and commands and matches the log and the install guide) is shown as written, marked
``lang="en"`` on a page in another language. JSON keeps its ``error`` code in English for programs.
"""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from flask_babel import format_decimal, get_locale, get_translations, gettext as _, lazy_gettext as _l
from flask_babel.speaklater import LazyString
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class MicrocredError(Exception):
    """Base of every expected error. Subclasses set ``status`` and a default ``message``."""

    status = 400
    code = "bad_request"
    message: str | LazyString = _l("The request could not be handled.")

    def __init__(self, message: str | LazyString | None = None, *, hint: str | LazyString | None = None) -> None:
        self.message = message or self.message
        self.hint = hint
        super().__init__(self.message)


class BadRequest(MicrocredError):
    status, code, message = 400, "bad_request", _l("Something in the request was not right.")


class NotAuthenticated(MicrocredError):
    status, code, message = 401, "not_authenticated", _l("Please open Microcred from your course in Canvas.")


class Forbidden(MicrocredError):
    status, code, message = 403, "forbidden", _l("Your role does not allow this.")


class NotFound(MicrocredError):
    status, code, message = 404, "not_found", _l("That page or record does not exist.")


class Conflict(MicrocredError):
    status, code, message = 409, "conflict", _l("Someone changed this in the meantime. Reload and try again.")


class TooLarge(MicrocredError):
    status, code, message = 413, "too_large", _l("That file is larger than this site accepts.")


class ServiceUnavailable(MicrocredError):
    status, code, message = 503, "unavailable", _l("Microcred is not ready. Please try again shortly.")


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _shown(text: str | LazyString | None) -> tuple[str | None, str | None]:
    """(the text in the page's language, its ``lang`` when it stays English on a page in another language).

    A plain string is looked up in the catalog as it is (a service may raise a message the catalog knows)."""
    if text is None or isinstance(text, LazyString):
        return (str(text) if text is not None else None), None
    translated = get_translations().ugettext(text)
    locale = get_locale()
    english = translated == text and locale is not None and locale.language != "en"
    return translated, "en" if english else None


def render_error(status: int, code: str, message: str | LazyString, hint: str | LazyString | None = None):
    request_id = g.get("request_id")
    message, message_lang = _shown(message)
    hint, hint_lang = _shown(hint)
    if wants_json():
        body = {"error": code, "message": message, "request_id": request_id}
        if hint:
            body["hint"] = hint
        return jsonify(body), status
    return render_template("error.html", status=status, code=code, message=message, hint=hint,
                           message_lang=message_lang, hint_lang=hint_lang, request_id=request_id), status


def init_app(app: Flask) -> None:
    @app.errorhandler(MicrocredError)
    def _expected(error: MicrocredError):
        log.info("request refused", extra={"status": error.status, "error_code": error.code})
        return render_error(error.status, error.code, error.message, error.hint)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        status = error.code or 500
        messages = {
            400: _("Something in the request was not right."),
            401: _("Please open Microcred from your course in Canvas."),
            403: _("Your role does not allow this."),
            404: _("That page does not exist."),
            405: _("That action is not available here."),
            429: _("Too many requests right now. Please wait a minute and try again."),
        }
        code = (error.name or "error").lower().replace(" ", "_")
        if status == 413:
            limit = request.max_content_length
            message = (_("That is more than Microcred accepts in one request (at most %(size)s MB here).",
                         size=format_decimal(round(limit / 1048576, 2))) if limit
                       else _("That is more than Microcred accepts in one request."))
            return render_error(status, code, message,
                                hint=_("Send smaller or fewer files at a time. If this came from your LMS, "
                                       "give your IT team the reference number below."))
        return render_error(status, code, messages.get(status, error.description or error.name))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # The request session is rolled back by db.init_app's after_request (status >= 400).
        log.exception("unhandled error")
        return render_error(500, "internal_error",
                            _("Something went wrong on our side. Nothing you entered was lost; please try again."),
                            hint=_("If it keeps happening, give your IT team the reference number below."))

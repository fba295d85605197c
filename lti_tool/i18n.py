"""Languages: English (the source) and Spanish, with Flask-Babel.

Which language a page speaks, in order: the person's choice on the language switch, kept with their
session and on the person (``User.preferred_locale``: later launches start in it); else the launch's locale
(``lti.session.build_actor`` stores it on the actor); else, with no
session (the welcome page, an error before a launch), the browser's ``Accept-Language``; else English.
A locale is kept as a language and a territory, ``es_MX`` from ``es-MX``: translations come from the
language's catalog (``translations/es``), dates and numbers follow the territory. A bare ``es`` or ``en``
gets the United States' conventions (the districts Microcred serves), so Spanish pages write 1,234.5 and
not 1.234,5. The practice LMS, a developer stand-in, is English only.

Strings are marked with ``_`` (``gettext``) where they are used in a request and ``_l`` (``lazy_gettext``)
where they are defined at import time (an error class's ``message``); ``make translations`` extracts,
merges and compiles them. The compiled ``.mo`` files are committed: the app starts with no compile step.
"""
from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask import Blueprint, Flask, g, has_request_context, redirect, request
from flask_babel import (Babel, format_date, format_datetime, format_decimal, format_number, format_percent,
                         get_locale, gettext as _, lazy_gettext as _l, refresh)
from sqlalchemy.exc import SQLAlchemyError

from lti_tool import db
from lti_tool.errors import BadRequest
from lti_tool.lti.session import (SESSION_COOKIE, SESSION_PARAM, load_session, remember_locale, requires_actor,
                                  session_url)

LANGUAGES = {"en": "English", "es": "Español"}  # each language in its own words, as the switch shows them
DEFAULT_TERRITORY = "US"
_MAX_TAG = 35   # longer than any real language tag (RFC 5646 advises supporting 35 characters)
_MAX_NEXT = 2048

bp = Blueprint("i18n", __name__)

__all__ = ["LANGUAGES", "_", "_l", "init_app", "normalize", "select_locale"]


def normalize(tag: object) -> str | None:
    """``es-MX`` → ``es_MX``, ``es`` → ``es_US``; None for a language Microcred does not speak or a tag that is
    not one (``*``, ``x-klingon``, a 5,000-character string)."""
    if not isinstance(tag, str) or not tag.strip() or len(tag) > _MAX_TAG:
        return None
    try:
        parsed = Locale.parse(tag.strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    if parsed.language not in LANGUAGES:
        return None
    territory = parsed.territory or DEFAULT_TERRITORY
    try:
        return str(Locale(parsed.language, territory))
    except UnknownLocaleError:
        return str(Locale(parsed.language, DEFAULT_TERRITORY))


def _session_locale() -> str | None:
    """The locale kept with this request's tool session, if it has one. The session is loaded here when no
    view has loaded it yet (an error page raised before ``requires_actor``); a database that cannot answer
    (the 500 page of a failed transaction) leaves the choice to the browser."""
    if "tool_session" not in g:
        # Only the cookie or the query string: reading a form here could raise again inside a 413 page.
        if not (request.cookies.get(SESSION_COOKIE) or request.args.get(SESSION_PARAM)):
            return None
        try:
            load_session(db.session())
        except SQLAlchemyError:
            return None
    row = g.get("tool_session")
    return normalize((row.actor or {}).get("locale")) if row is not None else None


def _browser_locale() -> str | None:
    for tag, _quality in list(request.accept_languages)[:10]:  # best first
        found = normalize(tag)
        if found:
            return found
    return None


def select_locale() -> str | None:
    """Flask-Babel's locale selector (asked once per request, on the first string translated)."""
    if not has_request_context():
        return None   # command line and worker: English
    if (request.blueprint or "").startswith("practice"):
        return None   # the practice LMS stands in for Canvas and speaks English
    return _session_locale() or _browser_locale()


def current_language() -> str:
    """The page's language as a BCP 47 tag for ``<html lang>``: ``es-MX``, ``en-US``."""
    locale = get_locale()
    if locale is None:
        return "en"
    return locale.language + (f"-{locale.territory}" if locale.territory else "")


def _local_path(target: str | None) -> str | None:
    """A path on this site to return to after switching language, or None: never another site (``//host``,
    ``/\\host``, ``https://...``), never a header-splitting newline."""
    if not target or len(target) > _MAX_NEXT or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ch in target for ch in "\r\n\t\\") or any(ord(ch) < 32 for ch in target):
        return None
    return target


@bp.post("/language")
@requires_actor
def set_language():
    """The language switch: keep the person's choice with their session and go back to the page they were on.

    Choosing the language already shown keeps its territory (a Mexican launch stays ``es_MX``)."""
    chosen = request.form.get("locale", "")
    if chosen not in LANGUAGES:
        raise BadRequest(_l("Choose English or Spanish."))
    current = get_locale()
    locale = str(current) if current is not None and current.language == chosen else normalize(chosen)
    remember_locale(db.session(), locale)
    refresh()
    return redirect(_local_path(request.form.get("next")) or session_url("home.index"), code=303)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en_" + DEFAULT_TERRITORY)
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        current_language=current_language, languages=LANGUAGES, format_date=format_date,
        format_datetime=format_datetime, format_number=format_number, format_decimal=format_decimal,
        format_percent=format_percent)

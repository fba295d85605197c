"""Structured logs: JSON lines in production, readable text in development.

The rule is never to log names, emails or launch payloads. As a second line of defence every record
passes through ``RedactFilter``, which masks anything shaped like an email address or a JWT, and the row
values PostgreSQL quotes in constraint errors; tracebacks are redacted the same way when formatted.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, g, request

# Any local@host, dotted or not (``a@b`` too): a false positive costs a masked word, a miss a person's address.
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)*")
_JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*")
# PostgreSQL's error details quote row values ("Key (issuer, subject)=(…, …) already exists", "Failing row
# contains (…)"); engines hide statement parameters, these are masked here.
_ROW_VALUES = re.compile(r"(\bKey \([^)]*\)=\().*?(\) (?:already exists|is not present|conflicts))|"
                         r"(\bFailing row contains \().*(\))")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _mask_row(match: re.Match) -> str:
    head, tail = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    return f"{head}[values]{tail}"


def redact(text: str) -> str:
    return _ROW_VALUES.sub(_mask_row, _JWT.sub("[token]", _EMAIL.sub("[email]", text)))


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from flask import has_request_context

        record.request_id = g.get("request_id") if has_request_context() else None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and v is not None})
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD and v is not None)
        line = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {record.name}: {record.getMessage()}"
        line = f"{line} [{extras}]" if extras else line
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


def configure(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if app.config["LOG_FORMAT"] == "json" else TextFormatter())
    handler.addFilter(RedactFilter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger("lti_tool")
    for old in [h for h in root.handlers if getattr(h, "_microcred", False)]:
        root.removeHandler(old)
    handler._microcred = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    root.propagate = app.config.get("TESTING", False)  # tests read records through caplog

    # The development server's own request line includes query strings (login hints, session tokens):
    # our access log above replaces it.
    if app.config["LOG_LEVEL"] != "DEBUG":
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    access = logging.getLogger("lti_tool.access")

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if re.fullmatch(r"[\w-]{8,64}", incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _access_log(response):
        # Path only: query strings may carry login hints and tokens.
        elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        access.info("request", extra={"method": request.method, "path": request.path,
                                      "status": response.status_code, "ms": round(elapsed, 1)})
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

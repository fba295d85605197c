"""Reading numbers and JSON from requests without letting odd input become a 500.

Python is generous where a web form should not be: ``"²".isdigit()`` is true but ``int("²")`` raises,
``int("٣")`` is 3, ``int()`` refuses more than 4,300 digits, and ``json.loads`` accepts ``NaN`` and recurses
until a ``RecursionError``. These helpers accept plain input only and refuse the rest with a ``BadRequest``
whose message names the field.
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask_babel import lazy_gettext as _l

from lti_tool.errors import BadRequest

DB_INT_MIN, DB_INT_MAX = -2 ** 31, 2 ** 31 - 1  # what an INTEGER column holds on PostgreSQL
MAX_JSON_DIGITS = 15  # longer integers in JSON are refused; no field of ours needs more
_REQUIRED: Any = object()
_WHOLE = re.compile(r"(-?)0*([0-9]+)")  # ASCII digits only: [0-9], never \d


def parse_int(value: str | None, *, field: str, minimum: int | None = None, maximum: int | None = None,
              default: Any = _REQUIRED) -> int | Any:
    """A whole number typed in a form or query string, written with the ASCII digits 0-9.

    Blank returns ``default`` (or is refused when there is none). Bounds default to what a database INTEGER
    holds. ``field`` is the label the person saw ("Attempts"); every message names it. The messages are lazy
    strings: they speak the page's language when shown.
    """
    low = DB_INT_MIN if minimum is None else minimum
    high = DB_INT_MAX if maximum is None else maximum
    text = (value or "").strip()
    if not text:
        if default is _REQUIRED:
            raise BadRequest(_l("%(field)s is required.", field=field))
        return default
    match = _WHOLE.fullmatch(text)
    if match is None:
        raise BadRequest(_l("%(field)s must be a whole number, written with the digits 0-9.", field=field))
    sign, digits = match.groups()
    if len(digits) > len(str(max(abs(low), abs(high)))):  # decided without int(): it may be 5,000 digits
        raise BadRequest(_l("%(field)s must be %(number)s or more.", field=field, number=low) if sign
                         else _l("%(field)s must be %(number)s or less.", field=field, number=high))
    number = int(sign + digits)
    if number < low:
        raise BadRequest(_l("%(field)s must be %(number)s or more.", field=field, number=low))
    if number > high:
        raise BadRequest(_l("%(field)s must be %(number)s or less.", field=field, number=high))
    return number


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_DIGITS:
        raise BadRequest(f"the number {text[:12]}… has more than {MAX_JSON_DIGITS} digits")
    return int(text)


def _json_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise BadRequest(f"the number {text[:20]} is too large")
    return number


def _json_constant(name: str) -> None:
    raise BadRequest(f"{name} is not a number JSON allows")


def load_json(text: str, *, max_depth: int, max_values: int) -> Any:
    """``json.loads`` for text from a request: no NaN or Infinity, no integer over 15 digits, no arrays or
    objects nested more than ``max_depth`` deep, at most ``max_values`` values in all (so that what reads the
    result next, a schema validator, takes a bounded time). A syntax error is still a ``json.JSONDecodeError``
    (it knows the line and column); everything else refused is a ``BadRequest``."""
    try:
        data = json.loads(text, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant)
    except RecursionError:  # the C parser gives up near the interpreter's recursion limit
        raise BadRequest(f"the JSON is nested more than {max_depth} levels deep") from None
    check_shape(data, max_depth=max_depth, max_values=max_values)
    return data


def check_shape(value: Any, *, max_depth: int, max_values: int) -> None:
    """Refuse JSON-like data (dicts, lists, scalars) nested more than ``max_depth`` deep or holding more than
    ``max_values`` values. Iterative, and it stops at the first excess, so it costs at most ``max_values`` steps."""
    count = 0
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        count += 1
        if count > max_values:
            raise BadRequest(f"the JSON holds more than {max_values:,} values")
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                raise BadRequest(f"the JSON is nested more than {max_depth} levels deep")
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))

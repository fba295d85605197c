"""Line numbers for JSON paths, so an import error can say "tasks[1].evidence[0].type (line 57)".

The standard library's parser keeps no positions; this small scanner walks the same text and records the
line where each value starts. It assumes the text already parsed with ``json.loads``.
"""
from __future__ import annotations

import json
import re

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = ("true", "false", "null")


def value_lines(text: str) -> dict[tuple, int]:
    lines: dict[tuple, int] = {}
    newline_offsets = [m.start() for m in re.finditer("\n", text)]

    def line_of(offset: int) -> int:
        low, high = 0, len(newline_offsets)
        while low < high:
            mid = (low + high) // 2
            if newline_offsets[mid] < offset:
                low = mid + 1
            else:
                high = mid
        return low + 1

    def skip(i: int) -> int:
        return _WS.match(text, i).end()

    def value(i: int, path: tuple) -> int:
        i = skip(i)
        lines[path] = line_of(i)
        char = text[i]
        if char == "{":
            i = skip(i + 1)
            if text[i] == "}":
                return i + 1
            while True:
                key, i = json.decoder.scanstring(text, skip(i) + 1)
                i = skip(i)
                i = value(i + 1, path + (key,))  # past the colon
                i = skip(i)
                if text[i] == "}":
                    return i + 1
                i += 1  # comma
        if char == "[":
            i = skip(i + 1)
            if text[i] == "]":
                return i + 1
            index = 0
            while True:
                i = skip(value(i, path + (index,)))
                index += 1
                if text[i] == "]":
                    return i + 1
                i += 1
        if char == '"':
            return json.decoder.scanstring(text, i + 1)[1]
        for literal in _LITERALS:
            if text.startswith(literal, i):
                return i + len(literal)
        return _NUMBER.match(text, i).end()

    value(0, ())
    return lines


def describe(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"

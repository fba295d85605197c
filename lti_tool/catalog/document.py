"""The catalog document: one JSON document per micro-credential or stack (``docs/catalog.schema.json``).

``parse`` validates a document (the JSON Schema, then the rules a schema cannot say: task criteria exist,
the demonstrated level is in range, HTML within ``richtext``'s limits), sanitizes its HTML, and returns typed
objects; ``dump`` writes the
canonical form (fixed key order, two-space indent, a final newline), so export(import(x)) == x for any
canonical x. Errors name the field and its line.
"""
from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from lti_tool import inputs
from lti_tool.catalog.jsonpos import describe, value_lines
from lti_tool.catalog.richtext import ALLOWED_TAGS, problem as html_problem, sanitize  # noqa: F401 (re-exported)
from lti_tool.errors import BadRequest

FORMAT = "microcred-catalog/1"
SCHEMA_PATH = Path(__file__).resolve().parent / "catalog.schema.json"  # a link to docs/catalog.schema.json
HTML_FIELDS_MC = ("competency", "key_method", "components", "research", "submission_criteria")
MAX_JSON_DEPTH = 20  # a document nests 6 deep (tasks[].evidence[].questions[]); deeper is not a catalog document
MAX_JSON_VALUES = 10_000  # the schema's maxItems allow about 4,000; the sample documents hold about 300


Finding = tuple[tuple, str]  # (the JSON path of the value, what is wrong with it in plain words)


class DocumentError(BadRequest):
    """An import that cannot be accepted; nothing was changed. ``problems`` lists every finding as text for
    the import page ("tasks[0].title (line 9): ..."); ``findings`` keeps each one's path, for a form to put
    its message beside the field (``catalog.form_errors``). A problem given as text has the path ``()``."""

    code = "invalid_document"

    def __init__(self, problems: list[str | Finding], source: str = "document",
                 lines: dict[tuple, int] | None = None) -> None:
        self.findings: list[Finding] = [p if isinstance(p, tuple) else ((), p) for p in problems]
        self.source = source
        problems = [_where(path, lines or {}) + ": " + text if path else text for path, text in self.findings]
        self.problems = problems
        super().__init__(f"{source} was not imported: {problems[0]}" + (
            f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""), hint="; ".join(problems[:10]))


@dataclass(frozen=True)
class Level:
    label: str
    descriptor: str


@dataclass(frozen=True)
class Criterion:
    key: str
    title: str
    description: str
    levels: tuple[Level, ...]
    demonstrated_level: int

    def is_demonstrated(self, level_index: int) -> bool:
        return level_index >= self.demonstrated_level


@dataclass(frozen=True)
class EvidenceRequirement:
    """What a task asks the teacher to submit (a file, a video, a link, a reflection, a form); the teacher's
    submitted evidence is the pursuit's, not the catalog's."""

    key: str
    type: str
    label: str
    required: bool
    min_words: int | None = None
    max_words: int | None = None
    questions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    key: str
    title: str
    instructions: str
    optional: bool
    evidence: tuple[EvidenceRequirement, ...]
    criteria: tuple[str, ...]


@dataclass(frozen=True)
class McDocument:
    slug: str
    version: int
    title: str
    summary: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def tasks(self) -> tuple[Task, ...]:
        return tuple(Task(t["key"], t["title"], t["instructions"], t["optional"],
                          tuple(EvidenceRequirement(e["key"], e["type"], e["label"], e["required"],
                                                    e["min_words"], e["max_words"], tuple(e["questions"]))
                                for e in t["evidence"]),
                          tuple(t["criteria"])) for t in self.raw["tasks"])

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(Criterion(c["key"], c["title"], c["description"],
                               tuple(Level(lv["label"], lv["descriptor"]) for lv in c["levels"]),
                               c["demonstrated_level"]) for c in self.raw["rubric"]["criteria"])

    @property
    def prerequisites(self) -> tuple[str, ...]:
        return tuple(self.raw["prerequisites"])


@dataclass(frozen=True)
class StackDocument:
    slug: str
    version: int
    title: str
    summary: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(self.raw["micro_credentials"])


@lru_cache(maxsize=1)
def _validators() -> dict[str, jsonschema.protocols.Validator]:
    """One validator per document kind, so errors point into the right branch (a top-level ``oneOf`` alone
    would only say "not valid under any of the given schemas")."""
    schema = json.loads(SCHEMA_PATH.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    branches = schema.get("oneOf") or schema.get("anyOf") or [schema]
    validators = {}
    for branch in branches:
        kind = branch.get("properties", {}).get("kind", {}).get("const")
        sub = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")} | branch
        validators[kind] = cls(sub)
    return validators


def parse_text(text: str, source: str = "document") -> McDocument | StackDocument:
    try:
        data = inputs.load_json(text, max_depth=MAX_JSON_DEPTH, max_values=MAX_JSON_VALUES)
    except json.JSONDecodeError as error:
        raise DocumentError([f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"], source)
    except BadRequest as error:  # nesting, NaN, numbers too long: said before the schema or the line scanner recurses
        raise DocumentError([f"not a catalog document: {error.message}"], source) from None
    return parse(data, source, lines=value_lines(text))


def parse(data: Any, source: str = "document", lines: dict[tuple, int] | None = None) -> McDocument | StackDocument:
    lines = lines or {}

    def refuse(found: list[Finding]) -> DocumentError:
        return DocumentError(found, source, lines)

    try:  # before the schema validator, whose time grows with the number of values (and of errors)
        inputs.check_shape(data, max_depth=MAX_JSON_DEPTH, max_values=MAX_JSON_VALUES)
    except BadRequest as error:
        raise DocumentError([f"not a catalog document: {error.message}"], source) from None

    validators = _validators()
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in validators:
        raise refuse([(("kind",), f"must be one of {sorted(k for k in validators if k)}")])
    problems = []
    first_errors = itertools.islice(validators[kind].iter_errors(data), 50)  # a page lists 10; stop early
    for error in sorted(first_errors, key=lambda e: list(map(str, e.absolute_path))):
        path = tuple(error.absolute_path)
        problems.append((path, _plain(error)))
    if problems:
        raise refuse(problems)
    for path, html in _html_fields(data):  # before nh3 sees them: its time grows with size × nesting
        found = html_problem(html)
        if found:
            problems.append((path, found))
    if problems:
        raise refuse(problems)
    if data["kind"] == "stack":
        clean = dict(data, description=sanitize(data["description"]))
        return StackDocument(clean["slug"], clean["version"], clean["title"], clean["summary"], clean)

    criteria = {c["key"] for c in data["rubric"]["criteria"]}
    fed = set()
    for t_index, task in enumerate(data["tasks"]):
        for c_index, key in enumerate(task["criteria"]):
            if key not in criteria:
                problems.append((("tasks", t_index, "criteria", c_index), f"no rubric criterion '{key}'"))
            fed.add(key)
        for e_index, evidence in enumerate(task["evidence"]):
            low, high = evidence["min_words"], evidence["max_words"]
            if low is not None and high is not None and low > high:
                problems.append((("tasks", t_index, "evidence", e_index, "min_words"), "more than max_words"))
    for c_index, criterion in enumerate(data["rubric"]["criteria"]):
        if criterion["demonstrated_level"] >= len(criterion["levels"]):
            problems.append((("rubric", "criteria", c_index, "demonstrated_level"),
                             f"there are only {len(criterion['levels'])} levels"))
        if criterion["key"] not in fed:
            problems.append((("rubric", "criteria", c_index, "key"),
                             f"no task feeds criterion '{criterion['key']}'"))
    for path, items in ((("tasks",), data["tasks"]), (("rubric", "criteria"), data["rubric"]["criteria"])):
        keys = [item["key"] for item in items]
        for index, key in enumerate(keys):
            if key in keys[:index]:
                problems.append((path + (index, "key"), f"the key '{key}' is used twice; keys must be unique"))
    for field in ("resources", "alignments"):
        for index, entry in enumerate(data[field]):
            url = entry.get("url")
            if url is not None and not url.startswith(("https://", "http://")):
                problems.append(((field, index, "url"), "must be an http(s) address"))
    if data["slug"] in data["prerequisites"]:
        problems.append((("prerequisites",), "a micro-credential cannot require itself"))
    if problems:
        raise refuse(problems)
    clean = dict(data)
    for name in HTML_FIELDS_MC:
        clean[name] = sanitize(data[name])
    clean["tasks"] = [dict(t, instructions=sanitize(t["instructions"])) for t in data["tasks"]]
    return McDocument(clean["slug"], clean["version"], clean["title"], clean["summary"], clean)


def _where(path: tuple, lines: dict[tuple, int]) -> str:
    line = lines.get(path)
    return describe(path) + (f" (line {line})" if line else "")


def stored(raw: dict[str, Any]) -> McDocument | StackDocument:
    """A document as saved: it was validated and sanitised when it was imported or saved, and is shown as it
    is (a later, stricter limit does not make an old version unreadable)."""
    kind = StackDocument if raw.get("kind") == "stack" else McDocument
    return kind(raw["slug"], raw["version"], raw["title"], raw["summary"], raw)


def _html_fields(data: dict[str, Any]):
    if data["kind"] == "stack":
        yield ("description",), data["description"]
        return
    for name in HTML_FIELDS_MC:
        yield (name,), data[name]
    for index, task in enumerate(data["tasks"]):
        yield ("tasks", index, "instructions"), task["instructions"]


_KINDS = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "true or false",
          "array": "a list", "object": "an object", "null": "null"}


def _plain(error: jsonschema.ValidationError) -> str:
    """The schema's finding in plain words, never echoing a long value back (it may be megabytes) and never in
    the validator's own wording ("is not of type", "does not match '^[a-z…'")."""
    rule, limit, value = error.validator, error.validator_value, error.instance
    if rule == "additionalProperties":
        return _short(error.message.replace("Additional properties are not allowed", "unknown field(s)"))
    if rule == "required":
        return _short(error.message.replace("is a required property", "is required"))
    if rule == "type":
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]{10,}", value.strip()):
            return "is too large"
        kinds = [limit] if isinstance(limit, str) else limit
        return "must be " + " or ".join(_KINDS.get(kind, kind) for kind in kinds if kind != "null")
    if rule == "pattern" and limit == "^none$":  # window_days: a number of days or the word "none"
        return 'must be a number of days, or "none" for no window'
    if rule == "pattern":
        return "must be lowercase letters, digits and hyphens, like morning-meeting"
    if rule in ("enum", "const"):
        choices = limit if rule == "enum" else [limit]
        return "must be one of " + ", ".join(json.dumps(c) for c in choices)
    if rule == "maximum":
        return f"must be {limit:,} or less"
    if rule == "minimum":
        return f"must be {limit:,} or more"
    if rule == "minLength":
        return "must not be empty"
    if rule == "maxLength":
        return f"is {len(value):,} characters long; at most {limit:,}"
    if rule == "minItems":
        return f"needs at least {limit}"
    if rule == "maxItems":
        return f"has {len(value):,} entries; at most {limit}"
    return "is not what a catalog document holds here"


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[:limit] + "…"


def dump(document: McDocument | StackDocument | dict[str, Any]) -> str:
    """The canonical text of a document: what export writes and a round trip reproduces."""
    raw = document.raw if isinstance(document, (McDocument, StackDocument)) else document
    return json.dumps(raw, indent=2, ensure_ascii=False) + "\n"

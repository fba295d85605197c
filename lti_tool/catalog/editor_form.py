"""The district editors' forms ⇄ catalog documents (a micro-credential's, a stack's).

Field names are flat (``c0_l2_descriptor``, ``t1_e0_type``) so the form works without JavaScript; empty rows
are dropped; numbers that do not parse (letters, "²", more digits than a database integer holds) are kept as
text so the document's check names the field (``form_errors`` puts the message beside it). An empty rule field
means "the district's rule": the document then leaves that rule out. Rich text is typed as Markdown
(``markdown``) and stored as HTML; ``form_values`` is the way back, a document as the form's fields.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l

from lti_tool.catalog import markdown
from lti_tool.catalog.document import FORMAT
from lti_tool.catalog.policy import NO_WINDOW
from lti_tool.errors import BadRequest
from lti_tool.inputs import parse_int

EVIDENCE_TYPES = ("file", "video", "link", "reflection", "form")
EVIDENCE_CHOICES = (("file", _l("A file")), ("video", _l("A video")), ("link", _l("A link")),
                    ("reflection", _l("A written reflection")),
                    ("form", _l("Answers to questions")))
MARKDOWN_HINT = markdown.HINT
GRADE_BANDS = ("K-5", "6-8", "9-12", "K-12")
GRADE_CHOICES = tuple((band, band) for band in GRADE_BANDS)
LEVEL_COLUMNS = 4  # level boxes an empty criterion shows
MAX_LEVELS = 6     # the schema's maxItems for a criterion's levels
# A new criterion's level labels, in the editor's language (they become the document's text once saved).
DEFAULT_LEVELS = (_l("Not yet"), _l("Developing"), _l("Demonstrated"), _l("Exemplary"))
MAX_CREDIT = 1000  # hours or points; the schema's maximum for credit and bonus_credit
MAX_SUMMARY = 500  # characters: the schema's maxLength for a summary (and its column's), the editors' maxlength
MAX_ECHO = 40      # a refused form shows a number field's text again only up to this length
RICH_FIELDS = ("competency", "key_method", "components", "research", "submission_criteria")


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def _int(value: str | None) -> int | str | None:
    try:
        return parse_int(value, field="", default=None)
    except BadRequest:
        return value.strip()


def _list(value: str | None, sep: str = ",") -> list[str]:
    return [part.strip() for part in (value or "").split(sep) if part.strip()]


def _rows(value: str | None, names: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for line in (value or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")] + [""] * len(names)
        rows.append({name: (parts[i] or None) for i, name in enumerate(names)})
    return rows


def _indexes(form: Mapping[str, Any], pattern: str) -> list[int]:
    """Row numbers in field names (``c3_title`` → 3): one or two ASCII digits, far more rows than a document
    holds; other names, such as ``c²_title`` or a 5,000-digit row, are ignored."""
    return sorted({int(m.group(1)) for key in form for m in [re.fullmatch(pattern, key)] if m})


def kept_rows(form: Mapping[str, str]) -> dict[str, Any]:
    """Which form rows become document entries: ``criteria`` (form row of each criterion), ``levels`` (per form
    criterion row, the level columns kept), ``tasks`` and ``evidence`` (per form task row, the rows kept).
    A document's ``rubric.criteria[2]`` is the form's row ``kept["criteria"][2]``."""
    get = lambda name: (form.get(name) or "").strip()  # noqa: E731
    criteria = [i for i in _indexes(form, r"c([0-9]{1,2})_title") if get(f"c{i}_title")]
    levels = {i: [j for j in range(MAX_LEVELS) if get(f"c{i}_l{j}_label") or get(f"c{i}_l{j}_descriptor")]
              for i in criteria}
    tasks = [i for i in _indexes(form, r"t([0-9]{1,2})_title") if get(f"t{i}_title")]
    evidence = {i: [k for k in _indexes(form, rf"t{i}_e([0-9]{{1,2}})_label") if get(f"t{i}_e{k}_label")]
                for i in tasks}
    return {"criteria": criteria, "levels": levels, "tasks": tasks, "evidence": evidence}


def to_document(form: Mapping[str, str]) -> dict[str, Any]:
    get = lambda name: (form.get(name) or "").strip()  # noqa: E731
    kept = kept_rows(form)
    criteria = []
    for i in kept["criteria"]:
        title = get(f"c{i}_title")
        levels = [{"label": get(f"c{i}_l{j}_label"), "descriptor": get(f"c{i}_l{j}_descriptor")}
                  for j in kept["levels"][i]]
        chosen = get(f"c{i}_demonstrated")
        column = _int(chosen) if chosen else None
        # The radio names a column; the document counts the levels kept (empty columns are dropped).
        demonstrated = kept["levels"][i].index(column) if column in kept["levels"][i] else (
            column if not isinstance(column, int) else len(levels))
        criteria.append({"key": get(f"c{i}_key") or slugify(title), "title": title,
                         "description": get(f"c{i}_description"), "levels": levels,
                         "demonstrated_level": 0 if column is None else demonstrated})
    tasks = []
    for i in kept["tasks"]:
        title = get(f"t{i}_title")
        evidence = []
        for k in kept["evidence"][i]:
            label = get(f"t{i}_e{k}_label")
            kind = get(f"t{i}_e{k}_type")
            evidence.append({"key": get(f"t{i}_e{k}_key") or slugify(label), "type": kind, "label": label,
                             "required": form.get(f"t{i}_e{k}_required") == "1",
                             "min_words": _int(get(f"t{i}_e{k}_min_words")) if kind == "reflection" else None,
                             "max_words": _int(get(f"t{i}_e{k}_max_words")) if kind == "reflection" else None,
                             "questions": _list(form.get(f"t{i}_e{k}_questions"), "\n") if kind == "form" else []})
        tasks.append({"key": get(f"t{i}_key") or slugify(title), "title": title,
                      "instructions": markdown.to_html(get(f"t{i}_instructions")),
                      "optional": form.get(f"t{i}_optional") == "1",
                      "evidence": evidence, "criteria": _list(form.get(f"t{i}_criteria"))})
    return {
        "format": FORMAT, "kind": "micro_credential", "slug": get("slug") or slugify(get("title")), "version": 1,
        "title": get("title"), "summary": get("summary"),
        "issuer": {"name": get("issuer_name") or "District", "url": get("issuer_url") or None},
        "audience": get("audience"), "grade_band": get("grade_band"), "topics": _list(form.get("topics")),
        "alignments": _rows(form.get("alignments"), ("framework", "code", "name", "url")),
        "badge_image": None,
        "credit": {"hours": _int(get("credit_hours")) or 0, "points": _int(get("credit_points")) or 0},
        "effort_hours": _int(get("effort_hours")),
        "prerequisites": _list(form.get("prerequisites")),
        **_policy(form),
        **{name: markdown.to_html(get(name)) for name in RICH_FIELDS},
        "resources": _rows(form.get("resources"), ("title", "author", "url")),
        "rubric": {"rule": "all_demonstrated", "criteria": criteria},
        "tasks": tasks,
    }


def form_values(raw: dict[str, Any]) -> dict[str, str]:
    """A micro-credential's document as the editor's fields (the inverse of ``to_document``): what the form
    shows when it opens. Rich text comes back as Markdown."""
    policy = raw.get("policy") or {}
    values = {
        "title": raw["title"], "slug": raw["slug"], "summary": raw["summary"], "audience": raw["audience"],
        "grade_band": raw["grade_band"], "topics": ", ".join(raw["topics"]),
        "effort_hours": _text(raw["effort_hours"]), "credit_hours": _text(raw["credit"]["hours"]),
        "credit_points": _text(raw["credit"]["points"]), "prerequisites": ", ".join(raw["prerequisites"]),
        "issuer_name": raw["issuer"]["name"],
        "alignments": rows_text(raw["alignments"], ("framework", "code", "name", "url")),
        "resources": rows_text(raw["resources"], ("title", "author", "url")),
        "policy_plan_approval": ("" if policy.get("plan_approval") is None
                                 else "1" if policy["plan_approval"] else "0"),
        **{f"policy_{name}": _text(policy.get(name)) for name in ("attempts", "cooldown_days", "window_days")},
        **{name: markdown.from_html(raw[name]) for name in RICH_FIELDS},
    }
    for i, c in enumerate(raw["rubric"]["criteria"]):
        values.update({f"c{i}_title": c["title"], f"c{i}_key": c["key"], f"c{i}_description": c["description"],
                       f"c{i}_demonstrated": _text(c["demonstrated_level"])})
        for j, level in enumerate(c["levels"][:MAX_LEVELS]):
            values.update({f"c{i}_l{j}_label": level["label"], f"c{i}_l{j}_descriptor": level["descriptor"]})
    for i, t in enumerate(raw["tasks"]):
        values.update({f"t{i}_title": t["title"], f"t{i}_key": t["key"], f"t{i}_criteria": ", ".join(t["criteria"]),
                       f"t{i}_instructions": markdown.from_html(t["instructions"])})
        if t["optional"]:
            values[f"t{i}_optional"] = "1"
        for k, e in enumerate(t["evidence"]):
            p = f"t{i}_e{k}_"
            values.update({p + "label": e["label"], p + "key": e["key"], p + "type": e["type"],
                           p + "min_words": _text(e["min_words"]), p + "max_words": _text(e["max_words"]),
                           p + "questions": "\n".join(e["questions"])})
            if e["required"]:
                values[p + "required"] = "1"
    return values


def echo(form: Mapping[str, Any]) -> dict[str, Any]:
    """What a refused form shows again: everything typed, except a "number" too long to be one (thousands of
    digits pasted in), which is left empty beside its message."""
    numbers = re.compile(r"(effort_hours|credit_\w+|policy_\w+|bonus_\w+|position_.*|c[0-9]+_demonstrated"
                         r"|t[0-9]+_e[0-9]+_(min|max)_words|attempts|cooldown_days|window_days)")
    values = {key: form.get(key) for key in form}
    for key, value in values.items():
        if numbers.fullmatch(key) and value and len(value) > MAX_ECHO:
            values[key] = ""
    if hasattr(form, "getlist"):
        values["members"] = form.getlist("members")
    return values


def rows_in(values: Mapping[str, str], prefix: str, parent: str = "") -> list[int]:
    """The row numbers the form shows for ``prefix`` ("c", "t" or "e" under task ``parent``): every row it
    holds, then one empty row to add another."""
    name = "label" if prefix == "e" else "title"
    rows = [n for n in _indexes(values, rf"{parent}{prefix}([0-9]{{1,2}})_{name}")
            if (values.get(f"{parent}{prefix}{n}_{name}") or "").strip()]
    return rows + [(rows[-1] + 1) if rows else 0]


def level_columns(values: Mapping[str, str], row: int) -> int:
    """How many level boxes criterion row ``row`` shows: the levels it holds, at least ``LEVEL_COLUMNS``."""
    used = [j for j in range(MAX_LEVELS)
            if values.get(f"c{row}_l{j}_label") or values.get(f"c{row}_l{j}_descriptor")]
    return max(LEVEL_COLUMNS, used[-1] + 1 if used else 0)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _policy(form: Mapping[str, str]) -> dict[str, Any]:
    """The rules this MC sets for itself: ``{"policy": {...}}``, or nothing when it follows the district."""
    policy: dict[str, Any] = {}
    if form.get("policy_plan_approval") in ("1", "0"):  # "" = the district's rule
        policy["plan_approval"] = form.get("policy_plan_approval") == "1"
    for name in ("attempts", "cooldown_days", "window_days"):
        text = (form.get(f"policy_{name}") or "").strip()
        if text:
            policy[name] = NO_WINDOW if name == "window_days" and text.lower() == NO_WINDOW else _int(text)
    return {"policy": policy} if policy else {}


def stack_document(form: Mapping[str, Any]) -> dict[str, Any]:
    """The stack editor's form as a stack document (its version is set when it is saved). Members are the
    checked MCs in the order of their position fields (an empty position keeps the listed order)."""
    get = lambda name: (form.get(name) or "").strip()  # noqa: E731
    listed = list(form.getlist("members"))

    def position(item: tuple[int, str]) -> tuple[int, int]:
        number = _int(get(f"position_{item[1]}"))
        return (number if isinstance(number, int) else 10_000, item[0])

    members = [slug for _, slug in sorted(enumerate(listed), key=position)]
    return {"format": FORMAT, "kind": "stack", "slug": get("slug") or slugify(get("title")), "version": 1,
            "title": get("title"), "summary": get("summary"), "description": markdown.to_html(get("description")),
            "issuer": {"name": get("issuer_name") or "District", "url": None}, "badge_image": None,
            "ordered": form.get("ordered") == "1", "micro_credentials": members,
            "bonus_credit": {"hours": _int(get("bonus_hours")) or 0, "points": _int(get("bonus_points")) or 0}}


def stack_values(raw: dict[str, Any]) -> dict[str, Any]:
    """A stack's document as the stack editor's fields; ``members`` is a list, each member's position 1, 2, …"""
    values: dict[str, Any] = {
        "title": raw["title"], "slug": raw["slug"], "summary": raw["summary"],
        "description": markdown.from_html(raw["description"]), "issuer_name": raw["issuer"]["name"],
        "ordered": "1" if raw["ordered"] else "", "bonus_hours": _text(raw["bonus_credit"]["hours"]),
        "bonus_points": _text(raw["bonus_credit"]["points"]), "members": list(raw["micro_credentials"])}
    values.update({f"position_{slug}": str(n) for n, slug in enumerate(raw["micro_credentials"], 1)})
    return values


def blank_stack() -> dict[str, Any]:
    return {"slug": "", "title": "", "summary": "", "description": "", "issuer": {"name": "District"},
            "ordered": False, "micro_credentials": [], "bonus_credit": {"hours": 3, "points": 0}}


def rows_text(rows: list[dict[str, Any]], names: tuple[str, ...]) -> str:
    return "\n".join(" | ".join(str(row.get(n) or "") for n in names).rstrip(" |") for row in rows)


def blank_document() -> dict[str, Any]:
    """A new micro-credential as the editor opens it: the form adds an empty criterion, task and evidence row."""
    return {
        "slug": "", "title": "", "summary": "", "issuer": {"name": "District", "url": None}, "audience": "",
        "grade_band": "K-12", "topics": [], "alignments": [], "credit": {"hours": 4, "points": 6}, "effort_hours": 10,
        "prerequisites": [], "competency": "", "key_method": "", "components": "", "research": "", "resources": [],
        "submission_criteria": "", "rubric": {"rule": "all_demonstrated", "criteria": []}, "tasks": [],
    }

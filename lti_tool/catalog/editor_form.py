"""The district editors' forms ⇄ catalog documents (a micro-credential's, a stack's).

Field names are flat (``c0_l2_descriptor``, ``t1_e0_type``) so the form works without JavaScript; empty rows
are dropped; numbers that do not parse (letters, "²", more digits than a database integer holds) are kept as
text so the schema names the field in its error. An empty rule field means "the district's rule": the
document then leaves that rule out.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from lti_tool.catalog.document import FORMAT
from lti_tool.catalog.policy import NO_WINDOW
from lti_tool.errors import BadRequest
from lti_tool.inputs import parse_int

EVIDENCE_TYPES = ("file", "video", "link", "reflection", "form")
GRADE_BANDS = ("K-5", "6-8", "9-12", "K-12")
LEVEL_COLUMNS = 4
DEFAULT_LEVELS = ("Not yet", "Developing", "Demonstrated", "Exemplary")
MAX_CREDIT = 1000  # hours or points; the schema's maximum for credit and bonus_credit


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


def _indexes(form: Mapping[str, str], pattern: str) -> list[int]:
    """Row numbers in field names (``c3_title`` → 3): one or two ASCII digits, far more rows than a document
    holds; other names, such as ``c²_title`` or a 5,000-digit row, are ignored."""
    return sorted({int(m.group(1)) for key in form for m in [re.fullmatch(pattern, key)] if m})


def to_document(form: Mapping[str, str]) -> dict[str, Any]:
    get = lambda name: (form.get(name) or "").strip()  # noqa: E731
    criteria = []
    for i in _indexes(form, r"c([0-9]{1,2})_title"):
        title = get(f"c{i}_title")
        if not title:
            continue
        levels = [{"label": get(f"c{i}_l{j}_label"), "descriptor": get(f"c{i}_l{j}_descriptor")}
                  for j in range(LEVEL_COLUMNS) if get(f"c{i}_l{j}_label") or get(f"c{i}_l{j}_descriptor")]
        criteria.append({"key": get(f"c{i}_key") or slugify(title), "title": title,
                         "description": get(f"c{i}_description"), "levels": levels,
                         "demonstrated_level": _int(get(f"c{i}_demonstrated")) if get(f"c{i}_demonstrated") else 0})
    tasks = []
    for i in _indexes(form, r"t([0-9]{1,2})_title"):
        title = get(f"t{i}_title")
        if not title:
            continue
        evidence = []
        for k in _indexes(form, rf"t{i}_e([0-9]{{1,2}})_label"):
            label = get(f"t{i}_e{k}_label")
            if not label:
                continue
            kind = get(f"t{i}_e{k}_type")
            evidence.append({"key": get(f"t{i}_e{k}_key") or slugify(label), "type": kind, "label": label,
                             "required": form.get(f"t{i}_e{k}_required") == "1",
                             "min_words": _int(get(f"t{i}_e{k}_min_words")) if kind == "reflection" else None,
                             "max_words": _int(get(f"t{i}_e{k}_max_words")) if kind == "reflection" else None,
                             "questions": _list(form.get(f"t{i}_e{k}_questions"), "\n") if kind == "form" else []})
        tasks.append({"key": get(f"t{i}_key") or slugify(title), "title": title,
                      "instructions": get(f"t{i}_instructions"), "optional": form.get(f"t{i}_optional") == "1",
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
        "competency": get("competency"), "key_method": get("key_method"), "components": get("components"),
        "research": get("research"),
        "resources": _rows(form.get("resources"), ("title", "author", "url")),
        "submission_criteria": get("submission_criteria"),
        "rubric": {"rule": "all_demonstrated", "criteria": criteria},
        "tasks": tasks,
    }


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
    """The stack editor's form as a stack document (its version is set when it is saved)."""
    get = lambda name: (form.get(name) or "").strip()  # noqa: E731
    hours = parse_int(form.get("bonus_hours"), field="Bonus hours", minimum=0, maximum=MAX_CREDIT, default=0)
    points = parse_int(form.get("bonus_points"), field="Bonus points", minimum=0, maximum=MAX_CREDIT, default=0)
    return {"format": FORMAT, "kind": "stack", "slug": get("slug") or slugify(get("title")), "version": 1,
            "title": get("title"), "summary": get("summary"), "description": get("description"),
            "issuer": {"name": get("issuer_name") or "District", "url": None}, "badge_image": None,
            "ordered": form.get("ordered") == "1", "micro_credentials": list(form.getlist("members")),
            "bonus_credit": {"hours": hours, "points": points}}


def blank_stack() -> dict[str, Any]:
    return {"slug": "", "title": "", "summary": "", "description": "", "issuer": {"name": "District"},
            "ordered": False, "micro_credentials": [], "bonus_credit": {"hours": 3, "points": 0}}


def rows_text(rows: list[dict[str, Any]], names: tuple[str, ...]) -> str:
    return "\n".join(" | ".join(str(row.get(n) or "") for n in names).rstrip(" |") for row in rows)


def blank_document() -> dict[str, Any]:
    return {
        "slug": "", "title": "", "summary": "", "issuer": {"name": "District", "url": None}, "audience": "",
        "grade_band": "K-12", "topics": [], "alignments": [], "credit": {"hours": 4, "points": 6}, "effort_hours": 10,
        "prerequisites": [],
        "competency": "", "key_method": "", "components": "", "research": "", "resources": [],
        "submission_criteria": "",
        "rubric": {"rule": "all_demonstrated", "criteria": [
            {"key": "", "title": "", "description": "",
             "levels": [{"label": label, "descriptor": ""} for label in DEFAULT_LEVELS], "demonstrated_level": 2}]},
        "tasks": [{"key": "", "title": "", "instructions": "", "optional": False, "criteria": [],
                   "evidence": [{"key": "", "type": "file", "label": "", "required": True, "min_words": None,
                                 "max_words": None, "questions": []}]}],
    }

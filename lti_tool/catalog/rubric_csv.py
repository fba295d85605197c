"""Rubrics from CSV, the way many districts keep them: one row per performance level.

    criterion,description,level,descriptor,demonstrated
    Question design,The questions target the goal.,Not yet,Off target.,
    Question design,,Demonstrated,On target.,yes

Rows of one criterion are consecutive and in order; ``demonstrated`` marks the threshold level ("yes").
Errors name the line. The result is the document's ``rubric`` object.
"""
from __future__ import annotations

import csv
import io

from lti_tool.catalog.document import DocumentError
from lti_tool.catalog.editor_form import slugify

COLUMNS = ("criterion", "description", "level", "descriptor", "demonstrated")


def parse(text: str, source: str = "rubric.csv") -> dict:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DocumentError([f"line 1: missing column(s) {', '.join(missing)}"], source)
    reader.fieldnames = header
    criteria: list[dict] = []
    problems: list[str] = []
    for row in reader:
        line = reader.line_num
        title, level = (row.get("criterion") or "").strip(), (row.get("level") or "").strip()
        if not title or not level:
            problems.append(f"line {line}: criterion and level are required")
            continue
        if not criteria or criteria[-1]["title"] != title:
            if any(c["title"] == title for c in criteria):
                problems.append(f"line {line}: the rows of '{title}' must be together")
                continue
            criteria.append({"key": slugify(title), "title": title, "description": "", "levels": [],
                             "demonstrated_level": None})
        criterion = criteria[-1]
        if (row.get("description") or "").strip() and not criterion["description"]:
            criterion["description"] = row["description"].strip()
        if (row.get("demonstrated") or "").strip().lower() in ("yes", "y", "true", "1", "x"):
            if criterion["demonstrated_level"] is not None:
                problems.append(f"line {line}: '{title}' already has a demonstrated level")
            criterion["demonstrated_level"] = len(criterion["levels"])
        criterion["levels"].append({"label": level, "descriptor": (row.get("descriptor") or "").strip()})
    for criterion in criteria:
        if criterion["demonstrated_level"] is None:
            problems.append(f"'{criterion['title']}': mark one level as demonstrated")
    if not criteria and not problems:
        problems.append("the file has no rubric rows")
    if problems:
        raise DocumentError(problems, source)
    return {"rule": "all_demonstrated", "criteria": criteria}

"""Rubrics from CSV, the way many districts keep them: one row per performance level.

    criterion,description,level,descriptor,demonstrated
    Question design,The questions target the goal.,Not yet,Off target.,
    Question design,,Demonstrated,On target.,yes

Rows of one criterion are consecutive and in order; ``demonstrated`` marks the threshold level ("yes").
Errors name the line. The result is the document's ``rubric`` object. A rubric has at most 12 criteria of up
to 6 levels (the schema), so a file of more than ``MAX_ROWS`` rows is refused before it is read further, and
no row is compared with all the others: a file costs time in proportion to its length.
"""
from __future__ import annotations

import csv
import io

from lti_tool.catalog.document import DocumentError
from lti_tool.catalog.editor_form import slugify

class RubricFileError(DocumentError):
    """A rubric CSV that cannot be used; its problems name the file's lines (not a document's fields)."""


COLUMNS = ("criterion", "description", "level", "descriptor", "demonstrated")
MAX_ROWS = 2_000


def parse(text: str, source: str = "rubric.csv") -> dict:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        return _read(reader, source)
    except csv.Error as error:  # a cell over csv.field_size_limit() (128 KB), a NUL byte, a stray quote
        reason = ("a cell is longer than 128 KB; a rubric cell holds a sentence or two" if "field limit" in str(error)
                  else f"this line cannot be read as CSV ({error})")
        # DictReader.line_num counts the lines of the rows read so far: the failing row starts on the next.
        raise RubricFileError([f"line {reader.line_num + 1}: {reason}"], source) from None


def _read(reader: csv.DictReader, source: str) -> dict:
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RubricFileError([f"line 1: missing column(s) {', '.join(missing)}"], source)
    reader.fieldnames = header
    criteria: list[dict] = []
    titles: set[str] = set()
    problems: list[str] = []
    for count, row in enumerate(reader, 1):
        if count > MAX_ROWS:
            raise RubricFileError([f"the file has more than {MAX_ROWS:,} rows; a rubric has at most 12 criteria of "
                                 "up to 6 levels"], source)
        line = reader.line_num
        title, level = (row.get("criterion") or "").strip(), (row.get("level") or "").strip()
        if not title or not level:
            problems.append(f"line {line}: criterion and level are required")
            continue
        if not criteria or criteria[-1]["title"] != title:
            if title in titles:
                problems.append(f"line {line}: the rows of '{title}' must be together")
                continue
            titles.add(title)
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
        raise RubricFileError(problems, source)
    return {"rule": "all_demonstrated", "criteria": criteria}

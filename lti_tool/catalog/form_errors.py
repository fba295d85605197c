"""A refused catalog form in the editor's own words: which field each problem belongs to, and a plain message.

The catalog's checks speak of document paths (``tasks[0].evidence[1].min_words``); a district admin sees the
editor's fields ("Task 1, evidence 2: minimum words"). ``refusal`` turns what a save or a preview raised into a
``Refusal``: a message beside each field, and the summary that lists them all above the form. The status says
why: 409 someone else's change (or a short name already taken), 400 what was typed.
Every word a person reads is in this module's tables (and the templates), never the schema validator's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from lti_tool.catalog import editor_form, rubric_csv
from lti_tool.catalog.document import DocumentError
from lti_tool.catalog.service import SlugTaken
from lti_tool.errors import Conflict, MicrocredError

LABELS = {
    "title": "Title", "slug": "Short name", "summary": "One-line summary", "audience": "Audience",
    "grade_band": "Grade band", "topics": "Topics", "effort_hours": "Estimated effort",
    "credit_hours": "In-service hours",
    "credit_points": "PD points", "prerequisites": "Prerequisites", "issuer_name": "Issuer", "alignments": "Alignments",
    "policy_plan_approval": "Plan approval", "policy_attempts": "Attempts", "policy_cooldown_days": "Cooldown",
    "policy_window_days": "Submission window", "competency": "1. Competency", "key_method": "2. Key method",
    "components": "3. Components", "research": "4. Research", "resources": "4. Resources",
    "submission_criteria": "5. Submission criteria", "rubric": "6. Scoring rubric", "rubric_csv": "Rubric file",
    "tasks": "Tasks", "description": "Description", "members": "Micro-credentials in the stack",
    "bonus_hours": "Bonus hours", "bonus_points": "Bonus points",
    "attempts": "Attempts", "cooldown_days": "Cooldown", "window_days": "Submission window",
}
_PARTS = {"title": " title", "description": " description", "levels": " levels", "instructions": " instructions",
          "criteria": " rubric criteria", "evidence": " evidence", "optional": "", "label": "", "type": " type",
          "min_words": " minimum words", "max_words": " maximum words", "questions": " questions"}

# For a field with a format to follow: the message whenever its value has the wrong kind, size or shape.
FORMATS = {
    "title": "The title must be at most 200 characters.",
    "slug": "The short name must be lowercase letters, digits and hyphens, like morning-meeting; leave it empty to "
            "make it from the title.",
    "effort_hours": "Effort must be a whole number of hours, like 10.",
    "credit_hours": "In-service hours must be a number from 0 to 1,000, like 4.",
    "credit_points": "PD points must be a number from 0 to 1,000, like 6.",
    "bonus_hours": "Bonus hours must be a number from 0 to 1,000, like 3.",
    "bonus_points": "Bonus points must be a number from 0 to 1,000, like 2.",
    "grade_band": "Choose a grade band.",
    "policy_attempts": "Attempts must be a whole number from 1 to 100, or empty to follow the district's rule.",
    "policy_cooldown_days": "The cooldown must be a whole number of days from 0 to 3,650, or empty to follow the "
                            "district's rule.",
    "policy_window_days": 'The submission window must be a number of days from 1 to 3,650, or "none" for no window; '
                          "empty follows the district's rule.",
    "min_words": "The minimum must be a whole number of words, like 300, or empty.",
    "max_words": "The maximum must be a whole number of words, like 500, or empty.",
    "prerequisites": "Prerequisites must be short names of other micro-credentials, separated by commas.",
    "criteria": "Rubric criteria must be criterion keys, like question-design, separated by commas.",
    "type": "Choose a type of evidence.",
    "levels": "The demonstrated level must be a whole number: choose one of this criterion's levels again.",
}
_FORMAT_FINDINGS = ("must be ", "is too large", "must not be empty")

# The catalog's own findings, said for the editor (matched on the finding's text).
REWORDED = [
    (r"no rubric criterion '(.*)'", r"There is no rubric criterion '\1': use the keys of the rubric's criteria, "
                                    r"separated by commas."),
    (r"no task feeds criterion '(.*)'", r"No task feeds this criterion: add '\1' to a task's rubric criteria."),
    (r"more than max_words", "The minimum is more than the maximum."),
    (r"there are only \d+ levels", "Mark a level that has a label or a descriptor as demonstrated."),
    (r"the key '(.*)' is used twice.*", r"Two rows have the same title ('\1'): give each its own."),
    (r"must be an http\(s\) address", "Links must start with https:// or http://."),
    (r"needs at least (\d+)", r"Add at least \1."),
    (r"there is no micro-credential '(.*)' in this district", r"There is no micro-credential '\1' in this district."),
]
GROUP_NEEDS = {"rubric": "Add at least one criterion: give it a title and its levels.",
               "tasks": "Add at least one task: give it a title and the evidence it asks for.",
               "evidence": "Add at least one piece of evidence to this task.",
               "levels": "Give this criterion at least two levels."}
RUBRIC_FILE = ("{name} was not used: {problem}. Fix the file, then choose it again "
               "(a browser does not keep a chosen file).")


@dataclass
class Refusal:
    status: int
    errors: dict[str, str] = field(default_factory=dict)          # field name -> message beside it
    general: list[str] = field(default_factory=list)              # messages that belong to no one field
    named: set[str] = field(default_factory=set)                  # fields whose message already names them

    def add(self, name: str | None, message: str) -> None:
        if name is None:
            self.general.append(message)
        elif message not in self.errors.get(name, ""):
            self.errors[name] = (self.errors[name] + " " + message) if name in self.errors else message
            if message in FORMATS.values():
                self.named.add(name)

    @property
    def summary(self) -> list[tuple[str | None, str]]:
        """(field to link to, text) for the summary above the form, in the form's order."""
        return [(None, text) for text in self.general] + [
            (name, text if name in self.named else f"{label(name)}: {text}") for name, text in self.errors.items()]


def label(name: str) -> str:
    """The name a person saw beside a field ("Criterion 2 title", "Task 1, evidence 3 type")."""
    match = re.fullmatch(r"t([0-9]+)_e([0-9]+)_(\w+)", name)
    if match:
        return f"Task {int(match[1]) + 1}, evidence {int(match[2]) + 1}" + _PARTS.get(match[3], "")
    match = re.fullmatch(r"c([0-9]+)_l([0-9]+)_(\w+)", name)
    if match:
        return f"Criterion {int(match[1]) + 1} level {int(match[2]) + 1} {match[3]}"
    match = re.fullmatch(r"([ct])([0-9]+)_(\w+)", name)
    if match:
        return ("Criterion " if match[1] == "c" else "Task ") + str(int(match[2]) + 1) + _PARTS.get(match[3], "")
    if name.startswith("position_"):
        return f"Position of {name.removeprefix('position_')}"
    return LABELS.get(name, name)


def mc_field(kept: dict[str, Any], path: tuple) -> str | None:
    """The MC editor's field for a document path (``kept``: ``editor_form.kept_rows`` of the form)."""
    if not path:
        return None
    head, rest = path[0], path[1:]
    if head == "rubric":
        if len(rest) < 2 or not _within(rest[1], kept["criteria"]):
            return "rubric"
        row = kept["criteria"][rest[1]]
        leaf = rest[2] if len(rest) > 2 else "title"
        if leaf == "levels" and len(rest) > 3 and _within(rest[3], kept["levels"][row]):
            return f"c{row}_l{kept['levels'][row][rest[3]]}_" + (rest[4] if len(rest) > 4 else "label")
        return f"c{row}_" + {"levels": "levels", "demonstrated_level": "levels", "description": "description"}.get(
            leaf, "title")
    if head == "tasks":
        if not rest or not _within(rest[0], kept["tasks"]):
            return "tasks"
        row = kept["tasks"][rest[0]]
        leaf = rest[1] if len(rest) > 1 else "title"
        if leaf == "evidence":
            rows = kept["evidence"][row]
            if len(rest) > 2 and _within(rest[2], rows):
                part = rest[3] if len(rest) > 3 else "label"
                return f"t{row}_e{rows[rest[2]]}_" + ("label" if part in ("key", "required") else part)
            return f"t{row}_evidence"
        return f"t{row}_" + ("title" if leaf == "key" else leaf)
    if head in ("credit", "policy"):
        default = "hours" if head == "credit" else "attempts"
        return f"{head}_{rest[0] if rest else default}"
    return _common(head)


def stack_field(path: tuple) -> str | None:
    if not path:
        return None
    if path[0] == "bonus_credit":
        return "bonus_" + (path[1] if len(path) > 1 else "hours")
    if path[0] == "micro_credentials":
        return "members"
    return _common(path[0])


def _common(head: str) -> str | None:
    if head == "issuer":
        return "issuer_name"
    return head if head in LABELS else None


def _within(index: Any, rows: list) -> bool:
    return isinstance(index, int) and 0 <= index < len(rows)


def message(name: str | None, text: str) -> str:
    """What to say beside field ``name`` about a finding: its format when the value had the wrong kind or size,
    else the finding reworded for the editor."""
    if name is not None:
        leaf = re.sub(r"^[ct][0-9]+_(e[0-9]+_)?", "", name)
        if text.startswith("needs at least") and leaf in GROUP_NEEDS:
            return GROUP_NEEDS[leaf]
        if leaf == "title" and text == "must not be empty":
            return "Enter a title."
        if text.startswith(_FORMAT_FINDINGS) and (name in FORMATS or leaf in FORMATS):
            return FORMATS.get(name) or FORMATS[leaf]
    for pattern, words in REWORDED:
        match = re.fullmatch(pattern, text)
        if match:
            return match.expand(words)
    if text.startswith(("is ", "has ", "must ")):
        text = "This " + text
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "?")) else text + "."


def refusal(error: MicrocredError, form: Mapping[str, Any], kind: str = "mc") -> Refusal:
    """What a refused save (or preview) of the MC editor (``kind="mc"``) or the stack editor says, and where."""
    if isinstance(error, rubric_csv.RubricFileError):
        found = Refusal(400)
        found.add("rubric_csv", RUBRIC_FILE.format(name=error.source, problem="; ".join(error.problems[:5])))
        return found
    if isinstance(error, DocumentError):
        found = Refusal(400)
        kept = editor_form.kept_rows(form) if kind == "mc" else None
        for path, text in error.findings:
            name = mc_field(kept, path) if kind == "mc" else stack_field(path)
            found.add(name, message(name, text) if name else text)
        return found
    if isinstance(error, SlugTaken):
        found = Refusal(409)
        found.add("slug", error.message)
        return found
    found = Refusal(409 if isinstance(error, Conflict) else error.status)
    found.add(None, error.message + (" Your changes are still in the form below: copy what you need, then reload."
                                     if isinstance(error, Conflict) else ""))
    return found

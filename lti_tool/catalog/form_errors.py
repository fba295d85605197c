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

from flask_babel import gettext as _, lazy_gettext as _l

from lti_tool.catalog import editor_form, rubric_csv
from lti_tool.catalog.document import DocumentError
from lti_tool.catalog.service import SlugTaken
from lti_tool.errors import Conflict, MicrocredError

LABELS = {
    "title": _l("Title"), "slug": _l("Short name"), "summary": _l("One-line summary"), "audience": _l("Audience"),
    "grade_band": _l("Grade band"), "topics": _l("Topics"), "effort_hours": _l("Estimated effort"),
    "credit_hours": _l("In-service hours"),
    "credit_points": _l("PD points"), "prerequisites": _l("Prerequisites"), "issuer_name": _l("Issuer"),
    "alignments": _l("Alignments"),
    "policy_plan_approval": _l("Plan approval"), "policy_attempts": _l("Attempts"), "policy_cooldown_days": _l("Cooldown"),
    "policy_window_days": _l("Submission window"), "competency": _l("1. Competency"),
    "key_method": _l("2. Key method"),
    "components": _l("3. Components"), "research": _l("4. Research"), "resources": _l("4. Resources"),
    "submission_criteria": _l("5. Submission criteria"), "rubric": _l("6. Scoring rubric"),
    "rubric_csv": _l("Rubric file"),
    "tasks": _l("Tasks"), "description": _l("Description"), "members": _l("Micro-credentials in the stack"),
    "bonus_hours": _l("Bonus hours"), "bonus_points": _l("Bonus points"),
    "attempts": _l("Attempts"), "cooldown_days": _l("Cooldown"), "window_days": _l("Submission window"),
}
# A row's field, named whole (never "Task 1" + " title": word order differs between languages).
_TASK_PARTS = {"title": _l("Task %(task)s title"), "description": _l("Task %(task)s description"),
               "instructions": _l("Task %(task)s instructions"), "criteria": _l("Task %(task)s rubric criteria"),
               "evidence": _l("Task %(task)s evidence"), "optional": _l("Task %(task)s"), "label": _l("Task %(task)s")}
_CRITERION_PARTS = {"title": _l("Criterion %(criterion)s title"),
                    "description": _l("Criterion %(criterion)s description"),
                    "levels": _l("Criterion %(criterion)s levels")}
_EVIDENCE_PARTS = {"type": _l("Task %(task)s, evidence %(evidence)s type"),
                   "min_words": _l("Task %(task)s, evidence %(evidence)s minimum words"),
                   "max_words": _l("Task %(task)s, evidence %(evidence)s maximum words"),
                   "questions": _l("Task %(task)s, evidence %(evidence)s questions")}
_LEVEL_PARTS = {"label": _l("Criterion %(criterion)s level %(level)s label"),
                "descriptor": _l("Criterion %(criterion)s level %(level)s descriptor")}

# For a field with a format to follow: the message whenever its value has the wrong kind, size or shape.
FORMATS = {
    "title": _l("The title must be at most 200 characters."),
    "slug": _l("The short name must be lowercase letters, digits and hyphens, like morning-meeting; leave it empty "
               "to make it from the title."),
    "effort_hours": _l("Effort must be a whole number of hours, like 10."),
    "credit_hours": _l("In-service hours must be a number from 0 to 1,000, like 4."),
    "credit_points": _l("PD points must be a number from 0 to 1,000, like 6."),
    "bonus_hours": _l("Bonus hours must be a number from 0 to 1,000, like 3."),
    "bonus_points": _l("Bonus points must be a number from 0 to 1,000, like 2."),
    "grade_band": _l("Choose a grade band."),
    "policy_attempts": _l("Attempts must be a whole number from 1 to 100, or empty to follow the district's rule."),
    "policy_cooldown_days": _l("The cooldown must be a whole number of days from 0 to 3,650, or empty to follow the "
                               "district's rule."),
    "policy_window_days": _l("The submission window must be a number of days from 1 to 3,650, or “none” for no "
                             "window; empty follows the district's rule."),
    "min_words": _l("The minimum must be a whole number of words, like 300, or empty."),
    "max_words": _l("The maximum must be a whole number of words, like 500, or empty."),
    "prerequisites": _l("Prerequisites must be short names of other micro-credentials, separated by commas."),
    "criteria": _l("Rubric criteria must be criterion keys, like question-design, separated by commas."),
    "type": _l("Choose a type of evidence."),
    "levels": _l("The demonstrated level must be a whole number: choose one of this criterion's levels again."),
}
_FORMAT_FINDINGS = ("must be ", "is too large", "must not be empty")

# The catalog's own findings, said for the editor. The findings stay English where they are made (the import
# page and district IT's commands show them as they are); they are matched here on that English text, and only
# the message a person reads is translated: its placeholders are the pattern's named groups.
REWORDED = [
    (r"no rubric criterion '(?P<value>.*)'",
     _l("There is no rubric criterion '%(value)s': use the keys of the rubric's criteria, separated by commas.")),
    (r"no task feeds criterion '(?P<value>.*)'",
     _l("No task feeds this criterion: add '%(value)s' to a task's rubric criteria.")),
    (r"more than max_words", _l("The minimum is more than the maximum.")),
    (r"there are only \d+ levels", _l("Mark a level that has a label or a descriptor as demonstrated.")),
    (r"the key '(?P<value>.*)' is used twice.*", _l("Two rows have the same title ('%(value)s'): give each its own.")),
    (r"must be an http\(s\) address", _l("Links must start with https:// or http://.")),
    (r"needs at least (?P<value>\d+)", _l("Add at least %(value)s.")),
    (r"another (?:stack|micro-credential) already has this title: “(?P<value>.*)” \((?P<slug>.*)\); "
     r"choose a different title",
     _l("This title is already taken: “%(value)s” (%(slug)s). Choose a different title.")),
    (r"they form a cycle: (?P<value>.*)", _l("These prerequisites form a cycle: %(value)s.")),
    (r"a micro-credential cannot require itself", _l("A micro-credential cannot require itself.")),
    (r"there is no micro-credential '(?P<value>.*)' in this district",
     _l("There is no micro-credential '%(value)s' in this district.")),
]
GROUP_NEEDS = {"rubric": _l("Add at least one criterion: give it a title and its levels."),
               "tasks": _l("Add at least one task: give it a title and the evidence it asks for."),
               "evidence": _l("Add at least one piece of evidence to this task."),
               "levels": _l("Give this criterion at least two levels.")}


def rubric_file(name: str, problem: str | None = None) -> str:
    """The message beside the rubric file field; without ``problem``, the file waits for the rest of the form."""
    return _("%(name)s was not used: %(problem)s. Fix the file, then choose it again (a browser does not keep a "
             "chosen file).", name=name, problem=problem or _("the rest of the form needs fixing first"))


@dataclass
class Refusal:
    status: int
    errors: dict[str, str] = field(default_factory=dict)          # field name -> message beside it
    general: list[str] = field(default_factory=list)              # messages that belong to no one field
    named: set[str] = field(default_factory=set)                  # fields whose message already names them

    def add(self, name: str | None, message) -> None:
        message = str(message)  # a lazy string: its text now, in the page's language, and escaped when shown
        if name is None:
            self.general.append(message)
        elif message not in self.errors.get(name, ""):
            self.errors[name] = (self.errors[name] + " " + message) if name in self.errors else message
            if message in {str(text) for text in FORMATS.values()}:
                self.named.add(name)

    @property
    def summary(self) -> list[tuple[str | None, str]]:
        """(field to link to, text) for the summary above the form, in the form's order."""
        return [(None, text) for text in self.general] + [
            (name, text if name in self.named else _("%(field)s: %(message)s", field=label(name), message=text)) for name, text in self.errors.items()]


def label(name: str) -> str:
    """The name a person saw beside a field ("Criterion 2 title", "Task 1, evidence 3 type")."""
    match = re.fullmatch(r"t([0-9]+)_e([0-9]+)_(\w+)", name)
    if match:
        task, evidence = int(match[1]) + 1, int(match[2]) + 1
        words = _EVIDENCE_PARTS.get(match[3])
        return (str(words) % {"task": task, "evidence": evidence} if words
                else _("Task %(task)s, evidence %(evidence)s", task=task, evidence=evidence))
    match = re.fullmatch(r"c([0-9]+)_l([0-9]+)_(\w+)", name)
    if match:
        words = _LEVEL_PARTS.get(match[3], _LEVEL_PARTS["label"])
        return str(words) % {"criterion": int(match[1]) + 1, "level": int(match[2]) + 1}
    match = re.fullmatch(r"([ct])([0-9]+)_(\w+)", name)
    if match:
        if match[1] == "c":
            words = _CRITERION_PARTS.get(match[3])
            number = int(match[2]) + 1
            return str(words) % {"criterion": number} if words else _("Criterion %(criterion)s", criterion=number)
        words = _TASK_PARTS.get(match[3])
        return str(words) % {"task": int(match[2]) + 1} if words else _("Task %(task)s", task=int(match[2]) + 1)
    if name.startswith("position_"):
        return _("Position of %(name)s", name=name.removeprefix("position_"))
    return str(LABELS.get(name, name))


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
            return str(GROUP_NEEDS[leaf])
        if leaf == "title" and text == "must not be empty":
            return _("Enter a title.")
        if text.startswith(_FORMAT_FINDINGS) and (name in FORMATS or leaf in FORMATS):
            return str(FORMATS.get(name) or FORMATS[leaf])
    for pattern, words in REWORDED:
        match = re.fullmatch(pattern, text)
        if match:
            return str(words) % match.groupdict()
    if text.startswith(("is ", "has ", "must ")):
        text = "This " + text
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "?")) else text + "."


def refusal(error: MicrocredError, form: Mapping[str, Any], kind: str = "mc") -> Refusal:
    """What a refused save (or preview) of the MC editor (``kind="mc"``) or the stack editor says, and where."""
    if isinstance(error, rubric_csv.RubricFileError):
        found = Refusal(400)
        found.add("rubric_csv", rubric_file(error.source, "; ".join(error.problems[:5])))
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
    found.add(None, _("%(message)s Your changes are still in the form below: copy what you need, then reload.",
                      message=error.message) if isinstance(error, Conflict) else error.message)
    return found

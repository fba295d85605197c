"""Small valid catalog documents for tests, the shipped sample catalog, and importing them as district IT."""
from __future__ import annotations

import copy
import json


def mc(slug: str = "exit-tickets", version: int = 1, **overrides) -> dict:
    doc = {
        "format": "microcred-catalog/1", "kind": "micro_credential", "slug": slug, "version": version,
        "title": f"Title of {slug}", "summary": "Check understanding at the end of a lesson.",
        "issuer": {"name": "Test District", "url": None}, "audience": "Classroom teachers", "grade_band": "K-12",
        "topics": ["assessment"], "alignments": [], "badge_image": None, "credit": {"hours": 4, "points": 6},
        "effort_hours": 8, "prerequisites": [],  # no "policy": the district's rules apply
        "competency": "<p>Uses exit tickets.</p>", "key_method": "<p>Ask, sort, respond.</p>",
        "components": "<ul><li>Ask</li></ul>", "research": "<p>Formative assessment works.</p>",
        "resources": [{"title": "Embedded Formative Assessment", "author": "Dylan Wiliam", "url": None}],
        "submission_criteria": "<p>Three exit tickets and a reflection.</p>",
        "rubric": {"rule": "all_demonstrated", "criteria": [
            {"key": "design", "title": "Design", "description": "The questions target the lesson goal.",
             "levels": [{"label": "Not yet", "descriptor": "Off target."}, {"label": "Developing", "descriptor": "Partly."},
                        {"label": "Demonstrated", "descriptor": "On target."}],
             "demonstrated_level": 2}]},
        "tasks": [{"key": "collect", "title": "Collect tickets", "instructions": "<p>Run three.</p>", "optional": False,
                   "evidence": [{"key": "photos", "type": "file", "label": "Photos of tickets", "required": True,
                                 "min_words": None, "max_words": None, "questions": []},
                                {"key": "reflection", "type": "reflection", "label": "What you changed",
                                 "required": True, "min_words": 200, "max_words": 500, "questions": []}],
                   "criteria": ["design"]}],
    }
    doc.update(copy.deepcopy(overrides))
    return doc


def stack(slug: str, members: list[str], version: int = 1, **overrides) -> dict:
    doc = {"format": "microcred-catalog/1", "kind": "stack", "slug": slug, "version": version,
           "title": f"Stack {slug}", "summary": "A pathway.", "description": "<p>Three steps.</p>",
           "issuer": {"name": "Test District", "url": None}, "badge_image": None, "ordered": False,
           "micro_credentials": members, "bonus_credit": {"hours": 3, "points": 0}}
    doc.update(overrides)
    return doc


def sample_sources() -> list[tuple[str, str]]:
    from lti_tool.catalog.service import sample_sources as shipped

    return shipped()


def load(session, district_id: int, *documents: dict, sources: list[tuple[str, str]] | None = None,
         publish: bool = True):
    """Import ``documents`` (or ready ``sources``) into a district as its IT's command line does."""
    from lti_tool.catalog import service
    from lti_tool.lti.actor import Actor

    texts = sources if sources is not None else [
        (f"{d['slug']}.json", json.dumps(d, indent=2, ensure_ascii=False) + "\n") for d in documents]
    return service.import_texts(session, Actor.for_system(district_id, "tests"), texts, publish=publish)

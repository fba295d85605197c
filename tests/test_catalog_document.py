"""Catalog documents: the schema, the rules beside it, sanitizing, errors that name field and line."""
import json

import jsonschema
import pytest

from lti_tool.catalog import document as doc
from tests.support import catalog_docs


def test_the_schema_is_valid_and_validates_every_sample_document():
    schema = json.loads(doc.SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    sources = catalog_docs.sample_sources()
    kinds = [json.loads(text)["kind"] for _, text in sources]
    assert kinds.count("stack") >= 3 and kinds.count("micro_credential") >= 9
    for name, text in sources:
        jsonschema.Draft202012Validator(schema).validate(json.loads(text))
        parsed = doc.parse_text(text, name)
        assert doc.dump(parsed) == text, f"{name} is not in canonical form"


def test_sample_mcs_have_two_to_five_tasks_and_a_real_rubric():
    for name, text in catalog_docs.sample_sources():
        parsed = doc.parse_text(text, name)
        if isinstance(parsed, doc.McDocument):
            assert 2 <= len(parsed.tasks) <= 5, name
            assert len(parsed.criteria) >= 3, name
            assert all(len(c.levels) >= 3 for c in parsed.criteria), name


def test_errors_name_the_field_and_its_line():
    text = json.dumps(catalog_docs.mc(), indent=2).replace('"type": "file"', '"type": "fax"')
    with pytest.raises(doc.DocumentError) as caught:
        doc.parse_text(text, "upload.json")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if '"fax"' in row)
    assert caught.value.problems == [f"tasks[0].evidence[0].type (line {line}): must be one of "
                                     '"file", "video", "link", "reflection", "form"']
    assert caught.value.findings == [(("tasks", 0, "evidence", 0, "type"),
                                      'must be one of "file", "video", "link", "reflection", "form"')]
    assert caught.value.status == 400 and "upload.json was not imported" in caught.value.message


def test_invalid_json_reports_line_and_column():
    with pytest.raises(doc.DocumentError, match=r"line 3, column"):
        doc.parse_text('{\n  "kind": "stack",\n  oops\n}')


@pytest.mark.parametrize("change, says", [
    (lambda d: d["tasks"][0]["criteria"].append("missing"), "no rubric criterion 'missing'"),
    (lambda d: d["rubric"]["criteria"][0].update(demonstrated_level=3), "only 3 levels"),
    (lambda d: d["tasks"][0]["evidence"][1].update(min_words=900), "more than max_words"),
    (lambda d: d["prerequisites"].append(d["slug"]), "cannot require itself"),
    (lambda d: d.update(surprise=1), "unknown field(s)"),
    (lambda d: d.pop("competency"), "'competency' is required"),
    (lambda d: d.update(slug="Not A Slug"), "slug"),
    (lambda d: d["resources"][0].update(url="javascript:alert(1)"), "resources[0].url: must be an http(s) address"),
])
def test_rules_beyond_the_schema(change, says):
    data = catalog_docs.mc()
    change(data)
    with pytest.raises(doc.DocumentError) as caught:
        doc.parse(data)
    assert any(says in problem for problem in caught.value.problems), caught.value.problems


def test_html_is_sanitized_and_sanitizing_is_stable():
    data = catalog_docs.mc(competency='<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:x">a</a>'
                                      '<a href="https://example.org">b</a></p>')
    parsed = doc.parse(data)
    assert parsed.raw["competency"] == ('<p>Hi <a rel="noopener noreferrer">a</a>'
                                        '<a href="https://example.org" rel="noopener noreferrer">b</a></p>')
    assert doc.parse(dict(data, competency=parsed.raw["competency"])).raw == parsed.raw

"""Input limits in the catalog: numbers, rubric CSVs, JSON and rich text that once cost a 500 or minutes of CPU
are refused with a 4xx a district admin can act on. No test here is timed: the limits are checked by size."""
import io
import json
import re

import pytest
from lti_tool import inputs
from lti_tool.catalog import document as doc
from lti_tool.catalog import richtext, rubric_csv, service
from lti_tool.catalog.models import McVersion, MicroCredential
from lti_tool.errors import BadRequest
from lti_tool.lti.actor import Actor
from lti_tool.lti.roles import Role
from tests.support import catalog_docs, factories

HUGE = "9" * 5000          # Python refuses int() of more than 4,300 digits
SUPERSCRIPT_TWO = "²"      # str.isdigit() says yes, int() says no
ARABIC_THREE = "٣"         # int() says 3, but a form field takes the digits 0-9 only


# --- parse_int --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [("7", 7), (" 12 ", 12), ("0", 0), ("-3", -3), ("007", 7),
                                             ("2147483647", 2147483647)])
def test_parse_int_reads_ascii_whole_numbers(value, expected):
    assert inputs.parse_int(value, field="Effort") == expected


@pytest.mark.parametrize("value, says", [
    (SUPERSCRIPT_TWO, "Effort must be a whole number"), (ARABIC_THREE, "Effort must be a whole number"),
    ("1.5", "Effort must be a whole number"), ("1e3", "Effort must be a whole number"),
    (HUGE, "Effort must be 2147483647 or less"), ("-" + HUGE, "Effort must be -2147483648 or more"),
    ("2147483648", "Effort must be 2147483647 or less"), ("0" * 5000 + "5", None),
])
def test_parse_int_refuses_what_is_not_a_plain_number(value, says):
    if says is None:
        assert inputs.parse_int(value, field="Effort") == 5
        return
    with pytest.raises(BadRequest) as caught:
        inputs.parse_int(value, field="Effort")
    assert caught.value.message.startswith(says) and len(caught.value.message) < 200


def test_parse_int_bounds_default_and_required():
    assert inputs.parse_int("", field="Window", default=None) is None
    assert inputs.parse_int(None, field="Window", default=30) == 30
    with pytest.raises(BadRequest, match="Attempts is required"):
        inputs.parse_int(" ", field="Attempts")
    with pytest.raises(BadRequest, match="Attempts must be 1 or more"):
        inputs.parse_int("0", field="Attempts", minimum=1)
    with pytest.raises(BadRequest, match="Attempts must be 100 or less"):
        inputs.parse_int("101", field="Attempts", maximum=100)


# --- catalog pages ----------------------------------------------------------------------------------------

@pytest.fixture
def admin(client, session):
    registration = factories.platform(session, factories.district(session))
    service.import_texts(session, Actor.for_system(registration.district_id, "test"), catalog_docs.sample_sources())
    token, _ = factories.signed_in(session, registration, {Role.DISTRICT_ADMIN})
    session.commit()
    client.set_cookie("mc_session", token, domain="localhost")
    return registration


def _csrf(client, path):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, ARABIC_THREE, HUGE])
def test_catalog_filter_and_export_numbers(client, admin, value):
    listing = client.get(f"/catalog/?effort={value}")
    assert listing.status_code == 400 and "Effort must be" in listing.text
    export = client.get(f"/catalog/manage/export/mc/morning-meeting.json?version={value}")
    assert export.status_code == 400 and "Version must be" in export.text


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, HUGE, "-1"])
def test_district_rules_form_numbers(client, admin, value):
    csrf = _csrf(client, "/catalog/manage")
    for name, label in (("attempts", "Attempts"), ("cooldown_days", "Cooldown"), ("window_days", "Submission window")):
        response = client.post("/catalog/manage/policy", data={"csrf_token": csrf, name: value})
        assert response.status_code == 400 and f"{label} must be" in response.text, (name, response.text[-400:])


def test_district_rules_have_upper_bounds(client, admin):
    csrf = _csrf(client, "/catalog/manage")
    response = client.post("/catalog/manage/policy", data={"csrf_token": csrf, "cooldown_days": "99999999"})
    assert response.status_code == 400 and "Cooldown must be 3650 or less" in response.text


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, HUGE, "1" * 12])
def test_stack_form_numbers(client, admin, value):
    form = {"csrf_token": _csrf(client, "/catalog/manage/stack"), "title": "Starter", "summary": "s",
            "description": "<p>d</p>", "members": ["morning-meeting"], "bonus_hours": value, "bonus_points": "0"}
    response = client.post("/catalog/manage/stack", data=form)
    assert response.status_code == 400 and "Bonus hours must be" in response.text


EDITOR_NUMBERS = ("effort_hours", "credit_hours", "credit_points", "policy_attempts", "policy_cooldown_days",
                  "policy_window_days", "c0_demonstrated", "t0_e0_min_words", "t0_e0_max_words")


def _editor_form(csrf):
    return {"csrf_token": csrf, "title": "Exit Tickets", "summary": "s", "grade_band": "K-12", "effort_hours": "6",
            "competency": "<p>c</p>", "key_method": "<p>k</p>", "components": "<p>c</p>", "research": "<p>r</p>",
            "submission_criteria": "<p>s</p>", "c0_title": "Design", "c0_l0_label": "Not yet",
            "c0_l1_label": "Demonstrated", "c0_demonstrated": "1", "t0_title": "Collect", "t0_criteria": "design",
            "t0_e0_label": "What changed", "t0_e0_type": "reflection"}


@pytest.mark.parametrize("field", EDITOR_NUMBERS)
@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, HUGE])
def test_editor_numbers_are_a_400_naming_the_field(client, admin, field, value):
    form = dict(_editor_form(_csrf(client, "/catalog/manage/edit")), **{field: value})
    saved = client.post("/catalog/manage/edit", data=form)
    assert saved.status_code == 400 and HUGE not in saved.text
    preview = client.post("/catalog/manage/preview", data=form)
    assert preview.status_code == 200 and HUGE not in preview.text
    assert re.search(r"must be a (whole )?number|is too large", preview.text), preview.text


def test_editor_row_numbers_in_field_names_do_not_crash(client, admin):
    form = dict(_editor_form(_csrf(client, "/catalog/manage/edit")), **{f"c{HUGE}_title": "x", f"t{HUGE}_title": "y",
                                                                          f"t0_e{HUGE}_label": "z"})
    assert client.post("/catalog/manage/preview", data=form).status_code == 200
    assert client.post("/catalog/manage/edit", data=form).status_code == 303


# --- rubric CSV --------------------------------------------------------------------------------------------

CSV_HEADER = "criterion,description,level,descriptor,demonstrated\n"


def test_rubric_csv_field_over_the_csv_limit_names_the_line():
    text = CSV_HEADER + "Design,,Not yet,Off.,\n" + "Design,,Demonstrated," + "x" * 200_000 + ",yes\n"
    with pytest.raises(rubric_csv.DocumentError) as caught:
        rubric_csv.parse(text)
    problems = caught.value.problems
    assert any(p.startswith("line 3:") and "longer than 128 KB" in p for p in problems), problems


def test_rubric_csv_rows_are_capped():
    rows = "".join(f"C{i},,Demonstrated,ok,yes\n" for i in range(rubric_csv.MAX_ROWS + 1))
    with pytest.raises(rubric_csv.DocumentError) as caught:
        rubric_csv.parse(CSV_HEADER + rows)
    assert caught.value.problems == [f"the file has more than {rubric_csv.MAX_ROWS:,} rows; a rubric has at most "
                                     "12 criteria of up to 6 levels"]


def test_rubric_csv_at_the_row_cap_is_read_in_full():
    rows = "".join(f"C{i},,Demonstrated,ok,yes\n" for i in range(rubric_csv.MAX_ROWS))
    rubric = rubric_csv.parse(CSV_HEADER + rows)  # the schema, not the CSV reader, refuses 2,000 criteria
    assert len(rubric["criteria"]) == rubric_csv.MAX_ROWS


def test_rubric_csv_upload_with_a_huge_field_is_a_400(client, admin):
    form = dict(_editor_form(_csrf(client, "/catalog/manage/edit")),
                rubric_csv=(io.BytesIO((CSV_HEADER + "A,,B," + "x" * 200_000 + ",yes\n").encode()), "r.csv"))
    response = client.post("/catalog/manage/edit", data=form, content_type="multipart/form-data")
    assert response.status_code == 400 and "line 2" in response.text


# --- JSON documents ------------------------------------------------------------------------------------------

def _import(client, text, name="deep.json"):
    csrf = _csrf(client, "/catalog/manage/import")
    return client.post("/catalog/manage/import", content_type="multipart/form-data", data={
        "csrf_token": csrf, "documents": [(io.BytesIO(text.encode()), name)]})


@pytest.mark.parametrize("text, says", [
    ('{"kind": ' + "[" * 1000 + "]" * 1000 + "}", "nested more than"),
    ("[" * 100_000, "nested more than"),
    ('{"kind": "stack", "version": ' + HUGE + "}", "has more than"),
    ('{"kind": "stack", "version": 1e999}', "too large"),
    ('{"kind": "stack", "version": NaN}', "NaN"),
    ('{"kind": "stack", "version": -Infinity}', "Infinity"),
])
def test_hostile_json_is_a_document_error(text, says):
    with pytest.raises(doc.DocumentError) as caught:
        doc.parse_text(text, "upload.json")
    assert says in caught.value.problems[0] and len(caught.value.problems[0]) < 300


def test_deeply_nested_import_is_a_400(client, admin):
    response = _import(client, '{"kind": ' + "[" * 1000 + "]" * 1000 + "}")
    assert response.status_code == 400 and "nested more than" in response.text


def test_load_json_measures_depth_and_counts_values():
    assert inputs.load_json('{"a": [[1]]}', max_depth=3, max_values=4) == {"a": [[1]]}
    with pytest.raises(BadRequest, match="nested more than 2 levels"):
        inputs.load_json('{"a": [[1]]}', max_depth=2, max_values=4)
    with pytest.raises(BadRequest, match="holds more than 3 values"):
        inputs.load_json('{"a": [[1]]}', max_depth=3, max_values=3)


@pytest.mark.parametrize("change, says", [
    (dict(topics=["a"] * 200_000), "not a catalog document: the JSON holds more than 10,000 values"),
    (dict(resources=[{}] * 20_000), "not a catalog document: the JSON holds more than 10,000 values"),
    (dict(topics=["a"] * 21), "topics: has 21 entries; at most 20"),
])
def test_long_lists_are_refused_before_the_schema_walks_them(change, says):
    with pytest.raises(doc.DocumentError) as caught:
        doc.parse(catalog_docs.mc(**change))
    assert caught.value.problems == [says]


def test_the_editor_refuses_a_form_with_a_huge_list(client, admin):
    form = dict(_editor_form(_csrf(client, "/catalog/manage/edit")), topics=",".join(["a"] * 20_000))
    response = client.post("/catalog/manage/edit", data=form)
    assert response.status_code == 400 and "more than 10,000 values" in response.text


@pytest.mark.parametrize("change, says", [
    (dict(version=10 ** 12), "version (line"),
    (dict(effort_hours=2 ** 40), "effort_hours (line"),
    (dict(title="t" * 201), "title (line"),
    (dict(summary="s" * 501), "summary (line"),
])
def test_values_the_database_cannot_hold_are_refused_with_their_field(client, admin, change, says):
    response = _import(client, json.dumps(catalog_docs.mc("too-big", **change), indent=2))
    assert response.status_code == 400 and says in response.text
    assert "t" * 201 not in response.text


# --- rich text -------------------------------------------------------------------------------------------------

def test_html_over_the_size_cap_names_the_field():
    data = catalog_docs.mc(research="<p>" + "x" * richtext.MAX_CHARS + "</p>")
    with pytest.raises(doc.DocumentError) as caught:
        doc.parse(data)
    assert caught.value.problems == [f"research: is {richtext.MAX_CHARS + 7:,} characters long; "
                                     f"at most {richtext.MAX_CHARS:,}"]


@pytest.mark.parametrize("html", [
    "<ul><li>" * 11,                                  # 22 open elements
    "<ul><li>x</li>" * 21,                            # the lists are never closed
    "<blockquote>" * 21 + "x" + "</blockquote>" * 21,
    "<em><strong>" * 11 + "<p>x</p>",                 # formatting elements are counted too
    '<ul title="a"b><ul>' * 11,                       # a stray quote hides nothing
])
def test_deep_html_is_refused_before_sanitising(html):
    data = catalog_docs.mc(tasks=[dict(catalog_docs.mc()["tasks"][0], instructions=html)])
    with pytest.raises(doc.DocumentError) as caught:
        doc.parse_text(json.dumps(data, indent=2), "upload.json")
    line = next(i for i, row in enumerate(json.dumps(data, indent=2).splitlines(), 1) if '"instructions"' in row)
    assert caught.value.problems == [f"tasks[0].instructions (line {line}): the HTML nests more than "
                                     f"{richtext.MAX_DEPTH} levels deep (lists inside lists?); flatten it"]


@pytest.mark.parametrize("html", [
    "<ul><li>" * 10 + "x" + "</li></ul>" * 10,       # 20 deep, the limit
    "<ul>" + "<li>one<li>two<li>three" * 30 + "</ul>",  # unclosed items close each other
    "<p>one<p>two<p>three" * 30,                      # so do unclosed paragraphs
    "<div>" + "<p><em>a</em></p>" * 500 + "</div>",
    "<!-- <ul><ul> -->" + "<p>x</p>",
])
def test_ordinary_html_passes_the_depth_check(html):
    assert richtext.problem(html) is None


def test_schema_limits_match_the_code():
    schema = json.loads(doc.SCHEMA_PATH.read_text())
    mc, stack = schema["oneOf"]
    for name in doc.HTML_FIELDS_MC:
        assert mc["properties"][name]["maxLength"] == richtext.MAX_CHARS, name
    task = mc["properties"]["tasks"]["items"]["properties"]
    assert task["instructions"]["maxLength"] == richtext.MAX_CHARS
    assert stack["properties"]["description"]["maxLength"] == richtext.MAX_CHARS
    from lti_tool.catalog.policy import LIMITS
    from lti_tool.catalog.editor_form import MAX_CREDIT
    assert stack["properties"]["bonus_credit"]["properties"]["hours"]["maximum"] == MAX_CREDIT
    for name, (low, high) in LIMITS.items():
        if name in mc["properties"]["policy"]["properties"]:
            assert mc["properties"]["policy"]["properties"][name]["maximum"] == high, name
    for branch in (mc, stack):
        assert branch["properties"]["title"]["maxLength"] == McVersion.__table__.c.title.type.length
        assert branch["properties"]["summary"]["maxLength"] == McVersion.__table__.c.summary.type.length
        assert branch["properties"]["slug"]["maxLength"] == MicroCredential.__table__.c.slug.type.length


def test_the_sample_catalog_is_well_inside_the_limits():
    for name, text in catalog_docs.sample_sources():
        data = json.loads(text)
        fields = [data.get(f) for f in (*doc.HTML_FIELDS_MC, "description")] + [
            t["instructions"] for t in data.get("tasks", [])]
        for html in filter(None, fields):
            assert len(html) < richtext.MAX_CHARS // 10 and richtext.problem(html) is None, name

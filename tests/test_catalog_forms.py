"""One form pattern for the catalog: a refused form comes back with what was typed, a plain message beside each
field (tied to it by aria-describedby) and a summary linking to them, never the schema validator's wording.
Also the editors' other promises: rich text typed as Markdown, members ordered by position, retire asks first
and can be undone, the catalog speaks to staff as staff."""
from __future__ import annotations

import html
import io
import json
import re

import pytest
from sqlalchemy import select

from lti_tool.catalog import document as doc
from lti_tool.catalog import editor_form, markdown, service
from lti_tool.catalog.models import MicroCredential, SchoolOffering, Status
from lti_tool.lti.roles import Role
from lti_tool.people.models import School
from tests.support import catalog_docs

SCHEMA_WORDS = ("is not of type", "does not match", "is not one of", "is a required property", "^[a-z0-9]",
                "Additional properties", "is too long", "validator")


@pytest.fixture
def catalog(session, district):
    catalog_docs.load(session, district.id, sources=catalog_docs.sample_sources())
    session.commit()
    return district


@pytest.fixture
def admin(sign_in, catalog):
    return sign_in({Role.DISTRICT_ADMIN})


def _editor_form(client, **changes):
    form = {"csrf_token": client.csrf, "title": "Exit Tickets That Work", "summary": "Check, then adjust.",
            "audience": "Any teacher", "grade_band": "K-12", "effort_hours": "6", "credit_hours": "4",
            "credit_points": "6", "issuer_name": "Lakeside",
            "competency": "Checks **understanding** daily.", "key_method": "Ask, sort, act.",
            "components": "- Ask\n- Sort\n- Act", "research": "See [the study](https://research.example/a).",
            "submission_criteria": "Three tickets.", "c0_title": "Question design", "c0_description": "On target.",
            "c0_l0_label": "Not yet", "c0_l0_descriptor": "Off.", "c0_l1_label": "Demonstrated",
            "c0_l1_descriptor": "On.", "c0_demonstrated": "1", "t0_title": "Collect tickets",
            "t0_instructions": "Run *three*.", "t0_criteria": "question-design", "t0_e0_label": "Photos",
            "t0_e0_type": "file", "t0_e0_required": "1"}
    form.update(changes)
    return form


def _field(page: str, name: str) -> str:
    """The markup of field ``name``'s wrapper: its label, hint, error and control."""
    found = re.search(r'<div class="field[^"]*">(?:(?!<div class="field).)*?id="f-' + re.escape(name) + r'"[^>]*>',
                      page, re.S)
    assert found, f"no field {name}"
    return found.group(0)


def _assert_refused_beside(page: str, name: str, says: str) -> None:
    field = _field(page, name)
    assert f'id="f-{name}-error"' in field and says in html.unescape(field), field
    assert re.search(rf'id="f-{re.escape(name)}"[^>]*aria-describedby="[^"]*f-{re.escape(name)}-error', page) or \
        re.search(rf'aria-describedby="[^"]*f-{re.escape(name)}-error[^"]*"[^>]*id="f-{re.escape(name)}"', page)
    summary = page[page.index('class="error-summary"'):]
    assert f'href="#f-{name}"' in summary[:summary.index("</div>")]
    assert not any(words in page for words in SCHEMA_WORDS)


def test_mc_editor_keeps_what_was_typed_and_says_what_to_fix_beside_it(admin):
    form = _editor_form(admin, effort_hours="ten", slug="Not A Slug!")
    response = admin.post("/catalog/manage/edit", data=form)
    assert response.status_code == 400
    page = response.text
    assert 'role="alert"' in page and "data-error-summary" in page
    _assert_refused_beside(page, "effort_hours", "Effort must be a whole number of hours, like 10.")
    _assert_refused_beside(page, "slug", "lowercase letters, digits and hyphens")
    assert ">On.</textarea>" in page
    for name in ("title", "summary", "audience", "effort_hours", "c0_title", "t0_title",
                 "t0_e0_label"):
        assert f'value="{html.escape(form[name], quote=True)}"' in _field(page, name), name
    assert "Checks **understanding** daily.</textarea>" in page  # Markdown comes back as typed, not as HTML
    assert "- Ask\n- Sort\n- Act</textarea>" in page


def test_a_rule_out_of_range_and_a_missing_link_criterion_are_said_plainly(admin):
    response = admin.post("/catalog/manage/edit", data=_editor_form(admin, policy_attempts="0"))
    assert response.status_code == 400
    _assert_refused_beside(response.text, "policy_attempts", "Attempts must be a whole number from 1 to 100")
    response = admin.post("/catalog/manage/edit", data=_editor_form(admin, t0_criteria="nope"))
    assert response.status_code == 400
    _assert_refused_beside(response.text, "t0_criteria", "There is no rubric criterion 'nope'")


def test_a_refused_rubric_csv_keeps_the_rest_and_asks_for_the_file_again(admin):
    form = _editor_form(admin, rubric_csv=(io.BytesIO(b"criterion,level\nA,B\n"), "rubric.csv"))
    response = admin.post("/catalog/manage/edit", data=form, content_type="multipart/form-data")
    assert response.status_code == 400
    _assert_refused_beside(response.text, "rubric_csv", "choose it again")
    assert "rubric.csv was not used: line 1: missing column(s)" in html.unescape(response.text)
    assert 'value="Exit Tickets That Work"' in response.text and 'value="Question design"' in response.text


def test_a_rubric_csv_sent_with_another_mistake_is_asked_for_again(admin):
    csv = b"criterion,description,level,descriptor,demonstrated\nA,,No,x,\nA,,Yes,y,yes\n"
    form = _editor_form(admin, effort_hours="ten", rubric_csv=(io.BytesIO(csv), "rubric.csv"))
    response = admin.post("/catalog/manage/edit", data=form, content_type="multipart/form-data")
    assert response.status_code == 400 and "choose it again" in _field(response.text, "rubric_csv")


def test_a_stale_editor_keeps_what_was_typed(admin, session):
    page = admin.get("/catalog/manage/edit/morning-meeting").text
    lock = re.search(r'name="edit_lock" value="([\d:]+)"', page).group(1)
    service.save_draft(session, admin.actor, json.loads(service.export_text(session, admin.actor, "mc",
                                                                            "morning-meeting")), lock)
    session.commit()
    form = _editor_form(admin, edit_lock=lock, title="My careful rewrite")
    response = admin.post("/catalog/manage/edit/morning-meeting", data=form)
    assert response.status_code == 409
    assert "Someone saved this micro-credential" in response.text and 'value="My careful rewrite"' in response.text


def test_a_new_mc_under_a_taken_short_name_is_told_beside_the_short_name(admin):
    response = admin.post("/catalog/manage/edit", data=_editor_form(admin, slug="morning-meeting"))
    assert response.status_code == 409
    _assert_refused_beside(response.text, "slug", "already exists")


def test_a_duplicate_title_names_the_other_micro_credential(admin, session):
    taken = session.scalar(select(MicroCredential).where(MicroCredential.slug == "morning-meeting")).published.title
    response = admin.post("/catalog/manage/edit", data=_editor_form(admin, title=taken.upper()))
    assert response.status_code == 400
    _assert_refused_beside(response.text, "title", f"“{taken}” (morning-meeting)")


def test_import_refuses_a_duplicate_title_and_an_over_long_summary_like_the_editor(session, catalog, admin):
    twin = catalog_docs.mc("twin", title=catalog_docs.mc("exit-tickets")["title"])
    with pytest.raises(doc.DocumentError, match="another micro-credential already has this title"):
        service.import_texts(session, admin.actor, [("a.json", json.dumps(catalog_docs.mc("exit-tickets"))),
                                                    ("b.json", json.dumps(twin))])
    schema = json.loads(doc.SCHEMA_PATH.read_text())
    assert all(branch["properties"]["summary"]["maxLength"] == editor_form.MAX_SUMMARY for branch in schema["oneOf"])
    long = catalog_docs.mc("long-one", summary="x" * (editor_form.MAX_SUMMARY + 1))
    says = rf"summary \(line 1\): is {editor_form.MAX_SUMMARY + 1:,} characters long"
    with pytest.raises(doc.DocumentError, match=says):
        service.import_texts(session, admin.actor, [("long.json", json.dumps(long))])
    page = admin.get("/catalog/manage/edit").text
    assert f'maxlength="{editor_form.MAX_SUMMARY}"' in _field(page, "summary")


def test_stack_editor_keeps_what_was_typed_and_orders_members_by_position(admin, session):
    form = {"csrf_token": admin.csrf, "title": "Starter Pack", "summary": "First steps.", "description": "**Go.**",
            "members": ["morning-meeting", "restorative-conversations"], "position_morning-meeting": "2",
            "position_restorative-conversations": "1", "bonus_hours": "lots", "bonus_points": "0"}
    refused = admin.post("/catalog/manage/stack", data=form)
    assert refused.status_code == 400
    _assert_refused_beside(refused.text, "bonus_hours", "Bonus hours must be a number from 0 to 1,000")
    assert 'value="Starter Pack"' in refused.text and 'value="lots"' in refused.text
    assert re.search(r'value="morning-meeting" checked', refused.text)
    assert 'name="position_morning-meeting" inputmode="numeric" size="3" value="2"' in refused.text
    assert admin.post("/catalog/manage/stack", data=dict(form, bonus_hours="3")).status_code == 303
    version = service.get_stack(session, admin.actor, "starter-pack").published
    assert version.document["micro_credentials"] == ["restorative-conversations", "morning-meeting"]
    assert version.document["description"] == "<p><strong>Go.</strong></p>"
    page = admin.get("/catalog/manage/stack/starter-pack").text
    assert 'name="position_restorative-conversations" inputmode="numeric" size="3" value="1"' in page
    assert "**Go.**</textarea>" in page


def test_district_rules_form_keeps_what_was_typed(admin):
    manage = admin.get("/catalog/manage").text
    response = admin.post("/catalog/manage/policy", data={"csrf_token": admin.csrf, "attempts": "three",
                                                         "cooldown_days": "12", "plan_approval": "1"})
    assert response.status_code == 400 and "District rules" in manage
    _assert_refused_beside(response.text, "attempts", "Attempts must be a whole number")
    assert 'value="three"' in _field(response.text, "attempts")
    assert 'value="12"' in _field(response.text, "cooldown_days")
    assert re.search(r'id="f-plan_approval" name="plan_approval" value="1" checked', response.text)


def test_markdown_is_stored_as_the_catalog_html_and_edited_as_markdown(admin, session):
    assert admin.post("/catalog/manage/edit", data=_editor_form(admin)).status_code == 303
    raw = service.draft_version(service.get_mc(session, admin.actor, "exit-tickets-that-work")).document
    assert raw["competency"] == "<p>Checks <strong>understanding</strong> daily.</p>"
    assert raw["components"] == "<ul>\n<li>Ask</li>\n<li>Sort</li>\n<li>Act</li>\n</ul>"
    assert '<a href="https://research.example/a" rel="noopener noreferrer">the study</a>' in raw["research"]
    assert raw["tasks"][0]["instructions"] == "<p>Run <em>three</em>.</p>"
    page = admin.get("/catalog/manage/edit/exit-tickets-that-work").text
    assert "See [the study](https://research.example/a).</textarea>" in page and "Run *three*.</textarea>" in page


@pytest.mark.parametrize("html_in, md", [
    ("<p>One <strong>two</strong> <em>three</em></p><p>Four</p>", "One **two** *three*\n\nFour"),
    ("<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul>", "- a\n- b\n  - c"),
    ("<ol><li>x</li><li>y</li></ol>", "1. x\n2. y"),
    ("<h3>Why</h3><h4>How</h4><blockquote><p>Said</p></blockquote>", "### Why\n\n#### How\n\n> Said"),
    ("<p>a<br>b</p>", "a\\\nb"),
    ("<p>5 * 3 &lt; 20 &amp; [x] #1</p>", "5 \\* 3 \\< 20 & \\[x\\] #1"),
    ("<p>- not a list</p>", "\\- not a list"),
])
def test_html_to_markdown_for_the_catalog_tags(html_in, md):
    assert markdown.from_html(html_in) == md
    assert doc.sanitize(markdown.to_html(md)).replace("\n", "").replace("<br />", "<br>") == html_in


def test_every_sample_field_survives_markdown_and_back():
    for _, text in catalog_docs.sample_sources():
        data = json.loads(text)
        fields = [data.get(name) for name in (*doc.HTML_FIELDS_MC, "description")]
        fields += [task["instructions"] for task in data.get("tasks", [])]
        for value in filter(None, fields):
            back = doc.sanitize(markdown.to_html(markdown.from_html(value)))
            assert re.sub(r"\s+", "", back) == re.sub(r"\s+", "", doc.sanitize(value)), value


def test_headings_become_the_catalogs_levels_and_images_stay_text():
    assert markdown.to_html("# Big\n\n##### Small") == "<h3>Big</h3>\n<h4>Small</h4>"
    assert "<img" not in doc.sanitize(markdown.to_html("![x](https://a.example/x.png)"))


def test_retire_asks_first_and_a_retired_mc_can_be_restored(admin, session):
    asked = admin.post("/catalog/manage/morning-meeting/retire", data={"csrf_token": admin.csrf})
    assert asked.status_code == 200 and "Retire it" in asked.text and 'name="confirm" value="1"' in asked.text
    session.expire_all()
    assert service.get_mc(session, admin.actor, "morning-meeting").status == Status.PUBLISHED
    done = admin.post("/catalog/manage/morning-meeting/retire", data={"csrf_token": admin.csrf, "confirm": "1"})
    assert done.status_code == 303
    session.expire_all()
    assert service.get_mc(session, admin.actor, "morning-meeting").status == Status.RETIRED
    manage = admin.get("/catalog/manage").text
    assert "/catalog/manage/morning-meeting/restore" in manage
    assert admin.post("/catalog/manage/morning-meeting/restore", data={"csrf_token": admin.csrf}).status_code == 303
    session.expire_all()
    assert service.get_mc(session, admin.actor, "morning-meeting").status == Status.PUBLISHED


def test_the_editor_labels_every_box_and_leaves_new_evidence_optional(admin):
    page = admin.get("/catalog/manage/edit").text
    for name in ("t0_e0_min_words", "t0_e0_max_words", "t0_e0_required", "c0_l0_label", "c0_l0_descriptor"):
        assert f'<label for="f-{name}"' in page or f'<label class="check" for="f-{name}"' in page, name
    assert not re.search(r'name="t0_e0_required" value="1" checked', page)
    assert re.search(r'id="f-c0_title" name="c0_title"', page)


def test_staff_see_where_items_are_offered_and_teachers_see_their_own_wording(sign_in, session, catalog):
    school = session.scalar(select(School).where(School.code == "LES"))
    stack = service.get_stack(session, sign_in({Role.DISTRICT_ADMIN}).actor, "classroom-culture")
    session.add(SchoolOffering(school_id=school.id, stack_id=stack.id))
    session.commit()
    principal = sign_in(set(), school_id=school.id, school_admin=True)
    listing = principal.get("/catalog/").text
    assert "Offered at Lakeside" in listing and "Not offered at Lakeside" in listing
    assert "evidence from your own classroom" not in listing
    mc = principal.get("/catalog/mc/morning-meeting").text
    assert "Offered at Lakeside" in mc and "What you'll do" not in mc
    assert "Choose what your school offers" in mc

    teacher = sign_in({Role.TEACHER}, school_id=school.id)
    listing = teacher.get("/catalog/").text
    assert "evidence from your own classroom" in listing and "Not offered at" not in listing
    page = teacher.get("/catalog/mc/morning-meeting").text
    assert "What you'll do" in page and re.search(r"<button[^>]*disabled[^>]*>Start this micro-credential", page)
    assert "Edit this micro-credential" not in page

    admin = sign_in({Role.DISTRICT_ADMIN})
    page = admin.get("/catalog/mc/morning-meeting").text
    assert "Edit this micro-credential" in page and "What you'll do" not in page


def test_no_schema_wording_reaches_the_editor_for_any_kind_of_finding():
    """Every finding the schema can make, said by the document check, then by the editor."""
    from lti_tool.catalog import form_errors

    raw = editor_form.to_document(_editor_form(type("C", (), {"csrf": "x"})(), effort_hours="ten", grade_band="P-3",
                                               slug="Bad Slug", t0_e0_type="fax", c0_title="x" * 10))
    raw["rubric"]["criteria"][0]["levels"] = raw["rubric"]["criteria"][0]["levels"][:1]
    with pytest.raises(doc.DocumentError) as caught:
        doc.parse(dict(raw, version=1))
    refusal = form_errors.refusal(caught.value, _editor_form(type("C", (), {"csrf": "x"})(), t0_e0_type="fax"))
    said = " ".join(text for _, text in refusal.summary)
    assert not any(words in said for words in SCHEMA_WORDS), said
    assert {"effort_hours", "grade_band", "slug", "t0_e0_type", "c0_levels"} <= set(refusal.errors), refusal.errors

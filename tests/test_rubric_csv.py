"""Rubric CSV import: the rows districts keep, and errors that name the line."""
import io
import re

import pytest

from lti_tool.catalog import rubric_csv, service
from lti_tool.catalog.document import DocumentError
from lti_tool.lti.roles import Role
from tests.support import factories

GOOD = """criterion,description,level,descriptor,demonstrated
Question design,The questions target the goal.,Not yet,Off target.,
Question design,,Developing,Partly on target.,
Question design,,Demonstrated,On target.,yes
Use of results,Tomorrow's plan changes.,Not yet,No change.,
Use of results,,Demonstrated,The plan changes.,Yes
"""


def test_rows_become_criteria_with_levels_and_threshold():
    rubric = rubric_csv.parse("\ufeff" + GOOD)
    assert [(c["key"], len(c["levels"]), c["demonstrated_level"]) for c in rubric["criteria"]] == [
        ("question-design", 3, 2), ("use-of-results", 2, 1)]
    assert rubric["criteria"][0]["description"] == "The questions target the goal."


@pytest.mark.parametrize("text, says", [
    ("criterion,level\nA,B\n", "line 1: missing column(s) description, descriptor, demonstrated"),
    (GOOD.replace(",,Developing,", ",,,"), "line 3: criterion and level are required"),
    (GOOD.replace("On target.,yes", "On target.,"), "'Question design': mark one level as demonstrated"),
    (GOOD + "Question design,,Exemplary,Beyond.,\n", "line 7: the rows of 'Question design' must be together"),
])
def test_bad_rows_name_the_line(text, says):
    with pytest.raises(DocumentError) as caught:
        rubric_csv.parse(text)
    assert says in caught.value.problems


def test_editor_saves_a_rubric_from_csv(client, session):
    from tests.support import catalog_docs

    registration = factories.platform(session, factories.district(session))
    token, admin = factories.signed_in(session, registration, {Role.DISTRICT_ADMIN})
    catalog_docs.load(session, registration.district_id, catalog_docs.mc("a"))
    session.commit()
    client.set_cookie("mc_session", token, domain="localhost")
    page = client.get("/catalog/manage/edit/a").text
    form = {k: v for k, v in re.findall(r'<input (?![^>]*type="(?:checkbox|radio)")[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"', page)}
    form.update({name: text for name, text in re.findall(r'<textarea name="([^"]+)"[^>]*>([^<]*)</textarea>', page)})
    form.update({"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
                 "edit_lock": re.search(r'name="edit_lock" value="([\d:]+)"', page).group(1), "slug": "a",
                 "t0_criteria": "question-design, use-of-results", "t0_e0_type": "file", "t0_e0_required": "1",
                 "t0_e1_type": "reflection", "t0_e1_required": "1", "grade_band": "K-12",
                 "rubric_csv": (io.BytesIO(GOOD.encode()), "rubric.csv")})
    response = client.post("/catalog/manage/edit/a", data=form, content_type="multipart/form-data")
    assert response.status_code == 303, response.text[-600:]
    session.expire_all()
    draft = service.draft_version(service.get_mc(session, admin, "a"))
    assert [c["key"] for c in draft.document["rubric"]["criteria"]] == ["question-design", "use-of-results"]

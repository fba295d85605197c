"""The catalog as people see it: a teacher browses and reads, a principal chooses, a district admin edits."""
import html
import io
import json
import re

import pytest
from sqlalchemy import select

from lti_tool.catalog import service
from lti_tool.catalog.models import MicroCredential, SchoolOffering
from lti_tool.lti.roles import Role
from lti_tool.people.models import District, School
from tests.support import catalog_docs, factories


@pytest.fixture
def world(session):
    district = factories.district(session)
    registration = factories.platform(session, district)
    catalog_docs.load(session, district.id, sources=catalog_docs.sample_sources())
    school = session.scalar(select(School).where(School.code == "LES"))
    session.commit()
    return registration, school


def _as(client, session, registration, roles, **kwargs):
    token, actor = factories.signed_in(session, registration, roles, **kwargs)
    session.commit()
    client.set_cookie("mc_session", token, domain="localhost")
    return actor


def _csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _first_mc(session):
    return session.scalars(select(MicroCredential).order_by(MicroCredential.slug)).first()


def test_teacher_sees_a_kind_empty_state_until_the_school_offers(client, session, world):
    registration, school = world
    _as(client, session, registration, {Role.TEACHER}, school_id=school.id)
    page = client.get("/catalog/")
    assert page.status_code == 200 and "has not chosen its micro-credentials yet" in page.text


def test_principal_offers_and_teacher_reads_the_six_parts_and_rubric(client, session, world):
    registration, school = world
    _as(client, session, registration, {Role.FACILITATOR}, school_id=school.id, school_admin=True)
    mc = _first_mc(session)
    page = client.get("/catalog/offer")
    assert page.status_code == 200
    response = client.post("/catalog/offer", data={"csrf_token": _csrf(page.text), "kind": "mc", "slug": mc.slug,
                                                   "offered": "1", "featured": "1"})
    assert response.status_code == 303
    assert session.scalar(select(SchoolOffering.featured)) is True

    _as(client, session, registration, {Role.TEACHER}, school_id=school.id)
    listing = client.get("/catalog/")
    title = mc.published.title
    assert title in listing.text and "Featured" in listing.text
    detail = client.get(f"/catalog/mc/{mc.slug}")
    for heading in ("1. Competency", "2. Key method", "3. Components", "4. Research and resources",
                    "5. What to submit", "6. Scoring rubric"):
        assert heading in detail.text
    assert "✓" in detail.text and "not yet" in detail.text


def test_teacher_cannot_open_what_the_school_does_not_offer(client, session, world):
    registration, school = world
    _as(client, session, registration, {Role.TEACHER}, school_id=school.id)
    assert client.get(f"/catalog/mc/{_first_mc(session).slug}").status_code == 404


def test_search_narrows_the_list(client, session, world):
    registration, _ = world
    _as(client, session, registration, {Role.DISTRICT_ADMIN})
    everything = client.get("/catalog/").text
    narrowed = client.get("/catalog/?q=zzzz-no-match").text
    assert "Nothing matches those filters" in narrowed and "Nothing matches" not in everything


def test_teachers_cannot_manage_or_offer(client, session, world):
    registration, school = world
    _as(client, session, registration, {Role.TEACHER}, school_id=school.id)
    assert client.get("/catalog/manage").status_code == 403
    assert client.get("/catalog/manage/edit").status_code == 403
    assert client.get("/catalog/offer").status_code == 403


def test_district_admin_writes_previews_saves_and_publishes(client, session, world):
    registration, _ = world
    admin = _as(client, session, registration, {Role.DISTRICT_ADMIN, Role.FACILITATOR})
    page = client.get("/catalog/manage/edit")
    assert page.status_code == 200 and "Teacher's view" in page.text
    form = {
        "csrf_token": _csrf(page.text), "title": "Think-Pair-Share That Works", "summary": "Every voice, every day.",
        "audience": "Grades 3-8 teachers", "grade_band": "6-8", "topics": "discussion, engagement",
        "effort_hours": "6", "credit_hours": "4", "credit_points": "6", "issuer_name": "Lakeside",
        "policy_plan_approval": "", "policy_attempts": "4", "policy_cooldown_days": "", "policy_window_days": "",
        "competency": "<p>Structures partner talk.</p><script>alert(1)</script>", "key_method": "<p>Think, pair, share.</p>",
        "components": "<p>Prompt, timing, reporting.</p>", "research": "<p>Talk builds understanding.</p>",
        "resources": "Accountable Talk Sourcebook | Michaels, O'Connor, Resnick |",
        "submission_criteria": "<p>A video and a reflection.</p>",
        "c0_title": "Prompt design", "c0_description": "Open questions.",
        "c0_l0_label": "Not yet", "c0_l0_descriptor": "Closed.", "c0_l1_label": "Demonstrated",
        "c0_l1_descriptor": "Open.", "c0_demonstrated": "1",
        "t0_title": "Film a lesson", "t0_instructions": "<p>Film ten minutes.</p>", "t0_criteria": "prompt-design",
        "t0_e0_label": "Lesson video", "t0_e0_type": "video", "t0_e0_required": "1",
    }
    preview = client.post("/catalog/manage/preview", data=form)
    assert preview.status_code == 200 and "Prompt design" in preview.text and "<script>" not in preview.text
    broken = client.post("/catalog/manage/preview", data=dict(form, t0_criteria="nope"))
    assert "no rubric criterion 'nope'" in html.unescape(broken.text)

    saved = client.post("/catalog/manage/edit", data=form)
    assert saved.status_code == 303
    mc = service.get_mc(session, admin, "think-pair-share-that-works")
    assert mc.status.value == "draft" and "<script>" not in mc.versions[0].document["competency"]
    assert mc.versions[0].document["policy"] == {"attempts": 4}  # the empty rule fields follow the district
    manage = client.get("/catalog/manage").text
    published = client.post("/catalog/manage/think-pair-share-that-works/publish", data={"csrf_token": _csrf(manage)})
    assert published.status_code == 303
    session.expire_all()
    assert service.get_mc(session, admin, "think-pair-share-that-works").status.value == "published"


def test_stale_editor_gets_a_conflict_not_an_overwrite(client, session, world):
    registration, _ = world
    _as(client, session, registration, {Role.DISTRICT_ADMIN})
    slug = _first_mc(session).slug
    page = client.get(f"/catalog/manage/edit/{slug}").text
    lock = re.search(r'name="edit_lock" value="([\d:]+)"', page).group(1)
    _, other_admin = factories.signed_in(session, registration, {Role.DISTRICT_ADMIN})
    raw = json.loads(service.export_text(session, other_admin, "mc", slug))
    service.save_draft(session, other_admin, dict(raw, title="Someone else's edit"), lock)
    session.commit()
    form = {"csrf_token": _csrf(page), "edit_lock": lock, "slug": slug, "title": "Mine"}  # stale lock: refused first
    response = client.post(f"/catalog/manage/edit/{slug}", data=form)
    assert response.status_code == 409
    session.expire_all()
    assert service.draft_version(service.get_mc(session, other_admin, slug)).title == "Someone else's edit"


def test_import_upload_is_all_or_nothing_with_field_and_line(client, session, world):
    registration, _ = world
    _as(client, session, registration, {Role.DISTRICT_ADMIN})
    csrf = _csrf(client.get("/catalog/manage/import").text)
    good = json.dumps(catalog_docs.mc("brand-new"), indent=2)
    bad = json.dumps(catalog_docs.mc("also-new", grade_band="college"), indent=2)
    response = client.post("/catalog/manage/import", content_type="multipart/form-data", data={
        "csrf_token": csrf, "publish": "1",
        "documents": [(io.BytesIO(good.encode()), "good.json"), (io.BytesIO(bad.encode()), "bad.json")]})
    assert response.status_code == 400
    assert "grade_band (line" in response.text and "bad.json" in response.text
    assert session.scalar(select(MicroCredential).where(MicroCredential.slug == "brand-new")) is None
    response = client.post("/catalog/manage/import", content_type="multipart/form-data", data={
        "csrf_token": csrf, "publish": "1", "documents": [(io.BytesIO(good.encode()), "good.json")]})
    assert response.status_code == 200 and "Imported 1" in response.text


def test_export_downloads_the_canonical_document(client, session, world):
    registration, _ = world
    _as(client, session, registration, {Role.DISTRICT_ADMIN})
    name, text = catalog_docs.sample_sources()[0]
    data = json.loads(text)
    kind = "stack" if data["kind"] == "stack" else "mc"
    response = client.get(f"/catalog/manage/export/{kind}/{data['slug']}.json")
    assert response.status_code == 200 and response.text == text
    assert f'filename="{kind}-{data["slug"]}.json"' in response.headers["Content-Disposition"]


def test_district_rules_open_the_catalog_and_apply_to_every_mc_that_sets_none(client, session, world):
    registration, school = world
    _as(client, session, registration, {Role.TEACHER}, school_id=school.id)
    assert "has not chosen" in client.get("/catalog/").text
    _as(client, session, registration, {Role.DISTRICT_ADMIN})
    manage = client.get("/catalog/manage").text
    assert "<title>Manage the catalog · Microcred</title>" in manage and manage.count("District rules") == 1
    csrf = _csrf(manage)
    bad = client.post("/catalog/manage/policy", data={"csrf_token": csrf, "attempts": "three"})
    assert bad.status_code == 400 and "whole number" in bad.text
    saved = client.post("/catalog/manage/policy", data={"csrf_token": csrf, "attempts": "5", "cooldown_days": "7",
                                                       "plan_approval": "1", "window_days": "60",
                                                       "district_catalog_visible": "1"})
    assert saved.status_code == 303
    editor = client.get("/catalog/manage/edit/morning-meeting").text
    assert "District rule: 5 attempts" in editor and "District rule: 7 days" in editor
    assert re.search(r'name="policy_attempts" type="text" value=""', editor)  # empty: it inherits
    _as(client, session, registration, {Role.TEACHER}, school_id=school.id)
    listing = client.get("/catalog/").text
    assert "Classroom Culture" in listing and "Basic Performance Assessment Design" in listing
    # The sample MCs set no rules of their own: the district's apply.
    detail = client.get("/catalog/mc/morning-meeting").text
    assert "Attempts: 5" in detail and "wait 7 days" in detail and "within 60 days" in detail
    assert "plan needs your school administrator's approval" in detail


def test_an_mcs_own_rule_wins_and_no_window_beats_the_districts(client, session, world):
    registration, school = world
    session.get(District, registration.district_id).policy = {"window_days": 60, "district_catalog_visible": True}
    catalog_docs.load(session, registration.district_id,
                      catalog_docs.mc("own-rules", policy={"attempts": 2, "window_days": "none"}))
    _as(client, session, registration, {Role.TEACHER}, school_id=school.id)
    detail = client.get("/catalog/mc/own-rules").text
    assert "Attempts: 2" in detail and "within" not in detail
    assert "within 60 days" in client.get("/catalog/mc/morning-meeting").text


def test_district_admin_builds_and_changes_a_stack(client, session, world):
    registration, _ = world
    admin = _as(client, session, registration, {Role.DISTRICT_ADMIN})
    page = client.get("/catalog/manage/stack").text
    form = {"csrf_token": _csrf(page), "title": "New Teacher Essentials", "summary": "First-year basics.",
            "description": "<p>Start here.</p><script>x()</script>", "members": ["morning-meeting", "restorative-conversations"],
            "bonus_hours": "2", "bonus_points": "0"}
    assert client.post("/catalog/manage/stack", data=form).status_code == 303
    version = service.get_stack(session, admin, "new-teacher-essentials").published
    assert version.number == 1 and version.document["micro_credentials"] == ["morning-meeting", "restorative-conversations"]
    assert "<script>" not in version.document["description"]
    edit = client.get("/catalog/manage/stack/new-teacher-essentials").text
    # Members are listed first, in the stack's order, before the alphabetically first other MC.
    assert (edit.index('value="morning-meeting"') < edit.index('value="restorative-conversations"')
            < edit.index('value="advanced-performance-assessment-design"'))
    lock = re.search(r'name="edit_lock" value="([\d:]+)"', edit).group(1)
    changed = dict(form, slug="new-teacher-essentials", edit_lock=lock, members=["morning-meeting"], csrf_token=_csrf(edit))
    assert client.post("/catalog/manage/stack/new-teacher-essentials", data=changed).status_code == 303
    stale = client.post("/catalog/manage/stack/new-teacher-essentials", data=changed)
    assert stale.status_code == 409
    unknown = dict(form, title="Ghosts", members=["no-such-mc"])
    assert client.post("/catalog/manage/stack", data=unknown).status_code == 400
    session.expire_all()
    stack = service.get_stack(session, admin, "new-teacher-essentials")
    assert [v.number for v in stack.versions] == [1, 2]
    assert stack.published.document["micro_credentials"] == ["morning-meeting"]

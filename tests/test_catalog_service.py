"""Catalog rules: import all-or-nothing and idempotent, versions that never change under a teacher,
prerequisites, what each role sees, who may change what."""
import json

import pytest
from sqlalchemy import func, select

from lti_tool.catalog import document as doc
from lti_tool.catalog import offer, service
from lti_tool.catalog.models import McVersion, MicroCredential, SchoolOffering, Stack, Status, VersionState
from lti_tool.errors import Conflict, Forbidden, NotFound
from lti_tool.lti.actor import Actor
from lti_tool.lti.roles import Role
from lti_tool.people.models import District, School, User
from lti_tool.people.service import ensure_district, ensure_school
from tests.support import catalog_docs


def _text(data):
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@pytest.fixture
def district(session):
    found = ensure_district(session, slug="lakeside", name="Lakeside")
    ensure_school(session, found, code="LES", name="Lakeside Elementary")
    ensure_school(session, found, code="RMS", name="Ridgeview Middle")
    session.flush()
    return found


def _school(session, district, code):
    return session.scalar(select(School).where(School.district_id == district.id, School.code == code))


def _actor(district, roles, school=None, school_admin=False, test_user=False):
    """An actor backed by a real user row (audit events point at it)."""
    from sqlalchemy.orm import object_session
    import uuid

    session = object_session(district)
    user = User(district_id=district.id, issuer="https://canvas.instructure.com", subject=uuid.uuid4().hex)
    session.add(user)
    session.flush()
    return Actor(user_id=user.id, district_id=district.id, roles=frozenset(roles), registration_id=1,
                 deployment_id="d", school_id=school.id if school else None, school_admin=school_admin,
                 test_user=test_user)


def _import(session, district, *docs, publish=True):
    return service.import_texts(session, None, district.id, [(f"{d['slug']}.json", _text(d)) for d in docs],
                                publish=publish)


def test_sample_catalog_round_trips_byte_for_byte(session, district):
    sources = catalog_docs.sample_sources()
    result = service.import_texts(session, None, district.id, sources)
    assert len(result.created) == len(sources) and not result.unchanged
    for name, text in sources:
        data = json.loads(text)
        kind = "stack" if data["kind"] == "stack" else "mc"
        assert service.export_text(session, district.id, kind, data["slug"]) == text, name
    again = service.import_texts(session, None, district.id, sources)
    assert not again.created and len(again.unchanged) == len(sources)


def test_an_invalid_document_changes_nothing(session, district):
    good, bad = catalog_docs.mc("good"), catalog_docs.mc("bad")
    bad["tasks"][0]["criteria"] = ["nope"]
    with pytest.raises(doc.DocumentError):
        _import(session, district, good, bad)
    assert session.scalar(select(func.count()).select_from(MicroCredential)) == 0


def test_same_version_with_different_content_is_refused(session, district):
    _import(session, district, catalog_docs.mc("a"))
    changed = catalog_docs.mc("a", title="Changed")
    with pytest.raises(doc.DocumentError, match="already exists with different content"):
        _import(session, district, changed)
    assert service.published_version(service.get_mc(session, district.id, "a")).title == "Title of a"


def test_stack_members_and_prerequisites_must_exist_and_not_cycle(session, district):
    with pytest.raises(doc.DocumentError, match="unknown micro-credential 'ghost'"):
        _import(session, district, catalog_docs.mc("a"), catalog_docs.stack("s", ["a", "ghost"]))
    with pytest.raises(doc.DocumentError, match="cycle: a → b → a|cycle: b → a → b"):
        _import(session, district, catalog_docs.mc("a", prerequisites=["b"]), catalog_docs.mc("b", prerequisites=["a"]))
    assert session.scalar(select(func.count()).select_from(MicroCredential)) == 0
    _import(session, district, catalog_docs.mc("a"), catalog_docs.mc("b", prerequisites=["a"]))
    assert service.prerequisite_graph(session, district.id) == {"a": (), "b": ("a",)}


def test_a_new_version_never_changes_the_one_a_teacher_started(session, district):
    _import(session, district, catalog_docs.mc("a"))
    v1 = service.published_version(service.get_mc(session, district.id, "a"))
    v1_document = json.dumps(v1.document, sort_keys=True)
    _import(session, district, catalog_docs.mc("a", version=2, title="Revised"))
    mc = service.get_mc(session, district.id, "a")
    assert [(v.number, v.state) for v in mc.versions] == [(1, VersionState.SUPERSEDED), (2, VersionState.PUBLISHED)]
    session.expire_all()
    assert json.dumps(session.get(McVersion, v1.id).document, sort_keys=True) == v1_document
    with pytest.raises(doc.DocumentError, match="already exists with different content"):
        _import(session, district, catalog_docs.mc("a", version=1, title="Older"))
    _import(session, district, catalog_docs.mc("a", version=4, title="Jumped"))
    with pytest.raises(doc.DocumentError, match="newer than 3"):
        _import(session, district, catalog_docs.mc("a", version=3, title="Late"))


def test_editing_a_published_mc_makes_a_draft_and_stale_saves_conflict(session, district):
    admin = _actor(district, {Role.DISTRICT_ADMIN})
    _import(session, district, catalog_docs.mc("a"))
    published = service.published_version(service.get_mc(session, district.id, "a"))
    draft = service.save_draft(session, admin, district.id, catalog_docs.mc("a", title="Draft 1"),
                               service.lock_token(published))
    assert draft.number == 2 and draft.state == VersionState.DRAFT
    lock = service.lock_token(draft)
    service.save_draft(session, admin, district.id, catalog_docs.mc("a", title="Draft 2"), lock)
    with pytest.raises(Conflict):  # an editor still holding the published version's token
        service.save_draft(session, admin, district.id, catalog_docs.mc("a", title="Late"), service.lock_token(published))
    with pytest.raises(Conflict):  # a second editor who loaded the draft before that save
        service.save_draft(session, admin, district.id, catalog_docs.mc("a", title="Draft 3"), lock)
    assert service.draft_version(service.get_mc(session, district.id, "a")).title == "Draft 2"
    assert service.published_version(service.get_mc(session, district.id, "a")).title == "Title of a"
    service.publish(session, admin, district.id, "a")
    assert service.published_version(service.get_mc(session, district.id, "a")).number == 2


def test_published_mcs_are_retired_not_deleted(session, district):
    admin = _actor(district, {Role.DISTRICT_ADMIN})
    _import(session, district, catalog_docs.mc("a"))
    with pytest.raises(Conflict, match="only be retired"):
        service.delete(session, admin, district.id, "a")
    service.retire(session, admin, district.id, "a")
    assert service.get_mc(session, district.id, "a").status == Status.RETIRED
    service.save_draft(session, admin, district.id, catalog_docs.mc("fresh"), None)
    service.delete(session, admin, district.id, "fresh")
    with pytest.raises(NotFound):
        service.get_mc(session, district.id, "fresh")


def test_only_district_admins_change_the_catalog(session, district):
    for actor in (_actor(district, {Role.TEACHER}), _actor(district, {Role.FACILITATOR}),
                  _actor(district, {Role.DISTRICT_ADMIN}, test_user=True)):
        with pytest.raises(Forbidden):
            service.import_texts(session, actor, district.id, [("a.json", _text(catalog_docs.mc("a")))])


def test_teachers_see_their_schools_offer_only(session, district):
    les, rms = _school(session, district, "LES"), _school(session, district, "RMS")
    _import(session, district, catalog_docs.mc("a"), catalog_docs.mc("b"), catalog_docs.mc("c"),
            catalog_docs.stack("s", ["b", "c"]))
    principal = _actor(district, {Role.FACILITATOR}, les, school_admin=True)
    teacher_les, teacher_rms = _actor(district, {Role.TEACHER}, les), _actor(district, {Role.TEACHER}, rms)
    assert offer.catalog_for(session, teacher_les) == []
    offer.set_offering(session, principal, les.id, "mc", "a", offered=True)
    offer.set_offering(session, principal, les.id, "stack", "s", offered=True, featured=True)
    seen = [(e.kind, e.slug) for e in offer.catalog_for(session, teacher_les)]
    assert seen == [("stack", "s"), ("mc", "a"), ("mc", "b"), ("mc", "c")]  # featured first; stack offers members
    assert offer.catalog_for(session, teacher_rms) == []
    # The principal chooses from the whole district catalog; the district can open it to every teacher.
    assert {e.slug for e in offer.catalog_for(session, principal)} == {"a", "b", "c", "s"}
    session.get(District, district.id).policy = {"district_catalog_visible": True}
    assert {e.slug for e in offer.catalog_for(session, teacher_rms)} == {"a", "b", "c", "s"}


def test_filters_search_topic_effort_and_stack(session, district):
    _import(session, district, catalog_docs.mc("a", topics=["feedback"], effort_hours=5, title="Feedback loops"),
            catalog_docs.mc("b", topics=["culture"], effort_hours=15), catalog_docs.stack("s", ["b"]))
    admin = _actor(district, {Role.DISTRICT_ADMIN})
    find = lambda **f: [e.slug for e in offer.catalog_for(session, admin, offer.Filters(**f))]  # noqa: E731
    assert find(query="LOOPS") == ["a"]
    assert find(topic="culture") == ["b"]
    assert find(max_effort=10) == ["a"]
    assert find(stack="s") == ["s", "b"]


def test_retired_items_leave_the_teachers_view_and_cannot_be_offered(session, district):
    les = _school(session, district, "LES")
    admin = _actor(district, {Role.DISTRICT_ADMIN}, les)
    _import(session, district, catalog_docs.mc("a"))
    offer.set_offering(session, admin, les.id, "mc", "a", offered=True)
    service.retire(session, admin, district.id, "a")
    assert offer.catalog_for(session, _actor(district, {Role.TEACHER}, les)) == []
    with pytest.raises(Exception, match="Only published"):
        offer.set_offering(session, admin, les.id, "mc", "a", offered=True)


def test_offer_permissions_and_tenant_scope(session, district):
    les, rms = _school(session, district, "LES"), _school(session, district, "RMS")
    _import(session, district, catalog_docs.mc("a"))
    with pytest.raises(Forbidden):
        offer.set_offering(session, _actor(district, {Role.TEACHER}, les), les.id, "mc", "a", offered=True)
    with pytest.raises(Forbidden):  # a principal of another school
        offer.set_offering(session, _actor(district, {Role.FACILITATOR}, rms, school_admin=True), les.id, "mc", "a",
                           offered=True)
    other = ensure_district(session, slug="other", name="Other")
    stranger = ensure_school(session, other, code="X", name="X")
    with pytest.raises(NotFound):
        offer.set_offering(session, _actor(district, {Role.DISTRICT_ADMIN}), stranger.id, "mc", "a", offered=True)
    assert session.scalar(select(func.count()).select_from(SchoolOffering)) == 0


def test_districts_never_see_each_others_catalog(session, district):
    other = ensure_district(session, slug="other", name="Other")
    _import(session, district, catalog_docs.mc("a"))
    service.import_texts(session, None, other.id, [("b.json", _text(catalog_docs.mc("b")))])
    assert [e.slug for e in offer.catalog_for(session, _actor(other, {Role.DISTRICT_ADMIN}))] == ["b"]
    with pytest.raises(NotFound):
        service.get_mc(session, other.id, "a")
    assert session.scalar(select(func.count()).select_from(Stack)) == 0

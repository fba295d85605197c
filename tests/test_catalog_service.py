"""Catalog rules: import all-or-nothing and idempotent, versions that never change under a teacher,
prerequisites, what each role sees, who may change what."""
import json

import pytest
from sqlalchemy import delete, func, select

from lti_tool.audit.models import AuditEvent
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
def schools(session, district):
    """The district's Lakeside Elementary and a second school, Ridgeview Middle."""
    les = session.scalar(select(School).where(School.district_id == district.id, School.code == "LES"))
    return les, ensure_school(session, district, code="RMS", name="Ridgeview Middle")


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
    return catalog_docs.load(session, district.id, *docs, publish=publish)


def _reader(district):
    """Anyone of the district, for lookups (they check no role)."""
    return Actor.for_system(district.id, "tests")


def test_sample_catalog_round_trips_byte_for_byte(session, district):
    admin = _actor(district, {Role.DISTRICT_ADMIN})
    sources = catalog_docs.sample_sources()
    result = catalog_docs.load(session, district.id, sources=sources)
    assert len(result.created) == len(sources) and not result.unchanged
    for name, text in sources:
        data = json.loads(text)
        kind = "stack" if data["kind"] == "stack" else "mc"
        assert service.export_text(session, admin, kind, data["slug"]) == text, name
    again = catalog_docs.load(session, district.id, sources=sources)
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
    assert service.get_mc(session, _reader(district), "a").published.title == "Title of a"


def test_stack_members_and_prerequisites_must_exist_and_not_cycle(session, district):
    with pytest.raises(doc.DocumentError, match="no micro-credential 'ghost' in this district"):
        _import(session, district, catalog_docs.mc("a"), catalog_docs.stack("s", ["a", "ghost"]))
    with pytest.raises(doc.DocumentError, match="cycle: a → b → a|cycle: b → a → b"):
        _import(session, district, catalog_docs.mc("a", prerequisites=["b"]), catalog_docs.mc("b", prerequisites=["a"]))
    assert session.scalar(select(func.count()).select_from(MicroCredential)) == 0
    _import(session, district, catalog_docs.mc("a"), catalog_docs.mc("b", prerequisites=["a"]))
    assert service.prerequisite_graph(session, _reader(district)) == {"a": (), "b": ("a",)}


def test_a_new_version_never_changes_the_one_a_teacher_started(session, district):
    _import(session, district, catalog_docs.mc("a"))
    v1 = service.get_mc(session, _reader(district), "a").published
    v1_document = json.dumps(v1.document, sort_keys=True)
    _import(session, district, catalog_docs.mc("a", version=2, title="Revised"))
    mc = service.get_mc(session, _reader(district), "a")
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
    published = service.get_mc(session, _reader(district), "a").published
    draft = service.save_draft(session, admin, catalog_docs.mc("a", title="Draft 1"),
                               service.lock_token(published))
    assert draft.number == 2 and draft.state == VersionState.DRAFT
    lock = service.lock_token(draft)
    service.save_draft(session, admin, catalog_docs.mc("a", title="Draft 2"), lock)
    with pytest.raises(Conflict):  # an editor still holding the published version's token
        service.save_draft(session, admin, catalog_docs.mc("a", title="Late"), service.lock_token(published))
    with pytest.raises(Conflict):  # a second editor who loaded the draft before that save
        service.save_draft(session, admin, catalog_docs.mc("a", title="Draft 3"), lock)
    assert service.draft_version(service.get_mc(session, _reader(district), "a")).title == "Draft 2"
    assert service.get_mc(session, _reader(district), "a").published.title == "Title of a"
    service.publish(session, admin, "a")
    assert service.get_mc(session, _reader(district), "a").published.number == 2


def test_published_mcs_are_retired_not_deleted(session, district):
    admin = _actor(district, {Role.DISTRICT_ADMIN})
    _import(session, district, catalog_docs.mc("a"))
    with pytest.raises(Conflict, match="only be retired"):
        service.delete(session, admin, "a")
    service.retire(session, admin, "a")
    assert service.get_mc(session, _reader(district), "a").status == Status.RETIRED
    service.save_draft(session, admin, catalog_docs.mc("fresh"), None)
    service.delete(session, admin, "fresh")
    with pytest.raises(NotFound):
        service.get_mc(session, _reader(district), "fresh")


def test_only_district_admins_change_the_catalog(session, district):
    for actor in (_actor(district, {Role.TEACHER}), _actor(district, {Role.FACILITATOR}),
                  _actor(district, {Role.DISTRICT_ADMIN}, test_user=True)):
        with pytest.raises(Forbidden):
            service.import_texts(session, actor, [("a.json", _text(catalog_docs.mc("a")))])


def test_teachers_see_their_schools_offer_only(session, district, schools):
    les, rms = schools
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


def test_retired_items_leave_the_teachers_view_and_cannot_be_offered(session, district, schools):
    les, _ = schools
    admin = _actor(district, {Role.DISTRICT_ADMIN}, les)
    _import(session, district, catalog_docs.mc("a"))
    offer.set_offering(session, admin, les.id, "mc", "a", offered=True)
    service.retire(session, admin, "a")
    assert offer.catalog_for(session, _actor(district, {Role.TEACHER}, les)) == []
    with pytest.raises(Exception, match="Only published"):
        offer.set_offering(session, admin, les.id, "mc", "a", offered=True)


def test_offer_permissions_and_tenant_scope(session, district, schools):
    les, rms = schools
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
    catalog_docs.load(session, other.id, catalog_docs.mc("b"))
    assert [e.slug for e in offer.catalog_for(session, _actor(other, {Role.DISTRICT_ADMIN}))] == ["b"]
    with pytest.raises(NotFound):
        service.get_mc(session, _reader(other), "a")
    assert session.scalar(select(func.count()).select_from(Stack)) == 0


def test_the_system_actor_imports_and_publishes_and_nothing_else(session, district):
    operator = Actor.for_system(district.id, "command line")
    service.import_texts(session, operator, [("a.json", _text(catalog_docs.mc("a")))], publish=False)
    assert service.publish(session, operator, "a").number == 1
    events = session.scalars(select(AuditEvent).where(AuditEvent.action.in_(["mc.imported", "mc.published"])))
    assert [(e.action, e.actor_user_id) for e in events] == [("mc.imported", None), ("mc.published", None)]
    for change in (lambda: service.save_draft(session, operator, catalog_docs.mc("b"), None),
                   lambda: service.retire(session, operator, "a"),
                   lambda: service.set_district_policy(session, operator, {"attempts": 5})):
        with pytest.raises(Forbidden):
            change()


def test_the_published_pointer_follows_publishing_and_stays_on_retiring(session, district):
    admin = _actor(district, {Role.DISTRICT_ADMIN})
    _import(session, district, catalog_docs.mc("a"), catalog_docs.stack("s", ["a"]))
    mc = service.get_mc(session, admin, "a")
    first = mc.published
    assert (first.number, mc.published_version_id) == (1, first.id)
    _import(session, district, catalog_docs.mc("a", version=2, title="Revised"), publish=False)
    assert mc.published is first  # a draft changes nothing teachers see
    service.publish(session, admin, "a")
    assert (mc.published.number, first.state) == (2, VersionState.SUPERSEDED)
    service.retire(session, admin, "a")
    assert mc.published.number == 2  # pursuits already on it finish on it
    assert service.get_stack(session, admin, "s").published.number == 1


@pytest.mark.parametrize("own, expected", [
    (None, (True, 5, 7, 20)),                                       # the MC says nothing: the district's rules
    ({"attempts": 2}, (True, 2, 7, 20)),                            # its own value wins, the rest inherit
    ({"plan_approval": False, "cooldown_days": 0}, (False, 5, 0, 20)),  # false and 0 are values, not "inherit"
    ({"window_days": "none"}, (True, 5, 7, None)),                  # "none" beats the district's window
    ({"window_days": 45, "attempts": None}, (True, 5, 7, 45)),      # null inherits like an absent value
])
def test_district_rules_apply_where_the_mc_sets_none_of_its_own(session, district, own, expected):
    admin = _actor(district, {Role.DISTRICT_ADMIN})
    service.set_district_policy(session, admin,
                                {"plan_approval": True, "attempts": 5, "cooldown_days": 7, "window_days": 20})
    _import(session, district, catalog_docs.mc("a", **({"policy": own} if own is not None else {})))
    rules = offer.mc_page(session, admin, "a").policy
    assert (rules.plan_approval, rules.attempts, rules.cooldown_days, rules.window_days) == expected


def test_a_window_is_days_or_none():
    for window, says in ((0, "must be 1 or more"), ("forever", 'or "none" for no window'), (True, "must be")):
        with pytest.raises(doc.DocumentError) as caught:
            doc.parse(catalog_docs.mc(policy={"window_days": window}))
        assert any(says in p and "policy.window_days" in p for p in caught.value.problems), caught.value.problems


def test_a_district_with_a_published_catalog_can_still_be_deleted(session, district):
    _import(session, district, catalog_docs.mc("a"), catalog_docs.stack("s", ["a"]))
    session.commit()
    session.execute(delete(District).where(District.id == district.id))  # the database cascades, pointers too
    session.commit()
    assert session.scalar(select(func.count()).select_from(McVersion)) == 0

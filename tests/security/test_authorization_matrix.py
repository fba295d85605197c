"""Who may use which route: one table, every route of the app, ten personas, two districts.

A new route must join ``MATRIX`` (or ``PUBLIC``): ``test_every_route_is_in_the_table`` fails until it does.
A cell lists the personas that get past authorization; everyone else must be refused (401 without a
session, 403 for a role or designation they lack, 404 for another district's things), and nothing they
send may change a row. Every POST also needs the CSRF token: ``test_posts_without_csrf_change_nothing``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from lti_tool.audit.models import AuditEvent
from lti_tool.catalog import service as catalog
from lti_tool.catalog.models import SchoolOffering
from lti_tool.lti.actor import Actor
from lti_tool.lti.roles import Role
from lti_tool.people.models import School
from lti_tool.people.service import ensure_district, ensure_school
from tests.support import factories
from tests.support.web import BASE, csrf_for, use_session

OFFERED_MC = "morning-meeting"             # in the stack Lakeside Elementary offers
OFFERED_STACK = "classroom-culture"
UNOFFERED_MC = "evaluating-online-sources"  # published in the district, offered by no school
DEEP_LINKING = {"https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiDeepLinkingRequest",
                "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
                    "deep_link_return_url": "https://canvas.example/courses/1/deep_linking_response",
                    "accept_types": ["ltiResourceLink"], "accept_presentation_document_targets": ["iframe"]}}

PERSONAS = ("anonymous", "teacher", "student_view", "observer", "facilitator", "account_admin", "school_admin",
            "other_school_admin", "district_admin", "foreign_admin")
SIGNED_IN = frozenset(PERSONAS) - {"anonymous"}
DISTRICT_ADMINS = frozenset({"district_admin", "foreign_admin"})  # each in their own district
PLACERS = frozenset({"facilitator"}) | DISTRICT_ADMINS               # may put MCs in a course
SCHOOL_ADMINS = frozenset({"school_admin", "other_school_admin"}) | DISTRICT_ADMINS


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    endpoint: str
    allowed: frozenset[str]
    data: dict = field(default_factory=dict)


def _rows(ids) -> list[Row]:
    les = ids["les"]
    return [
        Row("GET", "/", "home.index", frozenset(PERSONAS)),  # anonymous get the welcome page
        Row("GET", "/catalog/", "catalog.index", SIGNED_IN),
        # An MC the school offers: its staff read it; Student View looks; another district cannot see it.
        Row("GET", f"/catalog/mc/{OFFERED_MC}", "catalog.mc_detail", SIGNED_IN - {"foreign_admin"}),
        Row("GET", f"/catalog/stack/{OFFERED_STACK}", "catalog.stack_detail", SIGNED_IN - {"foreign_admin"}),
        # Not offered at the school: only those who see the whole district catalog.
        Row("GET", f"/catalog/mc/{UNOFFERED_MC}", "catalog.mc_detail",
            frozenset({"facilitator", "school_admin", "other_school_admin", "district_admin"})),
        Row("GET", "/catalog/offer", "catalog.school_offer", SCHOOL_ADMINS),
        # Offering this district's MC: another district's admin offers only their own (404 here).
        Row("POST", "/catalog/offer", "catalog.school_offer", SCHOOL_ADMINS - {"foreign_admin"},
            {"kind": "mc", "slug": OFFERED_MC, "offered": "1"}),
        Row("GET", "/catalog/manage", "catalog.manage", DISTRICT_ADMINS),
        Row("GET", "/catalog/manage/edit", "catalog.edit", DISTRICT_ADMINS),
        Row("GET", f"/catalog/manage/edit/{OFFERED_MC}", "catalog.edit", frozenset({"district_admin"})),
        Row("POST", f"/catalog/manage/edit/{OFFERED_MC}", "catalog.edit", frozenset({"district_admin"}),
            {"title": "Changed"}),
        Row("POST", "/catalog/manage/edit", "catalog.edit", DISTRICT_ADMINS, {"title": "New"}),
        Row("GET", f"/catalog/manage/export/mc/{OFFERED_MC}.json", "catalog.export", frozenset({"district_admin"})),
        Row("GET", "/catalog/manage/import", "catalog.import_documents", DISTRICT_ADMINS),
        Row("POST", "/catalog/manage/import", "catalog.import_documents", DISTRICT_ADMINS),
        Row("POST", "/catalog/manage/policy", "catalog.district_policy_form", DISTRICT_ADMINS,
            {"attempts": "3", "cooldown_days": "7"}),
        Row("POST", "/catalog/manage/preview", "catalog.preview", DISTRICT_ADMINS, {"title": "Draft"}),
        Row("GET", "/catalog/manage/stack", "catalog.edit_stack", DISTRICT_ADMINS),
        Row("GET", f"/catalog/manage/stack/{OFFERED_STACK}", "catalog.edit_stack", frozenset({"district_admin"})),
        Row("POST", f"/catalog/manage/stack/{OFFERED_STACK}", "catalog.edit_stack", frozenset({"district_admin"}),
            {"title": "Changed"}),
        Row("POST", "/catalog/manage/stack", "catalog.edit_stack", DISTRICT_ADMINS, {"title": "New stack"}),
        Row("POST", f"/catalog/manage/{UNOFFERED_MC}/retire", "catalog.manage_action", frozenset({"district_admin"})),
        Row("GET", "/district/schools/", "schools.index", DISTRICT_ADMINS),
        Row("POST", "/district/schools/", "schools.change", frozenset({"district_admin"}),
            {"action": "map_course", "school_id": str(les), "kind": "course", "platform_id": "4821"}),
        Row("POST", "/district/schools/", "schools.change", frozenset({"district_admin"}),
            {"action": "designate", "school_id": str(les), "user_id": str(ids["teacher"])}),
        Row("POST", "/district/schools/", "schools.change", frozenset({"district_admin"}),
            {"action": "designate_district", "user_id": str(ids["teacher"])}),
        Row("GET", "/lti/deep-link", "lti.deep_link", PLACERS),
        Row("POST", "/lti/deep-link", "lti.deep_link_submit", PLACERS, {"resource": f"mc:{OFFERED_MC}"}),
        Row("POST", "/language", "i18n.set_language", SIGNED_IN, {"locale": "en", "next": "/"}),  # the language switch
        Row("POST", "/sign-out", "home.sign_out", SIGNED_IN),
    ]


# Open to anyone by design: what a platform or a load balancer calls before any session exists.
PUBLIC = {("GET", "health.healthz"), ("GET", "lti.jwks"), ("GET", "lti.login"), ("POST", "lti.login"),
          ("POST", "lti.launch"), ("GET", "lti_install.canvas_json"), ("GET", "lti_install.register"),
          ("GET", "static")}


@dataclass
class World:
    tokens: dict[str, str]
    ids: dict[str, int]


def _world(session) -> World:
    district = factories.district(session)
    registration = factories.platform(session, district)
    les = session.scalar(select(School).where(School.district_id == district.id, School.code == "LES"))
    rms = ensure_school(session, district, code="RMS", name="Ridgeview Middle School")
    operator = Actor.for_system(district.id, "test")
    catalog.import_texts(session, operator, catalog.sample_sources())
    session.add(SchoolOffering(school_id=les.id, stack_id=catalog.get_stack(session, operator, OFFERED_STACK).id))

    harbor = ensure_district(session, slug="harbor", name="Harbor District")
    harbor_school = ensure_school(session, harbor, code="HHS", name="Harbor High")
    foreign_registration = factories.platform(session, harbor, client_id="20000000000002")

    def sign_in(roles, registration=registration, school=les, **flags):
        return factories.signed_in(session, registration, set(roles), school_id=school.id, claims=DEEP_LINKING,
                                   **flags)

    people = {
        "teacher": sign_in({Role.TEACHER}),
        "student_view": sign_in({Role.TEACHER}, test_user=True),
        "observer": sign_in({Role.OBSERVER}),
        "facilitator": sign_in({Role.FACILITATOR}),
        "account_admin": sign_in(set()),  # Canvas's Administrator role alone maps to nothing
        "school_admin": sign_in(set(), school_admin=True),
        "other_school_admin": sign_in(set(), school=rms, school_admin=True),
        "district_admin": sign_in({Role.DISTRICT_ADMIN}),
        "foreign_admin": sign_in({Role.DISTRICT_ADMIN}, registration=foreign_registration, school=harbor_school),
    }
    session.commit()
    return World({k: token for k, (token, _) in people.items()},
                 {"les": les.id, "teacher": people["teacher"][1].user_id})


def _row_counts(session) -> dict[str, int]:
    """Rows a refused request must not have added or removed (audit events record every change)."""
    from lti_tool.catalog.models import MicroCredential, Stack
    from lti_tool.people.models import CourseSchool, DistrictAdmin, SchoolAdmin

    session.expire_all()
    models = (AuditEvent, SchoolOffering, MicroCredential, Stack, CourseSchool, SchoolAdmin, DistrictAdmin)
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in models}


def _request(app, world: World, persona: str, row: Row, *, with_csrf: bool = True):
    client = app.test_client()
    if persona != "anonymous":
        use_session(client, world.tokens[persona])
    if row.method == "GET":
        return client.get(row.path, base_url=BASE)
    data = dict(row.data)
    if with_csrf:
        data["csrf_token"] = csrf_for(app, world.tokens[persona]) if persona != "anonymous" else ""
    return client.post(row.path, base_url=BASE, data=data)


def test_every_route_is_in_the_table(app, session):
    """Every route the app serves (the practice LMS aside: a separate platform, served only when the demo
    opts in, never in production) is either public by design or in the matrix."""
    world = _world(session)
    tabled = {(row.method, row.endpoint) for row in _rows(world.ids)} | PUBLIC
    served = {(method, rule.endpoint) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"} if not rule.endpoint.startswith("practice")}
    assert served - tabled == set(), "add these routes to the authorization matrix"
    assert tabled - served == set(), "the matrix names routes the app no longer serves"


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_reaches_exactly_its_cells(app, session, persona):
    world = _world(session)
    refused_with_changes, wrong = [], []
    for row in _rows(world.ids):
        if row.endpoint == "home.sign_out":
            continue  # it ends the persona's session: checked last, below
        before = _row_counts(session)
        response = _request(app, world, persona, row)
        allowed = persona in row.allowed
        passed = response.status_code < 400 or response.status_code in (400, 409, 422)
        refused = response.status_code in (401, 403, 404)
        assert response.status_code < 500, (row, response.status_code)
        if allowed and not passed or not allowed and not refused:
            wrong.append((row.method, row.path, row.data.get("action"), response.status_code))
        if not allowed and _row_counts(session) != before:
            refused_with_changes.append((row.method, row.path))
    sign_out = next(r for r in _rows(world.ids) if r.endpoint == "home.sign_out")
    status = _request(app, world, persona, sign_out).status_code
    if (status == 200) != (persona in sign_out.allowed):
        wrong.append(("POST", "/sign-out", None, status))
    assert wrong == [], f"{persona}: cells that disagree with the matrix (method, path, action, status)"
    assert refused_with_changes == []


def test_posts_without_csrf_change_nothing(app, session):
    """Even the one persona allowed everything is refused without the form's CSRF token (a 400)."""
    world = _world(session)
    for row in _rows(world.ids):
        if row.method != "POST":
            continue
        persona = "district_admin" if "district_admin" in row.allowed else next(iter(row.allowed))
        before = _row_counts(session)
        response = _request(app, world, persona, row, with_csrf=False)
        assert response.status_code == 400 and "expired" in response.text, (row, response.status_code)
        assert _row_counts(session) == before, row

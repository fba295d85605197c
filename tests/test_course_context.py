"""Each launch updates the stored course context (gradebook and roster URLs) and the placement of its
resource link, which outlive the launch records the daily purge removes."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lti_tool.db import utcnow
from lti_tool.lti.actor import Actor
from lti_tool.lti.claims import CLAIM_AGS as AGS_CLAIM, CLAIM_NRPS as NRPS_CLAIM
from lti_tool.lti.context import LaunchContext
from lti_tool.lti.models import CourseContext, FrameOrigin, LaunchRecord, Placement, ToolSession
from tests.support.signer import CLAIM, login

BASE = "https://localhost"
LINE_ITEMS = "https://canvas.example/api/lti/courses/101/line_items"
MEMBERS = "https://canvas.example/api/lti/courses/101/names_and_roles"
SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
          "https://purl.imsglobal.org/spec/lti-ags/scope/score"]


def _launch(app, signer, drop=(), **claims):
    client = app.test_client()
    query = login(client, signer)
    body = signer.claims(query["nonce"], **claims)
    for claim in drop:
        del body[claim]
    response = client.post("/lti/launch", base_url=BASE, data={"id_token": signer.sign(body), "state": query["state"]})
    assert response.status_code == 303, response.text
    return client


def _assignment_launch(app, signer, line_item=LINE_ITEMS + "/7"):
    return _launch(app, signer, **{
        CLAIM + "resource_link": {"id": "link-7", "title": "Morning Meeting"},
        CLAIM + "custom": {"canvas_course_id": "101", "canvas_user_id": "9", "microcred_kind": "mc",
                           "microcred_slug": "morning-meeting"},
        AGS_CLAIM: {"scope": SCOPES, "lineitems": LINE_ITEMS, **({"lineitem": line_item} if line_item else {})},
        NRPS_CLAIM: {"context_memberships_url": MEMBERS, "service_versions": ["2.0"]}})


def test_a_launch_stores_where_the_gradebook_and_roster_are_and_it_outlives_the_purge(app, session, signer, registration,
                                                                                     runner):
    client = _assignment_launch(app, signer)
    course = session.scalar(select(CourseContext))
    assert (course.context_id, course.title, course.canvas_course_id) == ("course-1", "PD 101", "101")
    assert (course.line_items_url, course.memberships_url, course.ags_scopes) == (LINE_ITEMS, MEMBERS, SCOPES)
    assert course.district_id == registration.district_id and course.deployment_id == signer.deployment_id
    placement = session.scalar(select(Placement))
    assert (placement.resource_link_id, placement.kind, placement.slug, placement.line_item_url) == \
        ("link-7", "mc", "morning-meeting", LINE_ITEMS + "/7")
    actor = Actor.from_json(session.scalar(select(ToolSession.actor)))
    assert (actor.course_context_id, actor.placement_id) == (course.id, placement.id)
    assert "Welcome" in client.get("/", base_url=BASE).text

    past = utcnow() - timedelta(minutes=1)
    session.execute(update(ToolSession).values(expires_at=past))
    session.execute(update(LaunchRecord).values(expires_at=past))
    session.commit()
    assert runner.invoke(args=["lti", "purge"]).output.strip() == "login states: 0, sessions: 1, launches: 1, rate counters: 0"
    session.expire_all()
    assert session.scalar(select(LaunchRecord)) is None
    assert session.scalar(select(Placement.line_item_url)) == LINE_ITEMS + "/7"
    assert session.scalar(select(CourseContext.line_items_url)) == LINE_ITEMS


def test_later_launches_update_what_they_send_and_keep_the_rest(app, session, signer, registration):
    _assignment_launch(app, signer)
    # From the course navigation: no resource link line item, a new roster URL (Canvas may move it).
    _launch(app, signer, **{CLAIM + "resource_link": {"id": "link-7"},
                            NRPS_CLAIM: {"context_memberships_url": MEMBERS + "?v=2", "service_versions": ["2.0"]}})
    session.expire_all()
    assert session.scalar(select(CourseContext.memberships_url)) == MEMBERS + "?v=2"
    assert session.scalar(select(CourseContext.line_items_url)) == LINE_ITEMS
    assert session.scalar(select(Placement.line_item_url)) == LINE_ITEMS + "/7"
    assert session.scalar(select(Placement.slug)) == "morning-meeting"
    _launch(app, signer, **{CLAIM + "resource_link": {"id": "link-8"}})
    session.expire_all()
    assert len(session.scalars(select(Placement)).all()) == 2
    assert len(session.scalars(select(CourseContext)).all()) == 1


def test_claims_of_the_wrong_shape_are_ignored_not_trusted():
    where = LaunchContext.from_claims({
        CLAIM + "deployment_id": "d", CLAIM + "context": {"id": 101, "title": ["x"]},
        CLAIM + "custom": {"microcred_kind": "badge", "microcred_slug": "x", "canvas_section_ids": "4, 5,,"},
        AGS_CLAIM: {"scope": "lineitem", "lineitems": {"url": "x"}}, NRPS_CLAIM: "https://x"})
    assert (where.context_id, where.context_title, where.placed_kind, where.placed_slug) == ("101", None, None, None)
    assert where.section_ids == ("4", "5") and where.ags_scopes == () and where.line_items_url is None
    assert where.memberships_url is None
    unexpanded = LaunchContext.from_claims({CLAIM + "custom": {"canvas_course_id": "$Canvas.course.id"}})
    assert unexpanded.canvas_course_id is None


def test_an_old_session_actor_with_fields_since_removed_still_loads():
    old = {"user_id": 1, "district_id": 1, "roles": ["teacher"], "registration_id": 1, "deployment_id": "d",
           "custom": {"canvas_course_id": "101"}}
    assert Actor.from_json(old).course_context_id is None


def test_a_course_on_a_new_platform_site_may_frame_the_next_page_at_once(app, session, signer, registration):
    """The district's own Canvas domain is known from the course's roster URL: the frame-ancestors list,
    cached for a minute, is dropped when a launch brings a new one."""
    first = _launch(app, signer)
    assert "https://canvas.district.example" not in first.get("/", base_url=BASE).headers["Content-Security-Policy"]
    client = _launch(app, signer, **{NRPS_CLAIM: {"context_memberships_url": "https://canvas.district.example/api/lti/"
                                                  "courses/101/names_and_roles", "service_versions": ["2.0"]}})
    policy = client.get("/", base_url=BASE).headers["Content-Security-Policy"]
    assert "https://canvas.district.example" in policy.split("frame-ancestors", 1)[1]


def test_an_account_navigation_launch_records_the_site_it_came_from(app, session, signer, registration):
    """No course, no services (Canvas sends account launches no context): the return URL still names the Canvas
    site that frames the tool."""
    client = _launch(app, signer, drop=(CLAIM + "context",), **{
                                     CLAIM + "launch_presentation": {
                                         "return_url": "https://lakeside.instructure.com/accounts/1/external_tools"}})
    assert session.scalars(select(FrameOrigin.origin)).all() == ["https://lakeside.instructure.com"]
    policy = client.get("/", base_url=BASE).headers["Content-Security-Policy"]
    assert "https://lakeside.instructure.com" in policy and "*.instructure.com" not in policy


@pytest.mark.parametrize("whole_catalog, lands_on", [(True, "/catalog/mc/morning-meeting"), (False, "/")])
def test_a_launch_from_a_placed_assignment_lands_on_what_it_placed(app, session, signer, registration, district,
                                                                   whole_catalog, lands_on):
    """The instructor placed an MC as an assignment: the teacher lands on it, when it is in their catalog
    (here the district opens its whole catalog to teachers); otherwise on the home page, never a dead end."""
    from lti_tool.catalog import service

    service.import_texts(session, Actor.for_system(district.id, "test"), service.sample_sources())
    district.policy = {"district_catalog_visible": whole_catalog}
    session.commit()
    client = app.test_client()
    query = login(client, signer)
    body = signer.claims(query["nonce"], **{CLAIM + "resource_link": {"id": "link-7"},
                                            CLAIM + "custom": {"microcred_kind": "mc",
                                                               "microcred_slug": "morning-meeting"}})
    response = client.post("/lti/launch", base_url=BASE, data={"id_token": signer.sign(body), "state": query["state"]})
    assert response.status_code == 303 and response.headers["Location"] == lands_on
    assert client.get(lands_on, base_url=BASE).status_code == 200


@pytest.mark.parametrize("return_url, shown", [
    ("https://lakeside.instructure.com/courses/101/external_content/success/external_tool_redirect", True),
    ("javascript:alert(1)", False)])
def test_the_home_page_offers_the_platforms_way_back(app, session, signer, registration, return_url, shown):
    client = _launch(app, signer, **{CLAIM + "launch_presentation": {"document_target": "iframe",
                                                                      "return_url": return_url}})
    page = client.get("/", base_url=BASE).text
    assert ("Return to the course in Canvas" in page) is shown
    assert (f'href="{return_url}" target="_self"' in page) is shown and "javascript:" not in page

"""Deep linking end to end: the instructor places micro-credentials from the practice LMS; the platform
checks the tool's signed response (signature against /lti/jwks, aud, message type, deployment, data) and
makes each item an assignment with its line item, which the tool then grades through AGS."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import jwt
import pytest
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.lti import keys
from lti_tool.lti.models import LaunchRecord
from lti_tool.lti.services import PlatformClient, ags
from tests.support.platform import autopost_form, resign

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def pick(browser, demo, *resources: str):
    """Open the picker as the instructor and choose ``resources``; return the tool's auto-post to the LMS."""
    picker = browser.launch("instructor", kind="deep_link").page
    assert picker.url == f"{demo.url}/lti/deep-link" and "Add a micro-credential" in picker.text, picker.text[:500]
    offered = re.findall(r'name="resource" value="([^"]+)"', picker.text)
    assert set(resources) <= set(offered), offered
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', picker.text).group(1)
    answer = browser.post("/lti/deep-link", {"csrf_token": csrf, "resource": list(resources)})
    action, fields = autopost_form(answer)
    assert action == f"{demo.url}/practice/deep-link-return" and set(fields) == {"JWT"}
    return action, fields["JWT"]


def test_placing_micro_credentials_creates_assignments_and_line_items(demo, browser, practice):
    action, response_jwt = pick(browser, demo, "mc:morning-meeting", "stack:classroom-culture")
    claims = jwt.decode(response_jwt, options={"verify_signature": False})
    assert claims["aud"] == [f"{demo.url}/practice"] and claims["iss"] == "practice-lms"

    placed = browser.post(action, {"JWT": response_jwt})
    assert placed.status_code == 200 and "Added to the practice course" in placed.text
    assert "microcred_slug=morning-meeting" in placed.text
    links = list(practice.store.links.values())
    assert [link.custom for link in links] == [
        {"microcred_kind": "mc", "microcred_slug": "morning-meeting"},
        {"microcred_kind": "stack", "microcred_slug": "classroom-culture"}]
    items = [practice.store.line_items[link.line_item_id] for link in links]
    for link, item in zip(links, items):
        assert item["label"] == link.title and item["scoreMaximum"] == 1.0 and item["tag"] == "microcred"
        assert item["resourceLinkId"] == link.id and link.placed_by == "instructor"
    assert [item["resourceId"] for item in items] == ["mc:morning-meeting", "stack:classroom-culture"]
    listed = browser.get("/practice/").text  # the course's assignments, each to open as anyone
    assert f"{links[0].title}, out of 1<" in listed and f"link={links[0].id}" in listed
    again = browser.post(action, {"JWT": response_jwt})
    assert again.status_code == 400 and "already added" in again.text  # a response is accepted once
    assert len(practice.store.links) == 2

    # The placed assignment launches with its line item, and the tool can grade into it.
    landed = browser.launch("teacher", link=links[0].id)
    assert landed.page.status_code == 200
    with demo.app.app_context(), session_scope() as session:
        record = session.scalars(select(LaunchRecord).order_by(LaunchRecord.id.desc())).first()
        claims = record.claims
        assert claims[CLAIM + "resource_link"]["id"] == links[0].id
        assert claims[CLAIM + "custom"]["microcred_slug"] == "morning-meeting"
        assert claims[CLAIM + "custom"]["canvas_user_id"] == "1001"
        endpoint = claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
        assert endpoint["lineitem"] == items[0]["id"]
        client = PlatformClient(session, practice.registration(session))
        ags.post_score(client, endpoint["lineitem"], ags.Score(
            user_id="practice-teacher", activity_progress="Completed", grading_progress="FullyGraded",
            timestamp=datetime.now(timezone.utc), score_given=1, score_maximum=1, comment="Awarded"))
        listed = ags.line_items(client, endpoint["lineitems"], resource_id="mc:morning-meeting")
    assert [item.id for item in listed] == [items[0]["id"]]
    [score] = practice.store.scores[(links[0].line_item_id, "practice-teacher")]
    assert score["scoreGiven"] == 1 and score["comment"] == "Awarded"


@pytest.mark.parametrize("changes, hint", [
    (dict(aud=["https://another-lms.example"]), "aud must name"),
    (dict(iss="another-tool"), "iss must be the client_id"),
    (dict(claims={CLAIM + "deployment_id": "another-deployment"}), "deployment_id must be"),
    (dict(claims={CLAIM + "message_type": "LtiResourceLinkRequest"}), "Deep Linking Response"),
    (dict(claims={"https://purl.imsglobal.org/spec/lti-dl/claim/data": "made-up"}), "data claim must echo"),
    (dict(claims={"https://purl.imsglobal.org/spec/lti-dl/claim/content_items": [
        {"type": "ltiResourceLink", "title": "Bad", "lineItem": {"label": "Bad"}}]}), "scoreMaximum is required"),
    (dict(claims={"https://purl.imsglobal.org/spec/lti-dl/claim/content_items": [
        {"type": "html", "html": "<p>hi</p>"}]}), "not supported"),
])
def test_the_platform_refuses_a_deep_linking_response_it_should_not_trust(demo, browser, practice, changes, hint):
    action, response_jwt = pick(browser, demo, "mc:morning-meeting")
    with demo.app.app_context(), session_scope() as session:
        tool_key = keys.current_key(session)  # signed by the tool itself: only the claims are wrong
        pem, kid = tool_key.private_pem, tool_key.kid
    page = browser.post(action, {"JWT": resign(response_jwt, pem, kid, **changes)})
    assert page.status_code == 400 and hint in page.text.replace("&#39;", "'"), page.text[-1200:]
    assert not practice.store.links and not practice.store.line_items


def test_a_forged_or_missing_deep_linking_response_is_refused(demo, browser, practice):
    action, response_jwt = pick(browser, demo, "mc:morning-meeting")
    forged = response_jwt.rsplit(".", 1)[0] + ".c2lnbmF0dXJl"
    for form, hint in (({"JWT": forged}, "Signature verification failed"), ({}, "JWT")):
        page = browser.post(action, form)
        assert page.status_code == 400 and hint in page.text, page.text[-1200:]
    assert not practice.store.links

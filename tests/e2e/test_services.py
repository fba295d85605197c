"""The practice platform's token endpoint, AGS and NRPS keep Canvas's rules, over HTTPS, for the tool's own
clients (``lti_tool.lti.services``) and for plain HTTP calls."""
from __future__ import annotations

import json as jsonlib
from datetime import datetime, timedelta, timezone

import pytest

from lti_tool.db import session_scope
from lti_tool.lti import keys
from lti_tool.lti.services import PlatformClient, ags, nrps, tokens
from lti_tool.lti.services.errors import PlatformRejected
from lti_tool.practice import personas as people
from tests.support.platform import resign

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
LINEITEM, READONLY, RESULTS, SCORE = AGS + "lineitem", AGS + "lineitem.readonly", AGS + "result.readonly", AGS + "score"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
LINEITEM_MEDIA = "application/vnd.ims.lis.v2.lineitem+json"
SCORE_MEDIA = "application/vnd.ims.lis.v1.score+json"


class Tool:
    """Plain HTTP as the tool: client assertions signed with its key, bearer tokens, JSON bodies."""

    def __init__(self, demo, browser, practice) -> None:
        self.demo, self.browser, self.practice = demo, browser, practice
        browser.get("/practice/").raise_for_status()  # the platform registers itself

    def assertion(self, **changes) -> str:
        with self.demo.app.app_context(), session_scope() as session:
            signed = tokens.client_assertion(session, self.practice.registration(session))
            key = keys.current_key(session)
            return resign(signed, key.private_pem, key.kid, **changes) if changes else signed

    def token_request(self, *scopes: str, **form):
        body = {"grant_type": "client_credentials", "client_assertion_type": tokens.ASSERTION_TYPE,
                "client_assertion": self.assertion(), "scope": " ".join(scopes), **form}
        return self.browser.post("/practice/token", body)

    def token(self, *scopes: str) -> str:
        answer = self.token_request(*scopes)
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    def call(self, method: str, path: str, token: str | None, *, body=None, media=None, **params):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if media:
            headers["Content-Type"] = media
        url = path if path.startswith("https://") else f"{self.demo.url}/practice{path}"
        return self.browser.http.request(method, url, headers=headers, params=params,
                                         data=None if body is None else jsonlib.dumps(body))


@pytest.fixture
def tool(demo, browser, practice) -> Tool:
    return Tool(demo, browser, practice)


def test_the_token_endpoint_checks_the_client_assertion_and_scopes(tool):
    granted = tool.token_request(SCORE, NRPS)
    assert granted.status_code == 200 and granted.headers["Cache-Control"] == "no-store"
    body = granted.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["scope"] == f"{SCORE} {NRPS}"
    now = int(datetime.now(timezone.utc).timestamp())
    refusals = [
        (dict(grant_type="password"), 400, "unsupported_grant_type"),
        (dict(client_assertion_type="urn:other"), 401, "invalid_client"),
        (dict(scope=AGS + "everything"), 400, "invalid_scope"),
        (dict(client_assertion=tool.assertion(aud="https://elsewhere.example/token")), 400, "invalid_request"),
        (dict(client_assertion=tool.assertion(iss="someone-else", sub="someone-else")), 400, "invalid_request"),
        (dict(client_assertion=tool.assertion(exp=now - 120, iat=now - 400)), 400, "invalid_request"),
        (dict(client_assertion=tool.assertion(jti="")), 400, "invalid_request"),
        (dict(client_assertion="not-a-jwt"), 400, "invalid_request"),
    ]
    for form, status, error in refusals:
        answer = tool.token_request(SCORE, **form)
        assert (answer.status_code, answer.json()["error"]) == (status, error), (form, answer.text)
    replayed = tool.assertion()
    assert tool.token_request(SCORE, client_assertion=replayed).status_code == 200
    again = tool.token_request(SCORE, client_assertion=replayed)
    assert again.status_code == 400 and "already used" in again.json()["error_description"]


def test_services_need_a_token_with_the_right_scope(tool):
    score_only, read_only = tool.token(SCORE), tool.token(READONLY)
    for token, method, path, message in (
            (None, "GET", "/ags/lineitems", "Missing access token"),
            ("garbage", "GET", "/ags/lineitems", "Access token invalid"),
            (score_only, "GET", "/ags/lineitems", "Insufficient permissions"),
            (read_only, "POST", "/ags/lineitems", "Insufficient permissions"),
            (read_only, "GET", "/nrps/members", "Insufficient permissions")):
        answer = tool.call(method, path, token, body={"label": "x", "scoreMaximum": 1}, media=LINEITEM_MEDIA)
        assert answer.status_code == 401 and message in answer.json()["errors"]["message"], (path, answer.text)
    assert tool.call("GET", "/ags/lineitems", read_only).status_code == 200


def test_line_items_are_created_listed_filtered_and_paged(tool):
    token = tool.token(LINEITEM)
    for body, status, message in (({"scoreMaximum": 1}, 400, "label"), ({"label": "X"}, 400, "scoreMaximum"),
                                  ({"label": "X", "scoreMaximum": "ten"}, 400, "scoreMaximum"),
                                  ({"label": "X", "scoreMaximum": 1, "resourceLinkId": "nope"}, 404, "not exist")):
        answer = tool.call("POST", "/ags/lineitems", token, body=body, media=LINEITEM_MEDIA)
        assert answer.status_code == status and message in answer.json()["errors"]["message"]
    assert tool.call("POST", "/ags/lineitems", token, body={"label": "X", "scoreMaximum": 1},
                     media="text/plain").status_code == 415
    made = [tool.call("POST", "/ags/lineitems", token, media=LINEITEM_MEDIA,
                      body={"label": f"MC {n}", "scoreMaximum": 1, "tag": "microcred" if n < 3 else "other",
                            "resourceId": f"mc:{n}"}) for n in range(4)]
    assert all(a.status_code == 201 and a.headers["Content-Type"] == LINEITEM_MEDIA for a in made)

    first = tool.call("GET", "/ags/lineitems", token, limit=3)
    assert len(first.json()) == 3 and first.links["next"]["url"].startswith(tool.demo.url)
    assert first.headers["Link"].endswith('; rel="next"')
    second = tool.call("GET", first.links["next"]["url"], token)
    assert [i["label"] for i in second.json()] == ["MC 3"] and "Link" not in second.headers
    assert [i["resourceId"] for i in tool.call("GET", "/ags/lineitems", token, tag="microcred").json()] == \
        ["mc:0", "mc:1", "mc:2"]
    assert [i["label"] for i in tool.call("GET", "/ags/lineitems", token, resource_id="mc:3").json()] == ["MC 3"]
    item = made[1].json()
    assert tool.call("GET", item["id"], token).json() == item
    assert tool.call("GET", "/ags/lineitems/999", token).status_code == 404


def test_scores_follow_canvas_rules(tool):
    item = tool.call("POST", "/ags/lineitems", tool.token(LINEITEM), media=LINEITEM_MEDIA,
                     body={"label": "Morning Meeting", "scoreMaximum": 1}).json()
    token = tool.token(SCORE)
    now = datetime.now(timezone.utc)

    def score(user: str, when: datetime = now, **extra):
        body = {"userId": user, "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                "timestamp": when.isoformat(), "scoreGiven": 1, "scoreMaximum": 1, **extra}
        return tool.call("POST", item["id"] + "/scores", token, body=body, media=SCORE_MEDIA)

    for answer, status, message in (
            (score("practice-teacher", timestamp=None), 400, "timestamp"),
            (score("practice-teacher", activityProgress="Done"), 400, "activityProgress"),
            (score("practice-student_view"), 422, "not a student"),
            (score("practice-instructor"), 422, "not a student"),
            (score("practice-former"), 422, "not a student"),
            (score("nobody"), 422, "not a student"),
            (score("practice-teacher", scoreMaximum=None), 422, "ScoreMaximum")):
        assert answer.status_code == status and message in answer.json()["errors"]["message"], answer.text
    accepted = score("practice-teacher", comment="Awarded")
    assert accepted.status_code == 200 and accepted.json()["resultUrl"].startswith(item["id"] + "/results/")
    older = score("practice-teacher", now - timedelta(minutes=1))
    assert older.status_code == 400 and "before last updated" in older.json()["errors"]["message"]
    assert score("1002").status_code == 200  # Canvas takes its own user id too (here teacher2's)
    results = tool.call("GET", item["id"] + "/results", tool.token(RESULTS)).json()
    assert {(r["userId"], r["resultScore"]) for r in results} == {("practice-teacher", 1), ("practice-teacher2", 1)}


def test_nrps_lists_active_members_in_pages(tool):
    token = tool.token(NRPS)
    seen, url, pages = [], "/nrps/members", 0
    params = {"limit": 4}
    while url:
        answer = tool.call("GET", url, token, **params)
        assert answer.status_code == 200 and answer.json()["context"]["id"] == people.CONTEXT_ID
        seen += answer.json()["members"]
        url, params, pages = answer.links.get("next", {}).get("url"), {}, pages + 1
    assert pages == 2 and [m["user_id"] for m in seen] == [p.subject for p in people.PERSONAS.values()]
    assert "practice-former" not in {m["user_id"] for m in seen}  # an ended enrollment is not listed
    everyone = tool.call("GET", "/nrps/members", token, limit=500)  # at most 50 a page, like Canvas
    assert len(everyone.json()["members"]) == 6 and "Link" not in everyone.headers
    learners = tool.call("GET", "/nrps/members", token, role="Learner").json()["members"]
    assert {m["user_id"] for m in learners} == {"practice-teacher", "practice-teacher2", "practice-student_view"}
    assert tool.call("GET", "/nrps/members", token, rlid="nope").status_code == 400
    with_messages = tool.call("GET", "/nrps/members", token, rlid=people.NAVIGATION_LINK_ID).json()["members"]
    custom = with_messages[0]["message"][0]["https://purl.imsglobal.org/spec/lti/claim/custom"]
    assert custom["canvas_user_id"] == "1001"


def test_the_tool_clients_work_against_the_practice_platform(demo, browser, practice):
    browser.launch("teacher")
    with demo.app.app_context(), session_scope() as session:
        client = PlatformClient(session, practice.registration(session))
        lineitems = f"{demo.url}/practice/ags/lineitems"
        item = ags.find_or_create_line_item(client, lineitems, resource_id="mc:morning-meeting",
                                            label="Morning Meeting", score_maximum=1, tag="microcred")
        again = ags.find_or_create_line_item(client, lineitems, resource_id="mc:morning-meeting",
                                             label="Morning Meeting", score_maximum=1, tag="microcred")
        assert again.id == item.id
        now = datetime.now(timezone.utc)
        ags.post_score(client, item.id, ags.Score(user_id="practice-teacher", activity_progress="Completed",
                                                  grading_progress="FullyGraded", timestamp=now, score_given=1,
                                                  score_maximum=1, comment="Awarded"))
        with pytest.raises(PlatformRejected) as refused:  # Student View never earns: refused, as Canvas does
            ags.post_score(client, item.id, ags.Score(user_id="practice-student_view", activity_progress="Completed",
                                                      grading_progress="FullyGraded", timestamp=now, score_given=1,
                                                      score_maximum=1))
        assert refused.value.http_status == 422
        roster = nrps.roster(client, f"{demo.url}/practice/nrps/members", page_size=2)
        assert [m.user_id for m in roster.members] == [p.subject for p in people.PERSONAS.values()]
        assert roster.context["title"] == people.COURSE_TITLE

"""End to end over HTTPS: the practice LMS (a real LTI 1.3 platform, lti1p3platform) launches Microcred for
every persona, places a micro-credential by deep linking, and serves AGS and NRPS to the tool's clients."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.lti import registry
from lti_tool.lti.services import PlatformClient
from lti_tool.lti.services import ags, nrps
from lti_tool.lti.services.errors import PlatformRejected
from lti_tool.people.models import User
from lti_tool.practice.platform import CLIENT_ID


@pytest.fixture
def browser(live_server):
    with requests.Session() as http:
        http.verify = str(live_server.cert_path)
        http.trust_env = False  # else REQUESTS_CA_BUNDLE would replace verify
        yield http


def _form(page: requests.Response) -> tuple[str, dict[str, str]]:
    action = html.unescape(re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1))
    fields = {html.unescape(n): html.unescape(v)
              for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)}
    return urljoin(page.url, action), fields


def launch(browser, live_server, persona: str, kind: str = "resource_link") -> requests.Response:
    """Drive a launch as a browser would: platform start → tool login → platform auth → tool launch."""
    browser.get(f"{live_server.url}/practice/").raise_for_status()
    auth = browser.get(f"{live_server.url}/practice/start/{persona}", params={"kind": kind, "storage": "0"})
    assert auth.status_code == 200 and auth.url.startswith(f"{live_server.url}/practice/auth?"), auth.text[:300]
    action, fields = _form(auth)
    assert action == f"{live_server.url}/lti/launch" and set(fields) == {"id_token", "state"}
    return browser.post(action, data=fields)


@pytest.mark.parametrize("persona, shown, absent", [
    ("teacher", "Teacher", "Facilitator"),
    ("teacher2", "Teacher", "Facilitator"),
    ("school_admin", "School administrator", "District administrator"),
    ("district_admin", "District administrator", "Student View"),
    ("student_view", "Student View", "Facilitator"),
])
def test_every_persona_launches(browser, live_server, persona, shown, absent):
    page = launch(browser, live_server, persona)
    assert page.status_code == 200 and page.url == f"{live_server.url}/", page.text[:500]
    assert "Welcome" in page.text and shown in page.text and absent not in page.text
    cookie = next(c for c in browser.cookies if c.name == "mc_session")
    assert cookie.secure and cookie.has_nonstandard_attr("HttpOnly")


def test_relaunch_keeps_one_user_and_the_jwks_is_fetched_once(browser, live_server):
    launch(browser, live_server, "teacher")
    launch(browser, live_server, "teacher")
    with live_server.app.app_context(), session_scope() as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.subject == "practice-teacher")) == 1
        assert live_server.app.extensions["practice_store"].jwks_hits == 1  # cached on the registration


def test_deep_linking_round_trip_is_validated_by_the_platform(browser, live_server):
    from lti_tool.catalog import service as catalog

    browser.get(f"{live_server.url}/practice/").raise_for_status()
    with live_server.app.app_context(), session_scope() as session:
        registration = registry.find_registration(session, f"{live_server.url}/practice", CLIENT_ID)
        catalog.import_texts(session, None, registration.district_id, catalog.sample_sources())
    picker = launch(browser, live_server, "district_admin", kind="deep_link")
    assert picker.url == f"{live_server.url}/lti/deep-link" and "Add a micro-credential" in picker.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', picker.text).group(1)
    choice = re.search(r'name="resource" value="([^"]+)"', picker.text).group(1)
    answer = browser.post(f"{live_server.url}/lti/deep-link", data={"csrf_token": csrf, "resource": choice})
    action, fields = _form(answer)
    assert action == f"{live_server.url}/practice/deep-link-return" and "JWT" in fields
    placed = browser.post(action, data=fields)
    assert placed.status_code == 200 and "Added to the practice course" in placed.text
    [item] = live_server.app.extensions["practice_store"].placed
    assert item["line_item"]["resourceId"] == choice and item["line_item"]["tag"] == "microcred"
    assert item["line_item"]["scoreMaximum"] == 1.0 and item["custom"]["microcred_slug"] == choice.split(":", 1)[1]
    forged = browser.post(action, data={"JWT": fields["JWT"][:-4] + "AAAA"})
    assert forged.status_code == 400


def test_ags_scores_and_nrps_paging_against_the_platform(browser, live_server):
    launch(browser, live_server, "teacher")  # registers the practice platform
    app = live_server.app
    with app.app_context(), session_scope() as session:
        registration = registry.find_registration(session, f"{live_server.url}/practice", CLIENT_ID)
        client = PlatformClient(session, registration)
        lineitems = f"{live_server.url}/practice/ags/lineitems"
        item = ags.find_or_create_line_item(client, lineitems, resource_id="mc:morning-meeting",
                                            label="Morning Meeting", score_maximum=1, tag="microcred")
        again = ags.find_or_create_line_item(client, lineitems, resource_id="mc:morning-meeting",
                                             label="Morning Meeting", score_maximum=1, tag="microcred")
        assert again.id == item.id
        now = datetime.now(timezone.utc)
        ags.post_score(client, item.id, ags.Score(user_id="practice-teacher", activity_progress="Completed",
                                                  grading_progress="FullyGraded", timestamp=now, score_given=1,
                                                  score_maximum=1, comment="Awarded: demonstrated on every criterion"))
        with pytest.raises(PlatformRejected):  # Student View never earns: the platform refuses, as Canvas does
            ags.post_score(client, item.id, ags.Score(user_id="practice-student_view", activity_progress="Completed",
                                                      grading_progress="FullyGraded", timestamp=now, score_given=1,
                                                      score_maximum=1))
        roster = nrps.roster(client, f"{live_server.url}/practice/nrps/members", page_size=2)
        assert len(roster.members) == 5 and {m.user_id for m in roster.members} >= {"practice-teacher", "practice-teacher2"}
    history = app.extensions["practice_store"].scores
    [(key, scores)] = history.items()
    assert scores[0]["comment"] == "Awarded: demonstrated on every criterion"


def test_the_practice_lms_does_not_exist_in_production(make_app, db_url):
    app = make_app(db_url, ENV="production", SECRET_KEY="k3Jd8s-2LmQp9xVz7RtYw4NbC6hF1gAeUo5iX0Ws")
    assert app.test_client().get("/practice/").status_code == 404
    assert not any(rule.rule.startswith("/practice") for rule in app.url_map.iter_rules())

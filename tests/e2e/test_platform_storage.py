"""LTI Platform Storage: with every cookie blocked in the frame, the tool keeps its login secret in the
practice course page's ``post_message_forwarding`` frame (``lti.put_data``) and reads it back at launch
(``lti.get_data``), as it does in Canvas with third-party cookies blocked."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.support.platform import autopost_form, is_get_data_page, is_put_data_page


def test_a_launch_with_cookies_blocked_goes_through_platform_storage(demo, open_practice_browser, practice):
    browser = open_practice_browser(cookies=False)
    page = browser.login("teacher", storage=True)
    assert is_put_data_page(page) and page.url.startswith(f"{demo.url}/lti/login?")
    assert parse_qs(urlsplit(page.url).query)["lti_storage_target"] == ["post_message_forwarding"]

    form_page = browser.answer_put_data(page)
    [(_, secret)] = browser.platform_storage.items()
    _, fields = autopost_form(form_page)
    answer = browser.post_launch(fields)  # no state cookie came back
    assert is_get_data_page(answer), answer.text[:400]
    assert practice.rows()["LaunchRecord"] == 0

    done = browser.answer_get_data(answer)
    assert done.status_code == 303 and done.headers["Location"].startswith("/?mcs=")
    home = browser.get(done.headers["Location"])
    assert home.status_code == 200 and "Welcome, Ana Ruiz" in home.text
    assert secret not in home.text


def test_a_wrong_storage_secret_is_refused_with_a_new_window_offer(demo, open_practice_browser, practice):
    browser = open_practice_browser(cookies=False)
    answer = browser.post_launch(browser.authorize("teacher", storage=True))
    assert is_get_data_page(answer)
    before = practice.rows()
    refused = browser.answer_get_data(answer, secret="not-the-secret")
    assert refused.status_code == 401 and "Open Microcred in a new window" in refused.text
    assert "/lti/login?" in refused.text and "lti1p3_new_window=1" in refused.text
    assert practice.rows() == before
    assert browser.answer_get_data(answer).status_code == 303  # the right secret still works


def test_with_cookies_allowed_platform_storage_is_offered_but_the_cookie_suffices(demo, browser):
    landed = browser.launch("teacher", storage=True)
    assert landed.answer.headers["Location"] == "/"  # the state cookie bound the launch: no session in URLs
    assert landed.page.status_code == 200 and "Welcome" in landed.page.text


def test_the_forwarder_frame_answers_put_and_get_data(demo, browser):
    course = browser.get("/practice/course/teacher")
    assert 'name="post_message_forwarding"' in course.text and 'name="tool"' in course.text
    frame = browser.get("/practice/forwarder")
    for subject in ("lti.put_data", "lti.get_data", "lti.capabilities", ".response"):
        assert subject in frame.text
    assert "nonce=" in frame.text and "'nonce-" in frame.headers["Content-Security-Policy"]

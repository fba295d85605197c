"""The demo as a person sees it: the practice LMS (another site than the tool) frames Microcred; a teacher
browses the school's catalog, a district admin opens the editor."""
from __future__ import annotations

import pytest


@pytest.fixture
def demo(live_server):
    result = live_server.app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return live_server


def _course(page, demo, persona):
    page.goto(f"{demo.alt_url()}/practice/course/{persona}")  # 127.0.0.1: cross-site from the tool's localhost
    frame = page.frame_locator("iframe[name=tool]")
    try:
        frame.get_by_role("heading", name="Welcome").first.wait_for(timeout=15_000)
    except Exception:
        raise AssertionError("the tool did not open: " + page.frame(name="tool").url + " "
                             + page.frame(name="tool").inner_text("body")[:600])
    return frame


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_teacher_browses_the_school_catalog(open_browser, demo, screenshots, leg):
    page = open_browser(block_third_party_cookies=True).new_page()
    frame = _course(page, demo, "teacher")
    frame.get_by_role("link", name="Browse micro-credentials").click()
    frame.get_by_role("heading", name="Micro-credentials").wait_for()
    frame.get_by_text("Featured").first.wait_for()
    text = page.frame(name="tool").inner_text("body")
    assert "Classroom Culture" in text and "Morning Meeting for Social-Emotional Learning" in text
    assert "Basic Performance Assessment Design" not in text  # not offered at this school
    frame.get_by_role("link", name="Morning Meeting for Social-Emotional Learning").click()
    frame.get_by_role("heading", name="6. Scoring rubric").wait_for()
    page.screenshot(path=str(screenshots / "teacher-mc.png"), full_page=True)


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_district_admin_reaches_the_editor(open_browser, demo, screenshots, leg):
    page = open_browser().new_page()
    frame = _course(page, demo, "district_admin")
    frame.get_by_role("link", name="Manage the district catalog").click()
    frame.get_by_role("heading", name="District catalog").wait_for()
    assert page.frame(name="tool").inner_text("body").count("Edit") >= 9
    frame.get_by_role("link", name="Edit").first.click()
    frame.get_by_role("heading", name="Teacher's view").wait_for()
    frame.locator("#preview").get_by_role("heading", name="6. Scoring rubric").wait_for(timeout=10_000)
    page.screenshot(path=str(screenshots / "admin-editor.png"), full_page=True)


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_the_tool_asks_the_lms_to_resize_its_frame(open_browser, demo, leg):
    page = open_browser().new_page()
    # Listen before any page script runs (in every frame; only the LMS page's list matters).
    page.add_init_script("""window.resizes = []; window.addEventListener('message', e => {
        if ((e.data || {}).subject === 'lti.frameResize') window.resizes.push(e.data.height); });""")
    _course(page, demo, "teacher")
    page.wait_for_function("window.resizes.length > 0", timeout=10_000)
    assert page.evaluate("window.resizes[window.resizes.length - 1]") > 100

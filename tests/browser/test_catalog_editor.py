"""A district admin writes a micro-credential in the editor; the live preview shows what a teacher will see."""
from __future__ import annotations

import pytest

from tests.browser.test_launch_in_iframe import open_course, start_platform
from tests.support.signer import LIS

ADMIN = [LIS + "institution/person#Administrator", LIS + "membership#Instructor", LIS + "system/person#User"]


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_editor_live_preview_and_save(open_browser, live_server, screenshots, leg):
    platform = start_platform(live_server, ADMIN, district_admin=True)
    try:
        page, frame = open_course(open_browser(), platform, screenshots, "admin-home")
        frame.get_by_role("link", name="Manage the district catalog").click()
        frame = page.frame(name="tool")
        frame.get_by_role("link", name="New micro-credential").click()
        frame.wait_for_load_state()
        editor = page.frame_locator("iframe[name=tool]")
        editor.get_by_label("Title").first.fill("Exit Tickets That Change Tomorrow's Lesson")
        editor.get_by_label("One-line summary").fill("Use a two-minute check to plan the next day.")
        editor.get_by_label("Criterion 1 title").fill("Question design")
        editor.get_by_label("Criterion 1 level 1 descriptor").fill("Questions do not target the goal.")
        preview = editor.locator("#preview")
        # Still incomplete: the preview lists what to fix, by field.
        preview.get_by_text("The preview appears when the draft is complete").wait_for(timeout=10_000)
        for label, value in (("1. Competency", "<p>Checks understanding daily.</p>"),
                             ("2. Key method", "<p>Ask, sort, act.</p>"), ("3. Components", "<p>Three steps.</p>"),
                             ("4. Research", "<p>Formative assessment helps.</p>"),
                             ("5. Submission criteria", "<p>Three tickets.</p>")):
            editor.get_by_label(label, exact=True).fill(value)
        editor.get_by_label("Criterion 1 description").fill("The questions target the lesson goal.")
        editor.locator("input[name=t0_title]").fill("Collect tickets")
        editor.locator("input[name=t0_criteria]").fill("question-design")
        editor.locator("input[name=t0_e0_label]").fill("Photos of three exit tickets")
        editor.locator("input[name=effort_hours]").fill("6")
        editor.locator("input[name=audience]").fill("Any classroom teacher")
        preview.get_by_role("heading", name="6. Scoring rubric").wait_for(timeout=10_000)
        assert "Question design" in preview.inner_text()
        page.screenshot(path=str(screenshots / "editor.png"), full_page=True)
        editor.get_by_role("button", name="Save draft").click()
        page.frame_locator("iframe[name=tool]").get_by_role("heading", name="Exit Tickets That Change Tomorrow's Lesson").wait_for(timeout=10_000)
        assert "v1 · draft" in page.frame(name="tool").content()
    finally:
        platform.server.shutdown()
        platform.server.server_close()

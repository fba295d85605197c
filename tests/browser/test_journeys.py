"""Every page of every role's journey, as a person meets it inside the practice LMS's cross-site frame, at
1280 px and 360 px, in English and Spanish: zero axe-core violations (WCAG 2.1 A/AA), nothing scrolling
sideways at 360 px, a frame sized to its page; on a Spanish page, no English interface phrase.

One server, one Chromium and one launch per persona serve the whole module; consecutive cases of one page
(the two widths) reuse the page. Today's known defects on pages owned elsewhere are listed in KNOWN (and
SPANISH_PENDING) below: such a case is an xfail only while nothing else fails, and fails on anything new.
"""
from __future__ import annotations

import pytest

from tests.browser.journeys import FRAME_MAX, FRAME_MIN, WIDTHS, english_phrases

MC = "morning-meeting"
STACK = "classroom-culture"

# page name -> path on the tool's origin
PAGES = {
    "home": "/",
    "catalog": "/catalog/",
    "mc": f"/catalog/mc/{MC}",
    "stack": f"/catalog/stack/{STACK}",
    "offer": "/catalog/offer",
    "manage": "/catalog/manage",
    "editor": f"/catalog/manage/edit/{MC}",
    "new-mc": "/catalog/manage/edit",
    "stack-editor": f"/catalog/manage/stack/{STACK}",
    "import": "/catalog/manage/import",
    "schools": "/district/schools/",
    "forbidden": "/catalog/manage",  # a 403 for anyone but a district admin
    "picker": None,                  # where the instructor's deep-linking launch lands
    "signed-out": None,              # after "Sign out of Microcred" on home
}

# persona -> the pages of their journey, in the order a person would meet them
JOURNEYS = {
    "teacher": ("home", "catalog", "mc", "stack", "forbidden", "signed-out"),
    "teacher2": ("home", "catalog", "mc"),
    "student_view": ("home", "catalog", "mc", "stack"),
    "school_admin": ("home", "catalog", "mc", "stack", "offer", "forbidden"),
    "district_admin": ("home", "catalog", "mc", "stack", "offer", "manage", "editor", "new-mc", "stack-editor",
                       "import", "schools"),
    "instructor": ("picker", "home", "catalog"),
}

# Defects found on pages owned elsewhere, while the design system fixes them (issue 9):
# (persona or "*", page, width) -> the axe rule ids, or "sideways" for overflow at 360 px. A listed case is an
# xfail only while nothing else is wrong with it. Empty now: what the first run found (scrollable-region-focusable
# on the MC page's rubric at 360 px and in the editor's preview; the editor 599 px wide, the import page's file
# label, the 403 page's reference code and the manage table's hidden text sticking out at 360 px) is fixed.
KNOWN: dict[tuple[str, str, str], set[str]] = {}

# What ``make screenshots`` keeps (docs/screenshots/<persona>-<page>-<width>.png), in English.
SCREENSHOTS = {("teacher", "home"), ("teacher", "catalog"), ("teacher", "mc"), ("school_admin", "offer"),
               ("district_admin", "manage"), ("district_admin", "editor"), ("district_admin", "schools"),
               ("instructor", "picker")}

# Pages whose interface is not in Spanish yet: the catalog templates (lti_tool/templates/catalog/**) and the
# catalog services' messages are being rebuilt and have no msgids yet. On these pages, and only for English
# phrases, a Spanish case is an xfail; anything else (axe, overflow, lang) still fails it.
SPANISH_PENDING: set[str] = set()

# Widths alternate 1280, 360 | 360, 1280 | ... from page to page, so each visit starts at the width the
# previous case left (one resize per page, not two).
CASES = [
    pytest.param(locale, persona, name, width, id=f"{locale}-{persona}-{name}-{width}")
    for locale in ("en", "es") for persona, pages in JOURNEYS.items() for index, name in enumerate(pages)
    for width in (list(WIDTHS) if index % 2 == 0 else list(WIDTHS)[::-1])
]


def _known(persona: str, name: str, width: str) -> set[str]:
    return KNOWN.get((persona, name, width), set()) | KNOWN.get(("*", name, width), set())


def _arrive(course_for, locale: str, persona: str, name: str):
    """The persona's course with the tool's frame on page ``name``."""
    if name == "picker":
        return course_for(persona, kind="deep_link", locale=locale)
    if name == "signed-out":
        course = course_for(persona, locale=locale, fresh="sign-out")
        if course.current != "signed-out":
            course.visit("/")
            course.frame.locator("form[action*='sign-out'] button[type=submit]").click()
            course.frame.wait_for_load_state()
            course.current = "signed-out"
            course.settle()
        return course
    course = course_for(persona, locale=locale)
    response = course.visit(PAGES[name])
    if response is not None:
        expected = 403 if name == "forbidden" else 200
        assert response.status == expected, f"{PAGES[name]} as {persona}: {response.status}"
    return course


@pytest.mark.parametrize("locale, persona, name, width", CASES)
def test_page(course_for, axe_source, locale, persona, name, width):
    course = _arrive(course_for, locale, persona, name)
    course.resize(WIDTHS[width])
    if locale == "en" and (persona, name) in SCREENSHOTS:
        course.screenshot(f"{persona}-{name}-{WIDTHS[width]}")
    problems: list[tuple[str, str]] = []  # (what kind: an axe rule id, "sideways", ...; the message)

    for violation in course.axe(axe_source):
        problems.append((violation.rule, f"axe {violation}"))
    if width == "phone":
        sideways = course.sideways()
        if sideways:
            problems.append(("sideways", f"sideways: scrollWidth {sideways['scrollWidth']} > clientWidth "
                                         f"{sideways['clientWidth']}; sticking out: {', '.join(sideways['elements'])}"))
    heights = course.heights()
    if heights["frame"] > max(FRAME_MIN, heights["content"]) + 8:
        problems.append(("too-tall", f"the frame ({heights['frame']} px) is taller than its page "
                                     f"({heights['content']} px)"))
    if heights["scroll"] > heights["client"] + 8 and heights["frame"] < FRAME_MAX - 8:  # else the LMS's cap
        problems.append(("too-short", f"the frame ({heights['client']} px) is shorter than its page "
                                      f"({heights['scroll']} px): a second scrollbar"))
    if locale == "es":
        lang = course.frame.evaluate("() => document.documentElement.lang")
        if not lang.startswith("es"):
            problems.append(("lang", f'<html lang="{lang}"> on a Spanish page'))
        english = english_phrases(course.text())
        if english:
            problems.append(("english", "English on a Spanish page: " + ", ".join(english)))

    known = _known(persona, name, width) | ({"english"} if locale == "es" and name in SPANISH_PENDING else set())
    unexpected = [message for kind, message in problems if kind not in known]
    assert not unexpected, (f"{name} as {persona} at {WIDTHS[width]} px ({course.frame.url}):\n"
                            + "\n".join(message for _kind, message in problems))
    if problems:
        pytest.xfail("known (issue 9): " + "; ".join(message for _kind, message in problems))


def test_the_frame_shrinks_back_after_a_long_page(course_for, axe_source):
    """The editor grows the frame to its full length; home, next, shrinks it back (it used to stay ~5,000 px),
    and content that appears and goes on one page moves the frame both ways."""
    course = course_for("district_admin")
    course.resize(WIDTHS["desktop"])
    course.visit(PAGES["editor"])
    long = course.heights()
    assert long["frame"] >= long["content"] - 8 > 1500, long  # grown to the editor's length: one scrollbar
    course.visit(PAGES["home"])
    short = course.heights()
    assert short["frame"] <= max(FRAME_MIN, short["content"]) + 8, (long, short)
    assert short["frame"] < long["frame"] / 2, (long, short)

    course.frame.evaluate("""() => { const d = document.createElement('div'); d.id = 'tall';
                                     d.style.height = '3000px'; document.querySelector('main').append(d); }""")
    course.settle()
    grown = course.heights()
    assert grown["frame"] >= short["content"] + 3000 - 8, (short, grown)
    course.frame.evaluate("() => document.getElementById('tall').remove()")
    course.settle()
    assert course.heights()["frame"] <= max(FRAME_MIN, short["content"]) + 8
    course.visit(PAGES["home"], reload=True)


def test_every_page_asks_for_its_height(course_for, axe_source):
    """lti.frameResize on load of every page, not only the first."""
    course = course_for("school_admin")
    course.resize(WIDTHS["desktop"])
    for name in ("catalog", "offer", "home"):
        before = len(course.resizes)
        course.visit(PAGES[name])
        for _ in range(100):
            if len(course.resizes) > before:
                break
            course.page.wait_for_timeout(20)
        assert len(course.resizes) > before, f"no lti.frameResize from {name}"


def test_links_that_leave_the_tool_open_in_a_new_tab_and_say_so(course_for, axe_source):
    course = course_for("teacher2")
    course.visit(PAGES["home"], reload=True)
    frame = course.frame
    frame.evaluate("""() => {
        const p = document.createElement('p');
        p.innerHTML = '<a id="away" href="https://research.example/paper">The study</a> '
                    + '<a id="here" href="/catalog/">The catalog</a> '
                    + '<a id="top" href="https://lms.example/courses/1" target="_top">Back to the course</a>';
        document.querySelector('main').append(p);
        // A link at the far end of a wide table's scroller (styles through the CSSOM: the CSP allows no
        // style attribute).
        const scroller = document.createElement('div'), wide = document.createElement('div'), far = document.createElement('a');
        scroller.style.width = '200px'; scroller.style.overflowX = 'auto'; wide.style.width = '3000px';
        far.id = 'far'; far.href = 'https://research.example/far'; far.textContent = 'Far'; far.style.marginLeft = '2900px';
        wide.append(far); scroller.append(wide); document.querySelector('main').append(scroller);
    }""")
    away = frame.locator("#away")
    away.get_by_text("(opens in a new tab)").wait_for(state="attached")
    assert away.get_attribute("target") == "_blank"
    assert "noopener" in away.get_attribute("rel").split()
    frame.get_by_role("link", name="The study (opens in a new tab)").wait_for()
    box = away.locator("span").bounding_box()  # for screen readers; the visible text stays "The study"
    assert box["width"] <= 1 and box["height"] <= 1, box
    frame.locator("#far").get_by_text("(opens in a new tab)").wait_for(state="attached")
    assert course.sideways() is None  # the note in a link deep inside a scroller stays inside it
    assert frame.locator("#here").get_attribute("target") is None
    assert frame.locator("#top").get_attribute("target") == "_top"  # a template's own choice stands
    assert "new tab" not in frame.locator("#top").inner_text()
    course.visit(PAGES["home"], reload=True)

"""The browser journey harness: the practice LMS frames Microcred cross-site (the practice course page on
https://127.0.0.1:PORT, the tool on https://localhost:PORT), one persona per browser context, and the checks
every page of every journey must pass inside the tool's frame:

- axe-core (from npm, ``npm ci --prefix tests/browser``) with the WCAG 2.1 A and AA rules, zero violations;
- nothing scrolls sideways at 360 px (a wide table may, inside its own scroller);
- the frame is never taller than its page (the practice LMS sizes it on ``lti.frameResize``, as Canvas does);
- on a Spanish page, none of the tool's English interface phrases.

``Course`` keeps one launched persona and moves its tool frame from page to page, so a journey launches once.
"""
from __future__ import annotations

import functools
import html
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import REQUIRE_FULL_STACK

SAMPLE_CATALOG = Path(__file__).resolve().parents[2] / "lti_tool" / "catalog" / "sample"
AXE_PATH = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA only. axe's "best-practice" rules (region, heading-order, landmark-*) are advice, not
# conformance: run with AXE_BEST_PRACTICE=1 to see them, they do not fail the suite.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
if os.environ.get("AXE_BEST_PRACTICE") == "1":
    AXE_TAGS.append("best-practice")

WIDTHS = {"desktop": 1280, "phone": 360}
VIEWPORT_HEIGHT = 800
# The practice course page keeps a tool frame between 300 and 20,000 px (see practice/course.html).
FRAME_MIN, FRAME_MAX = 300, 20_000
# Screenshots for a person (README, review): ``SCREENSHOTS_DIR=docs/screenshots`` (``make screenshots``).
SCREENSHOTS_DIR = os.environ.get("SCREENSHOTS_DIR")


def axe_source() -> str | None:
    """axe-core's script, or None when ``npm ci --prefix tests/browser`` has not been run."""
    return AXE_PATH.read_text(encoding="utf-8") if AXE_PATH.is_file() else None


def missing_axe_message() -> str:
    return (f"axe-core not installed ({AXE_PATH.relative_to(Path.cwd()) if AXE_PATH.is_relative_to(Path.cwd()) else AXE_PATH}"
            " missing): run `npm ci --prefix tests/browser`" + (" (REQUIRE_FULL_STACK=1)" if REQUIRE_FULL_STACK else ""))


@dataclass
class Violation:
    rule: str
    impact: str | None
    help: str
    targets: list[str]

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}): {self.help} — " + ", ".join(self.targets[:4]) + (
            f" (+{len(self.targets) - 4} more)" if len(self.targets) > 4 else "")


# Interface phrases that must not show on a Spanish page (catalog content is the district's own words, in
# whatever language it wrote them, so only the tool's own wording is checked). Whole words, case-sensitive.
ENGLISH_UI = (
    "Skip to content", "Welcome", "Browse micro-credentials", "Sign out of Microcred", "Your roles here",
    "Manage the district catalog", "Choose what your school offers", "Micro-credentials", "Search", "Topic",
    "Effort", "Filter", "Featured", "shown", "Teacher", "District administrator", "School administrator",
    "Save draft", "Publish", "Retire", "Edit", "New micro-credential", "New stack", "Import", "Export",
    "Schools", "Add to course", "Choose one", "You have signed out of Microcred", "reference",
    "Only a school administrator", "Only district administrators", "Scoring rubric", "Competency",
    "Key method", "Components", "Submission criteria", "Research", "hours", "Title", "Save", "Cancel",
)
_ENGLISH_UI = re.compile(r"(?<![\w-])(" + "|".join(re.escape(p) for p in ENGLISH_UI) + r")(?![\w-])")


def english_phrases(text: str) -> list[str]:
    """The tool's English interface phrases in ``text``, once the data (the sample catalog's own words, the
    course's title, people's and schools' names) is taken out: data stays in the language it was written in."""
    for piece in _data_strings():
        text = text.replace(piece, " ")
    return sorted(set(_ENGLISH_UI.findall(text)))


@functools.cache
def _data_strings() -> tuple[str, ...]:
    from lti_tool.cli import DEMO_DISTRICT, DEMO_SCHOOLS
    from lti_tool.practice import personas

    found: set[str] = {personas.COURSE_TITLE, personas.SCHOOL_NAME, DEMO_DISTRICT[1],
                       *(name for _code, name in DEMO_SCHOOLS), *(p.name for p in personas.ROSTER)}

    def walk(value) -> None:
        if isinstance(value, str):
            found.update(part.strip() for part in re.split(r"<[^>]*>", html.unescape(value)) if part.strip())
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted(SAMPLE_CATALOG.glob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return tuple(sorted((s for s in found if len(s) >= 3), key=len, reverse=True))


@dataclass
class Course:
    """One persona's practice course page with Microcred in its frame (``page``: the LMS's page)."""

    page: object
    tool_base: str
    persona: str
    resizes: list[int] = field(default_factory=list)
    current: str | None = None

    @property
    def frame(self):
        return self.page.frame(name="tool")

    def url(self, path: str) -> str:
        return self.tool_base + path

    def visit(self, path: str, *, reload: bool = False):
        """Move the tool's frame to ``path`` (on the tool's origin) unless it is there already."""
        if path != self.current or reload:
            response = self.frame.goto(self.url(path), wait_until="load")
            self.current = path
            self.settle()
            return response
        return None

    def resize(self, width: int) -> None:
        if self.page.viewport_size["width"] != width:
            self.page.set_viewport_size({"width": width, "height": VIEWPORT_HEIGHT})
            self.settle()

    def settle(self) -> None:
        """Wait until the frame's height has stopped changing (resize messages answered, late content such
        as the editor's live preview laid out): unchanged for 100 ms, and matching its page's height when
        it can (the check itself reports a mismatch that lasts)."""
        for _ in range(3):
            self.page.wait_for_function(
                """() => new Promise(done => {
                    const frame = document.querySelector('iframe[name=tool]');
                    let last = -1, since = performance.now();
                    const tick = () => {
                      const h = frame.getBoundingClientRect().height, now = performance.now();
                      if (h !== last) { last = h; since = now; }
                      if (now - since >= 100) done(true); else requestAnimationFrame(tick);
                    };
                    tick();
                })""", timeout=10_000)
            heights = self.heights()
            if abs(heights["frame"] - max(FRAME_MIN, heights["content"])) <= 8:
                return

    # --- the checks ---------------------------------------------------------------------------------

    def axe(self, source: str) -> list[Violation]:
        frame = self.frame
        if not frame.evaluate("() => typeof window.axe === 'object'"):
            frame.evaluate(source)  # through the debugger protocol: the page's CSP does not apply
        result = frame.evaluate("""tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                            resultTypes: ['violations']})""", AXE_TAGS)
        return [Violation(v["id"], v.get("impact"), v["help"], [", ".join(n["target"]) for n in v["nodes"]])
                for v in result["violations"]]

    def sideways(self) -> dict | None:
        """None if the frame's page does not scroll sideways; else its widths and the elements sticking out
        (outside any scroller of their own)."""
        return self.frame.evaluate("""() => {
            const doc = document.documentElement;
            if (doc.scrollWidth <= doc.clientWidth) return null;
            const inScroller = el => {
              for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                const s = getComputedStyle(p);
                if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX)) return true;
              }
              return false;
            };
            const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
              + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
              + (el.name ? '[name=' + el.name + ']' : '');
            const wide = [];
            for (const el of document.body.querySelectorAll('*')) {
              const r = el.getBoundingClientRect();
              if (r.right > doc.clientWidth + 1 && r.width > 0 && !inScroller(el)
                  && !(el.parentElement && wide.includes(describe(el.parentElement)))) wide.push(describe(el));
            }
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node && wide.length < 6; node = walker.nextNode()) {
              const range = document.createRange(); range.selectNodeContents(node);
              const r = range.getBoundingClientRect();  // text running out of its box, which stays narrow
              const clipped = ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(node.parentElement).overflowX);
              if (r.right > doc.clientWidth + 1 && !clipped && !inScroller(node.parentElement))
                wide.push('text "' + node.textContent.trim().slice(0, 40) + '" in ' + describe(node.parentElement));
            }
            if (!wide.length) {  // then something positioned, or clipped by a parent that does not scroll
              // Positioned first: an absolute element whose containing block is outside a scroller escapes it.
              const all = [...document.body.querySelectorAll('*')].filter(el => el.getBoundingClientRect().right > doc.clientWidth + 1);
              const positioned = el => ['absolute', 'fixed'].includes(getComputedStyle(el).position) ? 0 : 1;
              all.sort((a, b) => positioned(a) - positioned(b));
              for (const el of all) wide.push(describe(el) + ' (' + getComputedStyle(el).position + ')');
            }
            return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, elements: wide.slice(0, 6)};
        }""")

    def heights(self) -> dict:
        """The frame's height on the LMS page and the height of the page inside it (the bottom of ``main``
        and everything else in body, measured without trusting scrollHeight, which is at least the frame's)."""
        frame_height = self.page.evaluate(
            "() => document.querySelector('iframe[name=tool]').getBoundingClientRect().height")
        content = self.frame.evaluate("""() => {
            let bottom = 0;
            for (const el of document.body.children) {
              const r = el.getBoundingClientRect();
              if (r.height > 0) bottom = Math.max(bottom, r.bottom + parseFloat(getComputedStyle(el).marginBottom || 0));
            }
            const b = getComputedStyle(document.body);
            return Math.ceil(bottom + window.scrollY + parseFloat(b.paddingBottom) + parseFloat(b.marginBottom));
        }""")
        inner = self.frame.evaluate("() => ({scroll: document.documentElement.scrollHeight,"
                                    " client: document.documentElement.clientHeight})")
        return {"frame": frame_height, "content": content, **inner}

    def text(self) -> str:
        """What a person (or a screen reader) meets in the page's own language: visible text, labels and
        alternatives, leaving out what is marked as another language (lang="en" hints for district IT, the
        language switch naming each language in its own words)."""
        return self.frame.evaluate("""() => {
            const own = document.documentElement.lang.split('-')[0];
            const inOwn = el => { const marked = el.closest('[lang]'); return !marked || marked.lang.split('-')[0] === own; };
            const parts = [document.title];
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
              const el = node.parentElement;
              if (!el || ['SCRIPT', 'STYLE', 'NOSCRIPT'].includes(el.tagName) || !inOwn(el)) continue;
              if (!el.getClientRects().length && !el.closest('.visually-hidden, .skip')) continue;
              parts.push(node.textContent);
            }
            for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], img[alt], input[type=submit], input[type=button]')) {
              if (!inOwn(el)) continue;
              parts.push(...['aria-label', 'title', 'placeholder', 'alt'].map(a => el.getAttribute(a)).filter(Boolean));
              if (el.tagName === 'INPUT' && el.value) parts.push(el.value);
            }
            return parts.join('\\n');
        }""")

    def screenshot(self, name: str) -> None:
        """The LMS page with the tool's frame, as a person sees it (cut at 2,400 px: the editor is ~9,000).
        The viewport is made as tall as the page first: a full-page screenshot leaves a cross-site frame
        (another renderer process) unpainted below the first screen."""
        if not SCREENSHOTS_DIR:
            return
        Path(SCREENSHOTS_DIR).mkdir(parents=True, exist_ok=True)
        width = self.page.viewport_size["width"]
        height = min(self.page.evaluate("() => document.documentElement.scrollHeight"), 2400)
        self.page.set_viewport_size({"width": width, "height": height})
        self.page.wait_for_timeout(150)
        self.page.screenshot(path=str(Path(SCREENSHOTS_DIR) / f"{name}.png"))
        self.page.set_viewport_size({"width": width, "height": VIEWPORT_HEIGHT})
        self.settle()


def open_course(context, server, persona: str, *, kind: str = "resource_link", locale: str | None = None) -> Course:
    """Open the practice course as ``persona`` (cross-site: 127.0.0.1 frames localhost) and wait for the
    tool. ``locale`` asks the practice LMS for a launch in that language (its ``locale`` claim)."""
    page = context.new_page()
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": VIEWPORT_HEIGHT})
    course = Course(page, server.url, persona)
    page.expose_function("recordFrameResize", lambda height: course.resizes.append(height))
    page.add_init_script("""window.addEventListener('message', e => {
        if (window === window.top && (e.data || {}).subject === 'lti.frameResize') window.recordFrameResize(e.data.height);
    });""")
    # storage=0: no Platform Storage frame. Here the LMS page is on 127.0.0.1 but the practice platform's
    # OIDC origin is localhost, so the tool's lti.put_data would go unanswered and the login page would wait
    # out its 2 s fallback on every launch; the cookie path is the one these checks need.
    query = f"?kind={kind}&storage=0" + (f"&locale={locale}" if locale else "")
    page.goto(f"{server.alt_url()}/practice/course/{persona}{query}")
    page.wait_for_function("() => { const f = document.querySelector('iframe[name=tool]');"
                           " return f && f.contentWindow && f.contentWindow.length >= 0; }")
    try:
        page.frame_locator("iframe[name=tool]").locator("main h1").first.wait_for(timeout=15_000)
    except Exception:
        frame = page.frame(name="tool")
        raise AssertionError(f"the tool did not open for {persona}: {frame.url if frame else '(no frame)'} "
                             + (frame.inner_text("body")[:600] if frame else ""))
    if locale and locale != "en" and not course.frame.evaluate(
            "l => document.documentElement.lang.startsWith(l)", locale):
        # Until the practice LMS can send another locale, choose it as a person would: the language switch.
        course.frame.locator(f"button[name=locale][value={locale}]").click()
        course.frame.wait_for_load_state()
        page.frame_locator("iframe[name=tool]").locator(f"html[lang^={locale}] main h1").first.wait_for(timeout=10_000)
    path = course.frame.url.removeprefix(server.url)
    course.current = path
    course.settle()
    return course

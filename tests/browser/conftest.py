"""Headless Chromium (Debian's package, driven by Playwright) for what a person sees.

Never ``playwright install``: it downloads a browser. ``CHROMIUM_PATH`` (default /usr/bin/chromium) names the
binary; without one the browser tests skip, or fail under ``REQUIRE_FULL_STACK=1``.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_FULL_STACK

QUIET_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
               "--ignore-certificate-errors"]


def _chromium() -> str | None:
    candidate = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    return candidate if candidate and os.access(candidate, os.X_OK) else None


@pytest.fixture(scope="session")
def playwright_driver():
    path = _chromium()
    if path is None:
        message = "Chromium not found (install Debian's chromium or set CHROMIUM_PATH)"
        if REQUIRE_FULL_STACK:
            pytest.fail(message + " (REQUIRE_FULL_STACK=1)", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver, path


@pytest.fixture
def open_browser(playwright_driver, tmp_path):
    """Start Chromium with a fresh profile; ``block_third_party_cookies=True`` sets the user preference that
    Chrome's "Block third-party cookies" switch sets. Returns a BrowserContext."""
    driver, path = playwright_driver
    contexts = []

    def start(block_third_party_cookies: bool = False, block_cookies_for: str | None = None):
        profile = tmp_path / f"profile-{len(contexts)}"
        (profile / "Default").mkdir(parents=True)
        prefs = {"profile": {"block_third_party_cookies": block_third_party_cookies,
                             "cookie_controls_mode": 1 if block_third_party_cookies else 0}}
        if block_cookies_for:  # the site setting "Not allowed to save data" for one origin
            prefs["profile"]["content_settings"] = {"exceptions": {"cookies": {
                f"{block_cookies_for},*": {"setting": 2}}}}
        (profile / "Default" / "Preferences").write_text(json.dumps(prefs))
        context = driver.chromium.launch_persistent_context(
            str(profile), executable_path=path, headless=True, args=QUIET_FLAGS, ignore_https_errors=True,
            viewport={"width": 1200, "height": 900})
        contexts.append(context)
        return context

    yield start
    for context in contexts:
        context.close()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where a test leaves screenshots for a person to look at (kept under pytest's tmp dir)."""
    return tmp_path


# --- the journey harness (tests/browser/journeys.py): one server, one browser, one launch per persona ------

@pytest.fixture(scope="session")
def axe_source():
    """axe-core's script from tests/browser/node_modules; without it the page checks skip (or fail under
    ``REQUIRE_FULL_STACK=1``, as a missing Chromium does)."""
    from tests.browser.journeys import axe_source as read, missing_axe_message

    source = read()
    if source is None:
        if REQUIRE_FULL_STACK:
            pytest.fail(missing_axe_message(), pytrace=False)
        pytest.skip(missing_axe_message())
    return source


@pytest.fixture(scope="module")
def journey_server(sqlite_leg, dev_certificate, tmp_path_factory):
    """The app with the practice LMS and the sample district (``make demo``'s), served over HTTPS for a whole
    test module: journeys only read, so one database serves every page visit (SQLite leg only)."""
    from lti_tool import create_app
    from tests.conftest import TEST_SECRET
    from tests.support import live

    url = sqlite_leg.fresh_url()
    port = live.free_port()
    cert, _key = dev_certificate
    app = create_app({"ENV": "testing", "SECRET_KEY": TEST_SECRET, "DATABASE_URL": url,
                      "INSTANCE_PATH": tmp_path_factory.mktemp("journey-instance"),
                      "TOOL_BASE_URL": f"https://localhost:{port}", "EXTRA_CA_CERTS": str(cert),
                      "PRACTICE_LMS": True})
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    try:
        with live.serving(app, port, cert.parent) as server:
            yield server
    finally:
        app.extensions["db_engine"].dispose()
        sqlite_leg.drop(url)


@pytest.fixture(scope="module")
def chromium(playwright_driver):
    """One headless Chromium for a test module; each persona gets its own context (cookies) inside it."""
    driver, path = playwright_driver
    browser = driver.chromium.launch(executable_path=path, headless=True, args=QUIET_FLAGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def course_for(chromium, journey_server):
    """``course_for(persona, kind=..., locale=..., fresh=...)``: that persona's practice course with the tool
    open in its frame, launched once per module and reused (``fresh`` opens a separate launch, for a journey
    that ends the session)."""
    from tests.browser.journeys import open_course

    courses: dict[tuple, object] = {}
    contexts = []

    def get(persona: str, *, kind: str = "resource_link", locale: str = "en", fresh: str = ""):
        key = (persona, kind, locale, fresh)
        if key not in courses:
            context = chromium.new_context(ignore_https_errors=True, locale="es-ES" if locale == "es" else "en-US")
            contexts.append(context)
            courses[key] = open_course(context, journey_server, persona, kind=kind,
                                       locale=locale if locale != "en" else None)
        return courses[key]

    yield get
    for context in contexts:
        context.close()

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

"""End-to-end fixtures: the app over HTTPS (``live_server``, on SQLite and PostgreSQL), browsers that drive the
practice LMS (``tests.support.platform``), the sample district, and row counts to show a refused launch
stored nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.lti.models import LaunchRecord, Registration, ToolSession
from lti_tool.people.models import User
from lti_tool.practice import keyring
from lti_tool.practice.platform import CLIENT_ID
from tests.support.platform import PracticeBrowser


@pytest.fixture
def open_practice_browser(live_server):
    """Start another browser (another person or device); ``cookies=False`` blocks every cookie."""
    browsers: list[PracticeBrowser] = []

    def start(**options) -> PracticeBrowser:
        browsers.append(PracticeBrowser(live_server, **options))
        return browsers[-1]

    yield start
    for browser in browsers:
        browser.close()


@pytest.fixture
def browser(open_practice_browser) -> PracticeBrowser:
    return open_practice_browser()


@pytest.fixture
def demo(live_server):
    """The sample district (lakeside, its schools, the sample catalog), as ``make demo`` seeds it."""
    result = live_server.app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return live_server


@pytest.fixture
def practice(live_server):
    """Helpers on the practice platform's side: its store, its key, its registration with the tool."""
    return Practice(live_server)


class Practice:
    def __init__(self, server) -> None:
        self.server = server
        self.app = server.app

    @property
    def store(self):
        return self.app.extensions["practice_store"]

    def key(self) -> keyring.PlatformKey:
        return keyring.current(self.app)

    def rotate_key(self) -> keyring.PlatformKey:
        return keyring.rotate(self.app)

    def registration(self, session) -> Registration:
        return session.scalar(select(Registration).where(Registration.issuer == self.server.url + "/practice",
                                                         Registration.client_id == CLIENT_ID))

    def rows(self) -> dict[str, int]:
        """How many users, launches and sessions the tool has stored."""
        with self.app.app_context(), session_scope() as session:
            return {model.__name__: session.scalar(select(func.count()).select_from(model))
                    for model in (User, LaunchRecord, ToolSession)}

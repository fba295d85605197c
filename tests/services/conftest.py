"""Fixtures for the platform service clients: a fake Canvas on loopback, a registration pointing at it
(with the tool's current public key installed as its developer key), and a client for it."""
from __future__ import annotations

import pytest

from lti_tool.lti import keys
from lti_tool.lti.registry import add_platform
from lti_tool.lti.services import PlatformClient
from lti_tool.people.service import ensure_district
from tests.services.fake_canvas import ALL_SCOPES, FakeCanvas

CLIENT_ID = "10000000000042"


@pytest.fixture
def fake_canvas():
    fake = FakeCanvas().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def app_context(app):
    """Service clients build their HTTP session from the app's settings: run these tests inside its context."""
    with app.app_context():
        yield


@pytest.fixture
def registration(session, fake_canvas, app_context):
    """A committed registration for the fake (all scopes granted), its developer key holding our JWKS."""
    district = ensure_district(session, slug="seminole", name="Seminole County")
    registration = add_platform(session, district=district, name="Canvas", endpoints=fake_canvas.endpoints(),
                                client_id=CLIENT_ID, deployment_ids=["1:4dde05e8ca19"], scopes=list(ALL_SCOPES))
    keys.current_key(session)
    fake_canvas.install_developer_key(CLIENT_ID, keys.jwks(session))
    session.commit()
    return registration


@pytest.fixture
def platform(session, registration):
    """The service client for the fake, on the test's session (inside the app context)."""
    return PlatformClient(session, registration)


@pytest.fixture
def course(fake_canvas):
    return fake_canvas.add_course(students=3, teachers=1, test_student=True)


@pytest.fixture
def new_session(app):
    """Open further sessions (another worker, another process) on the same database."""
    opened = []

    def make():
        db_session = app.extensions["db_sessionmaker"]()
        opened.append(db_session)
        return db_session

    yield make
    for db_session in opened:
        db_session.close()

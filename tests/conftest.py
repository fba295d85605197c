"""Shared fixtures: a fresh migrated database per test on each leg (SQLite, PostgreSQL), the app, its
client and CLI runner, and a guard that fails any outbound network call.

Tests that touch the database take the ``app`` (or ``db_url``) fixture and so run once per leg; the
PostgreSQL leg is skipped when no server can be found, and fails instead with ``REQUIRE_FULL_STACK=1``.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from collections import Counter

import pytest

from tests.support.databases import PostgresLeg, SqliteLeg
from tests.support.postgres import find_server

# Fixtures shared beyond their folder: the Dynamic Registration fakes (tests/install and tests/security).
pytest_plugins = ("tests.install.support",)

REQUIRE_FULL_STACK = os.environ.get("REQUIRE_FULL_STACK") == "1"
LEGS = ("sqlite", "postgresql")
TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


# --- no outbound network -------------------------------------------------------------------------------

class OutboundNetworkCall(AssertionError):
    pass


_real_connect = socket.socket.connect


def _loopback(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return True
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self, address):
    if not _loopback(address):
        raise OutboundNetworkCall(f"test tried to reach {address!r}: use a fake of the remote service")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def no_outbound_network(monkeypatch):
    """Any connection outside the loopback range fails the test (Canvas is faked, never called)."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


# --- database legs -------------------------------------------------------------------------------------

_leg_outcomes: dict[str, Counter] = {leg: Counter() for leg in LEGS}


@pytest.fixture(scope="session")
def sqlite_leg(tmp_path_factory):
    return SqliteLeg(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgresql_leg():
    server, reason = find_server()
    if server is None:
        message = f"PostgreSQL leg unavailable: {reason}. Set TEST_DATABASE_URL or install PostgreSQL."
        if REQUIRE_FULL_STACK:
            pytest.fail(message + " (REQUIRE_FULL_STACK=1)", pytrace=False)
        pytest.skip(message)
    leg = PostgresLeg(server.url)
    try:
        yield leg
    finally:
        leg.close()
        server.stop()


@pytest.fixture(params=LEGS)
def leg(request):
    """The database leg this test runs on."""
    return request.getfixturevalue(f"{request.param}_leg")


@pytest.fixture
def db_url(leg):
    url = leg.fresh_url()
    yield url
    leg.drop(url)


@pytest.fixture
def empty_db_url(leg):
    url = leg.empty_url()
    yield url
    leg.drop(url)


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        for leg in LEGS:
            if f"[{leg}" in report.nodeid or f"-{leg}]" in report.nodeid or f"-{leg}-" in report.nodeid:
                _leg_outcomes[leg][report.outcome] += 1


def pytest_terminal_summary(terminalreporter):
    parts = []
    for leg in LEGS:
        counts = _leg_outcomes[leg]
        parts.append(f"{leg}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    terminalreporter.write_line("database legs — " + "; ".join(parts))


# --- the app -------------------------------------------------------------------------------------------

@pytest.fixture
def make_app(tmp_path):
    """Build an app on a given database with test settings; extra settings override."""
    from lti_tool import create_app

    apps = []

    def build(database_url: str, **overrides):
        config = {"ENV": "testing", "SECRET_KEY": TEST_SECRET, "DATABASE_URL": database_url,
                  "INSTANCE_PATH": tmp_path / "instance", "TOOL_BASE_URL": "https://tool.test"}
        config.update(overrides)
        app = create_app(config)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["db_engine"].dispose()


@pytest.fixture
def app(db_url, make_app):
    # db_url first: fixtures end in reverse order, so the app's engine is disposed before its database is
    # dropped (a DROP ... WITH (FORCE) that must end live connections takes ~80 ms longer).
    return make_app(db_url)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def dev_certificate(tmp_path_factory):
    """One development certificate (localhost, 127.0.0.1) for every HTTPS server of the run: (cert, key)."""
    from lti_tool.cli import write_dev_certificate

    return write_dev_certificate(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def live_server(db_url, make_app, dev_certificate):
    """The app on a fresh database, served over HTTPS on a free loopback port (https://localhost:PORT), with the
    practice LMS opted in (as ``make demo`` does)."""
    from tests.support import live

    port = live.free_port()
    cert, _key = dev_certificate
    app = make_app(db_url, TOOL_BASE_URL=f"https://localhost:{port}", EXTRA_CA_CERTS=str(cert), PRACTICE_LMS=True)
    with live.serving(app, port, cert.parent) as server:
        yield server


@pytest.fixture
def session(app):
    """A session for arranging and checking rows directly (commit what the app must see). It pushes no app
    context, so each request of the test client gets its own, as in production."""
    db_session = app.extensions["db_sessionmaker"]()
    yield db_session
    db_session.close()


# --- a district, a platform that signs launches, people signed in --------------------------------------

@pytest.fixture
def district(session):
    """The sample district (slug ``lakeside``) with its school LES, committed."""
    from tests.support import factories

    row = factories.district(session)
    session.commit()
    return row


@pytest.fixture
def signer():
    """A stand-in LTI platform that signs id_tokens with its own key (tests/support/signer.py)."""
    from tests.support.signer import Signer

    return Signer()


@pytest.fixture
def registration(session, district, signer):
    """The ``signer`` registered in ``district``, its key set cached as after a first launch (no fetch)."""
    from tests.support import factories

    row = factories.platform(session, district, client_id=signer.client_id, deployments=(signer.deployment_id,))
    row.key_set = signer.jwks()
    session.commit()
    return row


@pytest.fixture
def sign_in(app, session, registration):
    """``sign_in(roles, **options)``: a new person of ``registration``'s district with an open session (options as
    ``factories.signed_in``), committed. Returns a test client presenting that session, with ``.token``,
    ``.actor`` and ``.csrf`` (what its forms carry)."""
    from tests.support import factories
    from tests.support.web import csrf_for, use_session

    def start(roles, **options):
        token, actor = factories.signed_in(session, registration, set(roles), **options)
        session.commit()
        client = use_session(app.test_client(), token)
        client.token, client.actor, client.csrf = token, actor, csrf_for(app, token)
        return client

    return start

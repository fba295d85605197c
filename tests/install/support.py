"""What the Dynamic Registration tests share: the tool's key, the fake Canvas, the registration request
Canvas frames, and a hostile platform (a raw loopback server that answers however a test scripts it)."""
from __future__ import annotations

import socket
import threading
import time
from typing import Callable

import pytest
from sqlalchemy import func, select

from lti_tool.audit.models import AuditEvent
from lti_tool.lti import keys
from lti_tool.lti.dynreg import make_invite
from lti_tool.lti.models import Deployment, Registration
from tests.install.fake_registration import FakeCanvasRegistration

BASE = "https://tool.test"


@pytest.fixture
def tool_key(session, district):
    """The tool's signing key, made as ``db upgrade`` would, in the sample district's database."""
    key = keys.current_key(session)
    session.commit()
    return key


@pytest.fixture
def tool_jwks(client, tool_key):
    """What the tool serves at its jwks_uri, which Canvas fetches to check the tool's client assertions."""
    served = {f"{BASE}/lti/jwks": client.get("/lti/jwks").get_json()}
    return lambda url: served[url]


@pytest.fixture
def fake_canvas_registration(tool_jwks):
    fake = FakeCanvasRegistration(jwks_for=tool_jwks)
    yield fake
    fake.stop()


@pytest.fixture
def hostile():
    """Start raw loopback servers that answer with a test's script; all are stopped after the test."""
    servers: list[HostilePlatform] = []

    def start(script: Callable[[_Writer], None]) -> HostilePlatform:
        server = HostilePlatform(script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def invite(client, slug="lakeside"):
    return make_invite(client.application.config["SECRET_KEY"], slug)


def register(client, fake_canvas_registration, *, token=None, existing=None, headers=None, **query):
    """The admin enters the registration URL in Canvas; Canvas frames it with its two parameters."""
    config_url, minted = fake_canvas_registration.start_registration(existing_client_id=existing)
    query = {"invite": invite(client), "openid_configuration": config_url, "registration_token": token or minted,
             **query}
    return client.get("/lti/register", headers=headers,
                      query_string={k: v for k, v in query.items() if v is not None})


def stored(session):
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(Registration)),
            session.scalar(select(func.count()).select_from(Deployment)),
            session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("platform.%"))))


def text(response):
    return response.text.replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")


class HostilePlatform:
    """A loopback TCP server that runs ``script(connection)`` for each connection: a platform answering too
    much, too slowly, or anything else HTTP allows. ``sent`` counts the bytes the script managed to send."""

    def __init__(self, script: Callable[[_Writer], None]) -> None:
        self.script = script
        self.sent = 0
        self.connections = 0
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopped = threading.Event()
        threading.Thread(target=self._serve, name=f"hostile-{self.port}", daemon=True).start()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._run, args=(connection,), daemon=True).start()

    def _run(self, connection: socket.socket) -> None:
        with connection:
            try:
                _read_request(connection)  # all of it: closing with unread bytes would reset the connection
                self.script(_Writer(self, connection))
            except OSError:
                pass  # the tool hung up: what the tests want

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class _Writer:
    """What a script writes to: counts bytes, stops when the hostile platform stops."""

    def __init__(self, server: HostilePlatform, connection: socket.socket) -> None:
        self.server, self.connection = server, connection

    def send(self, data: bytes) -> None:
        if self.server._stopped.is_set():
            raise OSError("stopped")
        self.connection.sendall(data)
        self.server.sent += len(data)

    def trickle(self, data: bytes, every: float) -> None:
        for index in range(len(data)):
            self.send(data[index:index + 1])
            time.sleep(every)


def json_head(status: str = "200 OK", length: int | None = None) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nConnection: close\r\n"
    if length is not None:
        head += f"Content-Length: {length}\r\n"
    return (head + "\r\n").encode()

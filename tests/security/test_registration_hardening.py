"""Dynamic Registration hardening (issue 7): single-use invites; the platform's answers read capped, streamed
and inside one deadline; addresses checked with ``is_global`` and connected to as checked; the platform's
words never rendered raw; ``registry._require_https`` parses the URL."""
from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from lti_tool.errors import BadRequest
from lti_tool.lti import dynreg, platform_http, registry
from lti_tool.lti.models import Registration, UsedInvite
from tests.install.support import invite, json_head, register, stored, text
from tests.support import factories

CONFIGURATION = "/api/lti/security/openid-configuration"


# --- 1. an invite registers one platform, once ---------------------------------------------------------------

def test_an_invite_registers_one_platform_only(client, session, district, fake_canvas_registration, tool_jwks):
    link = invite(client)
    assert register(client, fake_canvas_registration, invite=link).status_code == 200
    other = dynreg_fake(tool_jwks, account_name="Someone else's Canvas")
    try:
        again = register(client, other, invite=link)
    finally:
        other.stop()
    assert again.status_code == 403 and again.get_json(silent=True) is None
    assert "already been used" in text(again) and "new one" in text(again)
    assert other.received == [] and other.refused == []  # refused before Microcred called the platform
    assert stored(session)[0] == 1
    assert session.scalar(select(UsedInvite.invite_id)) == dynreg.read_invite(
        client.application.config["SECRET_KEY"], link).id


def test_a_failed_registration_does_not_spend_the_invite(client, session, district, fake_canvas_registration):
    """A typo on the platform side (here an expired registration token) must not cost IT a new link."""
    link = invite(client)
    config_url, token = fake_canvas_registration.start_registration(lifetime=-1)
    failed = client.get("/lti/register", query_string={"invite": link, "openid_configuration": config_url,
                                                       "registration_token": token})
    assert failed.status_code == 400
    assert session.scalar(select(UsedInvite)) is None
    assert register(client, fake_canvas_registration, invite=link).status_code == 200
    assert stored(session)[0] == 1


def test_the_database_keeps_an_invite_single_use_when_two_uses_race(client, session, district, fake_canvas_registration, tool_jwks,
                                                                      monkeypatch):
    """Two registrations with one invite both pass the early check (they run at the same time): the spent
    invite's primary key lets exactly one of them commit."""
    monkeypatch.setattr(dynreg, "_check_unspent", lambda session, invite: None)
    link = invite(client)
    assert register(client, fake_canvas_registration, invite=link).status_code == 200
    other = dynreg_fake(tool_jwks, account_name="Second district")
    try:
        second = register(client, other, invite=link, headers={"Accept": "application/json"})
    finally:
        other.stop()
    assert second.status_code == 403 and second.get_json()["error"] == "registration_invite_used"
    assert len(other.received) == 1  # the platform was called: only the database could stop it
    assert stored(session)[0] == 1 and session.scalar(select(Registration.name)) == "Lakeside School District"


def test_of_two_registrations_racing_with_one_invite_exactly_one_commits(app, district):
    """At the same time, for real: the second insert of the invite's key waits for the first transaction,
    then fails once it commits."""
    make = app.extensions["db_sessionmaker"]
    spent = dynreg.Invite(district="lakeside", id="racing-invite")
    first, second = make(), make()
    outcome = []

    def race():
        try:
            dynreg._spend(second, spent)
            second.commit()
            outcome.append("spent")
        except dynreg.InviteUsed:
            second.rollback()
            outcome.append("refused")

    try:
        dynreg._spend(first, spent)
        racer = threading.Thread(target=race)
        racer.start()
        racer.join(0.5)
        assert racer.is_alive(), outcome  # waiting on the first registration's row
        first.commit()
        racer.join(10)
    finally:
        first.close()
        second.close()
    assert outcome == ["refused"]


def test_each_registration_url_carries_its_own_invite(runner, client, district):
    urls = [runner.invoke(args=["platform", "registration-url", "--district", "lakeside"]).output.strip()
            for _ in range(2)]
    invites = [parse_qs(urlsplit(url).query)["invite"][0] for url in urls]
    secret = client.application.config["SECRET_KEY"]
    ids = {dynreg.read_invite(secret, value).id for value in invites}
    assert len(ids) == 2 and all(0 < len(value) <= 64 for value in ids)


def test_an_invite_without_an_id_is_refused(client, session, district, fake_canvas_registration):
    """Links minted before invites became single-use could be used forever: IT mints a new one."""
    old = URLSafeTimedSerializer(client.application.config["SECRET_KEY"], salt="microcred-dynamic-registration")
    response = register(client, fake_canvas_registration, invite=old.dumps({"district": "lakeside"}))
    assert response.status_code == 403 and "new registration URL" in text(response)
    assert fake_canvas_registration.received == [] and stored(session) == (0, 0, 0)


def dynreg_fake(tool_jwks, **kwargs):
    from tests.install.fake_registration import FakeCanvasRegistration

    return FakeCanvasRegistration(jwks_for=tool_jwks, **kwargs)


# --- 2. answers read capped, streamed, inside one deadline -----------------------------------------------------

@pytest.fixture
def limited(make_app, db_url):
    """The app with a short deadline (tests stay fast) and the default size cap."""
    app = make_app(db_url, REGISTRATION_DEADLINE_SECONDS=0.8)
    session = app.extensions["db_sessionmaker"]()
    factories.district(session)
    session.commit()
    session.close()
    return app.test_client()


def _register_at(client, url):
    return client.get("/lti/register", headers={"Accept": "application/json"}, query_string={
        "invite": invite(client), "openid_configuration": url, "registration_token": "t"})


def test_an_endless_configuration_is_cut_off_at_the_cap(limited, hostile):
    def endless(out):
        out.send(json_head())
        out.send(b'{"issuer": "')
        for _ in range(64 * 64):  # 64 MiB, more than the cap many times over
            out.send(b"x" * 16384)

    platform = hostile(endless)
    response = _register_at(limited, platform.url + CONFIGURATION)
    assert response.status_code == 502, response.text
    body = response.get_json()
    assert body["error"] == "registration_answer_too_large" and "256 KiB" in body["hint"]
    assert "configuration" in body["hint"]
    time.sleep(0.2)
    assert platform.sent < 24 * 1024 * 1024  # Microcred hung up (what it sent is socket buffers); it read 256 KiB


def test_a_declared_oversized_answer_is_refused_before_reading(limited, hostile):
    platform = hostile(lambda out: (out.send(json_head(length=200 * 1024 * 1024)), out.send(b"{" * 1024)))
    response = _register_at(limited, platform.url + CONFIGURATION)
    assert response.status_code == 502 and response.get_json()["error"] == "registration_answer_too_large"


@pytest.mark.parametrize("stage", ["body", "headers"])
def test_a_trickling_platform_meets_one_overall_deadline(limited, hostile, stage):
    """One byte every 0.2 s never trips a per-read timeout; the registration's deadline (0.8 s here) holds."""
    def trickle(out):
        if stage == "headers":
            out.trickle(json_head(length=100), every=0.2)
        else:
            out.send(json_head(length=100))
            out.trickle(b'{"issuer": "' + b"x" * 80, every=0.2)

    platform = hostile(trickle)
    started = time.monotonic()
    response = _register_at(limited, platform.url + CONFIGURATION)
    elapsed = time.monotonic() - started
    assert response.status_code == 504, response.text
    assert response.get_json()["error"] == "registration_timed_out" and "0.8" in response.get_json()["hint"]
    assert elapsed < 2.0


def test_the_registration_answer_is_capped_too(limited, fake_canvas_registration, hostile):
    platform = hostile(lambda out: (out.send(json_head()), [out.send(b" " * 65536) for _ in range(64)]))
    fake_canvas_registration.config_override = {"registration_endpoint": platform.url + "/api/lti/registrations"}
    config_url, token = fake_canvas_registration.start_registration()
    response = limited.get("/lti/register", headers={"Accept": "application/json"}, query_string={
        "invite": invite(limited), "openid_configuration": config_url, "registration_token": token})
    assert response.status_code == 502 and "registration answer" in response.get_json()["hint"]


def test_deeply_nested_json_is_refused_not_a_500(limited, hostile):
    nested = b"[" * 100_000 + b"]" * 100_000
    platform = hostile(lambda out: (out.send(json_head(length=len(nested))), out.send(nested)))
    response = _register_at(limited, platform.url + CONFIGURATION)
    assert response.status_code == 400 and "not JSON" in response.get_json()["hint"]


# --- 3. the address check: is_global, and the address checked is the one connected to ------------------------

@pytest.mark.parametrize("address", ["100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.251", "192.0.0.170",
                                     "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]", "[fc00::1]", "[::1]",
                                     "[64:ff9b::a00:1]", "[2002:a00:1::1]"])
def test_production_refuses_every_address_that_is_not_global(address):
    with pytest.raises(platform_http.RegistrationError) as refused:
        platform_http.check_url("jwks_uri", f"https://{address}/jwks", production=True)
    assert "private address" in refused.value.hint


class _Resolver:
    """``socket.getaddrinfo`` for one name that answers ``first`` once, then ``later`` (a rebinding DNS)."""

    def __init__(self, name, first, later=None):
        self.name, self.first, self.later, self.calls = name, first, later or first, 0
        self.real = socket.getaddrinfo

    def __call__(self, host, port, *args, **kwargs):
        if host != self.name:
            return self.real(host, port, *args, **kwargs)
        self.calls += 1
        address = self.first if self.calls == 1 else self.later
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


def test_production_connects_to_the_address_it_checked(client, district, monkeypatch):
    """A DNS answer that changes between the check and the fetch (rebinding) cannot reach the internal one."""
    resolver = _Resolver("platform.example", "93.184.216.34", later="127.0.0.1")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    connected = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        connected.append(address[:2])
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError("no network in tests")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    client.application.config["ENV"] = "production"
    response = _register_at(client, f"https://platform.example:4443{CONFIGURATION}")
    assert response.status_code == 400 and "could not be fetched" in response.get_json()["hint"]
    assert connected == [("93.184.216.34", 4443)] and resolver.calls == 1


def test_production_refuses_a_name_that_resolves_to_carrier_grade_nat(client, district, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _Resolver("platform.example", "100.64.12.7"))
    client.application.config["ENV"] = "production"
    response = _register_at(client, f"https://platform.example{CONFIGURATION}")
    assert response.status_code == 400 and "private address" in response.get_json()["hint"]


@pytest.fixture
def tls_platform(dev_certificate):
    """A TLS server on 127.0.0.1 with the development certificate (valid for localhost and 127.0.0.1 only)."""
    cert, key = dev_certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    hosts = []

    def serve():
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    request = conn.recv(65536).decode()
                    hosts.append(next(line.split(":", 1)[1].strip() for line in request.split("\r\n")
                                      if line.lower().startswith("host:")))
                    body = b'{"ok": true}'
                    conn.sendall(json_head(length=len(body)) + body)
            except (OSError, StopIteration):
                pass

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], str(cert), hosts
    listener.close()


def test_the_pinned_connection_keeps_the_name_for_the_host_header_and_the_certificate(tls_platform, monkeypatch):
    port, cert, hosts = tls_platform
    http = requests.Session()
    http.verify = cert
    resolver = _Resolver("localhost", "127.0.0.1", later="10.0.0.9")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with platform_http.PlatformClient(http, production=False, limits=platform_http.Limits(deadline=5)) as platform:
        answer = platform.get("configuration", f"https://localhost:{port}/config")
    assert answer.status == 200 and json.loads(answer.body) == {"ok": True}
    assert hosts == [f"localhost:{port}"] and resolver.calls == 1  # resolved once: checked, then connected to

    # The certificate is checked against the name, not the pinned address (which it would match).
    monkeypatch.setattr(socket, "getaddrinfo", _Resolver("platform.test", "127.0.0.1"))
    with pytest.raises(platform_http.RegistrationError) as refused:
        with platform_http.PlatformClient(http, production=False, limits=platform_http.Limits(deadline=5)) as platform:
            platform.get("configuration", f"https://platform.test:{port}/config")
    assert "SSLError" in refused.value.hint


def test_every_checked_address_is_tried_in_order(hostile, monkeypatch):
    """As urllib3 does with what DNS answers: localhost as ::1 (nothing listens there) and 127.0.0.1."""
    body = b'{"ok": true}'
    platform = hostile(lambda out: out.send(json_head(length=len(body)) + body))
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **kw: [
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", port, 0, 0)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))] if host == "localhost"
        else real(host, port, *a, **kw))
    with platform_http.PlatformClient(requests.Session(), production=False, limits=platform_http.Limits(deadline=5)) as client:
        answer = client.get("configuration", f"http://localhost:{platform.port}/config")
    assert answer.status == 200 and answer.body == body


def test_development_allows_loopback_but_not_private_networks(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _Resolver("lms.lan", "10.0.0.5"))
    with pytest.raises(platform_http.RegistrationError) as refused:
        with platform_http.PlatformClient(requests.Session(), production=False, limits=platform_http.Limits()) as platform:
            platform.get("configuration", "https://lms.lan/config")
    assert "private address" in refused.value.hint


def test_redirects_are_followed_hop_by_hop_each_checked(client, session, district, fake_canvas_registration, hostile):
    """The configuration URL redirects to the platform's real one: followed (checked and pinned again)."""
    config_url, token = fake_canvas_registration.start_registration()
    moved = config_url.replace("127.0.0.1", "localhost")
    platform = hostile(lambda out: out.send(f"HTTP/1.1 302 Found\r\nLocation: {moved}\r\n"
                                            "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()))
    response = client.get("/lti/register", query_string={
        "invite": invite(client), "openid_configuration": platform.url + "/moved", "registration_token": token})
    assert response.status_code == 200, response.text
    assert platform.connections == 1 and stored(session)[0] == 1

    fake_canvas_registration.config_redirect = "http://169.254.169.254/latest/meta-data/"
    response = register(client, fake_canvas_registration, headers={"Accept": "application/json"})
    assert response.status_code == 400 and "redirect target must use https" in response.get_json()["hint"]
    assert stored(session)[0] == 1


# --- 4. the platform's words are never rendered raw -------------------------------------------------------------

HOSTILE_BODY = json.dumps({
    "errors": [{"field": "</script><img src=x onerror=alert(1)>", "message": "Call 555-0100 to unlock"},
               {"field": "redirect_uris", "message": "bad"}],
    "error": "<b>Visit evil.example to fix this</b>",
}).encode()


def test_a_refusal_shows_its_status_not_the_platforms_text(client, session, district, fake_canvas_registration, hostile):
    platform = hostile(lambda out: (out.send(json_head("422 Unprocessable Entity", len(HOSTILE_BODY))),
                                    out.send(HOSTILE_BODY)))
    fake_canvas_registration.config_override = {"registration_endpoint": platform.url + "/api/lti/registrations"}
    for accept in ("text/html", "application/json"):
        response = register(client, fake_canvas_registration, headers={"Accept": accept})
        assert response.status_code == 400
        shown = text(response)
        assert "refused the registration (422)" in shown and "redirect_uris" in shown
        for word in ("555-0100", "onerror", "<img", "evil.example", "Visit"):
            assert word not in shown and word not in response.text
    assert stored(session) == (0, 0, 0)


def test_names_and_ids_from_the_platform_are_made_plain(client, session, district, tool_jwks):
    fake = dynreg_fake(tool_jwks, account_name="Lakeside\u202e\u0000 <i>School</i>\n" + "x" * 500)
    try:
        response = register(client, fake)
    finally:
        fake.stop()
    assert response.status_code == 200, response.text
    name = session.scalar(select(Registration.name))
    assert name.startswith("Lakeside <i>School</i> x") and len(name) <= 200
    assert name.isprintable() and "<i>" not in response.text


def test_an_unusable_client_id_is_a_clear_error_not_a_500(client, session, district, fake_canvas_registration, hostile):
    answer = json.dumps({"client_id": "1" * 10_000}).encode()
    platform = hostile(lambda out: (out.send(json_head(length=len(answer))), out.send(answer)))
    fake_canvas_registration.config_override = {"registration_endpoint": platform.url + "/api/lti/registrations"}
    response = register(client, fake_canvas_registration, headers={"Accept": "application/json"})
    assert response.status_code == 400 and "client_id" in response.get_json()["hint"]
    assert stored(session) == (0, 0, 0)


# --- 5. registry._require_https parses the URL -------------------------------------------------------------------

ENDPOINT_FIELDS = ("issuer", "auth_login_url", "auth_token_url", "key_set_url")


def _endpoints(url):
    return registry.PlatformEndpoints(*(url for _ in ENDPOINT_FIELDS))


@pytest.mark.parametrize("url", [
    "http://localhost.evil.example", "http://localhost@evil.example", "http://localhost:80@evil.example/x",
    "http://127.0.0.1.evil.example/jwks", "http://127.0.0.1@evil.example", "http://localhostevil.example",
    "http://[::1].evil.example", "https://user:secret@lms.example.edu", "https://", "https:///path",
    "javascript:alert(1)//https://", "ftp://localhost/x", "http://lms.example.edu",
])
def test_plain_http_and_userinfo_tricks_are_refused(session, district, url):
    with pytest.raises(BadRequest):
        registry.add_platform(session, district=district, name="x", endpoints=_endpoints(url), client_id="1",
                              production=False)


@pytest.mark.parametrize("url", ["http://localhost:8000/x", "http://127.0.0.1/x", "http://[::1]:9/x",
                                 "https://lms.example.edu/x"])
def test_loopback_http_only_outside_production(session, district, url):
    registry.add_platform(session, district=district, name="x", endpoints=_endpoints(url), client_id=url,
                          production=False)
    if url.startswith("http://"):
        with pytest.raises(BadRequest):
            registry.add_platform(session, district=district, name="y", endpoints=_endpoints(url),
                                  client_id="other", production=True)


def test_over_long_endpoints_are_a_clear_error(session, district):
    with pytest.raises(BadRequest) as long:
        registry.add_platform(session, district=district, name="x", client_id="1", production=True,
                              endpoints=_endpoints("https://lms.example.edu/" + "a" * 600))
    assert "too long" in long.value.message

"""LTI Dynamic Registration, as Canvas runs it.

Canvas opens ``/lti/register?openid_configuration=…&registration_token=…`` in a dialog. The tool fetches the
platform's OpenID configuration (bearer: the registration token), posts its own registration to the
``registration_endpoint``, stores the ``client_id`` and deployment Canvas answers with, and closes the
dialog with the ``org.imsglobal.lti.close`` postMessage. Nothing is stored unless every step succeeded.

The registration URL carries an **invite** that district IT mints with ``flask --app wsgi platform
registration-url``: without it anyone holding a Canvas account (a free one will do) could register their own
Canvas into a district and launch as its administrator. The invite is signed with SECRET_KEY, names the
district, expires after seven days, and registers one platform once: its random id is recorded
(``UsedInvite``) in the transaction that stores the registration, so a refused or failed registration leaves
it usable, and of two registrations racing with one invite the primary key lets exactly one commit.

Talking to the platform is talking to a URL someone else chose, from inside the district's network. So each
request goes to an address that was checked (public in production; loopback too in development) and to no
other: the name is resolved once, every address it resolves to is checked, and the connection is pinned to
the checked one while the Host header, TLS SNI and certificate check keep the name (a DNS answer that changes
after the check cannot move the request). Redirects are followed by hand, each hop checked and pinned the same
way. Answers are streamed and read up to a cap, and the whole exchange runs inside one wall-clock deadline
that a watchdog enforces by closing the sockets (a platform trickling a byte at a time cannot hold a worker).
What the platform says is never shown raw: hints carry its status and, at most, field names it listed.
"""
from __future__ import annotations

import ipaddress
import json
import re
import secrets
import socket
import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import SplitResult, urljoin, urlsplit

import requests
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from requests.adapters import HTTPAdapter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from urllib3 import PoolManager
from urllib3.exceptions import ConnectTimeoutError

from lti_tool.errors import BadRequest, MicrocredError
from lti_tool.lti import registry
from lti_tool.lti.install import CUSTOM_FIELDS, DESCRIPTION, PRIVACY_LEVEL, TITLE
from lti_tool.lti.cli import TOOL_SCOPES
from lti_tool.lti.models import Registration, UsedInvite

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS = "https://canvas.instructure.com/lti/"
INSTRUCTURE_HOSTS = ("instructure.com", "canvaslms.com")
ACCOUNT_NAME = "https://canvas.instructure.com/lti/account_name"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
MAX_REDIRECTS = 5
MAX_URL_LENGTH = 500  # the longest endpoint a registration stores


class RegistrationError(MicrocredError):
    status, code = 400, "registration_failed"
    message = "Microcred could not finish registering with your LMS. Nothing was saved."


class PlatformRefused(RegistrationError):
    """The platform answered but said no (an expired registration token, a registration it would not accept):
    something the installer fixes, hence a 4xx, not the 502 of a broken platform."""

    status, code = 400, "registration_refused"
    message = "Your LMS did not accept Microcred's registration. Nothing was saved."


class AnswerTooLarge(RegistrationError):
    status, code = 502, "registration_answer_too_large"
    message = "Your LMS answered with more than Microcred accepts. Nothing was saved."


class PlatformTooSlow(RegistrationError):
    status, code = 504, "registration_timed_out"
    message = "Your LMS took too long to answer. Nothing was saved."


class InviteRefused(RegistrationError):
    status, code = 403, "registration_invite_refused"
    message = "This registration link is not valid. Ask your Microcred administrator for a new one."


class InviteUsed(InviteRefused):
    code = "registration_invite_used"
    message = ("This registration link has already been used; ask IT (your Microcred administrator) for a new "
               "one.")


# --- the invite -------------------------------------------------------------------------------------------

INVITE_MAX_AGE = 7 * 24 * 3600


@dataclass(frozen=True)
class Invite:
    district: str  # the district's slug
    id: str        # recorded in UsedInvite when it has registered a platform


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="microcred-dynamic-registration")


def make_invite(secret: str, district_slug: str) -> str:
    """A new signed invite for one registration into the district (each call a different one)."""
    return _serializer(secret).dumps({"district": district_slug, "id": secrets.token_urlsafe(24)})


def read_invite(secret: str, invite: str | None) -> Invite:
    """The district and id an invite carries; ``InviteRefused`` if it is missing, forged, expired or older
    than single-use invites (no id)."""
    if not invite:
        raise InviteRefused(hint="The registration URL has no 'invite': create one with "
                                 "'flask --app wsgi platform registration-url --district <slug>'.")
    try:
        data = _serializer(secret).loads(invite, max_age=INVITE_MAX_AGE)
        district, invite_id = data["district"], data.get("id")
    except SignatureExpired as error:
        raise InviteRefused(hint="The invite has expired (7 days): create a new registration URL.") from error
    except (BadSignature, KeyError, TypeError, AttributeError) as error:
        raise InviteRefused(hint="The invite was not issued by this server.") from error
    if not isinstance(district, str) or not isinstance(invite_id, str) or not 0 < len(invite_id) <= 64:
        raise InviteRefused(hint="This link was made before registration links became single-use: create a new "
                                 "registration URL ('flask --app wsgi platform registration-url').")
    return Invite(district=district, id=invite_id)


def _check_unspent(session: Session, invite: Invite) -> None:
    """Refuse a spent invite before calling the platform (``_spend`` is what makes it single-use)."""
    if session.get(UsedInvite, invite.id) is not None:
        raise InviteUsed()


def _spend(session: Session, invite: Invite) -> None:
    """Record the invite as used, in the registration's transaction: it commits with the registration or not
    at all. A concurrent registration with the same invite waits on the primary key (PostgreSQL) or the write
    lock (SQLite), then fails here; the request boundary rolls its transaction back."""
    session.add(UsedInvite(invite_id=invite.id))
    try:
        session.flush()
    except IntegrityError as error:
        raise InviteUsed() from error


# --- URLs and addresses -----------------------------------------------------------------------------------

def _plain(value: str, limit: int) -> str:
    """Text a platform chose, fit to store and show: no control or format characters (bidi overrides among
    them), whitespace collapsed, at most ``limit`` characters."""
    kept = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in value)
    return " ".join(kept.split())[:limit]


def _shown(value: object, limit: int = 100) -> str:
    """A value from the platform as a hint may quote it: plain and short."""
    text = _plain(str(value), limit + 1)
    return text if len(text) <= limit else text[:limit] + "…"


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _public(address: str, *, production: bool) -> bool:
    """Whether Microcred may connect to this address: globally routable (not private, CGNAT, link-local,
    multicast, reserved; an IPv6 form of an IPv4 address judged as that address); outside production also
    loopback, where the development and test platforms live."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        ip = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else ip)
    if ip.is_global and not ip.is_multicast:
        return True
    return not production and ip.is_loopback


def _check_form(label: str, url: object, *, production: bool) -> SplitResult:
    """An absolute https URL with a host and no user name or password; plain http only to a loopback host
    outside production."""
    if not isinstance(url, str) or not url:
        raise RegistrationError(hint=f"The platform's {label} is missing.")
    if len(url) > MAX_URL_LENGTH:
        raise RegistrationError(hint=f"The platform's {label} is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname or "", parts.port
    except ValueError as error:
        raise RegistrationError(hint=f"The platform's {label} is not a URL: {_shown(url)}") from error
    if not host or not (parts.scheme == "https" or (not production and parts.scheme == "http" and host in registry.LOOPBACK_HOSTS)):
        raise RegistrationError(hint=f"The platform's {label} must use https: {_shown(url)}")
    if "@" in parts.netloc:
        raise RegistrationError(hint=f"The platform's {label} must not carry a user name or password.")
    if not registry.NETLOC.fullmatch(parts.netloc):
        raise RegistrationError(hint=f"The platform's {label} has a malformed host: {_shown(url)}")
    return parts


def _resolve(label: str, parts: SplitResult, *, production: bool) -> tuple[str, ...]:
    """Resolve the URL's host once; every address must pass; these are the ones to connect to, in order."""
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = tuple(dict.fromkeys(info[4][0].split("%")[0]
                                        for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))
    except (OSError, UnicodeError) as error:
        raise RegistrationError(hint=f"The host of the platform's {label} ({_shown(host)}) does not resolve.") \
            from error
    if not addresses or not all(_public(address, production=production) for address in addresses):
        raise RegistrationError(hint=f"The platform's {label} points to a private address ({_shown(host)}).")
    return addresses


def check_url(label: str, url: object, *, production: bool) -> str:
    """A URL the registration stores (issuer, endpoints): https, and in production a host whose addresses are
    all public; loopback http is allowed outside production. URLs Microcred fetches now go through
    ``PlatformClient``, which checks and pins in one step."""
    parts = _check_form(label, url, production=production)
    if production:
        _resolve(label, parts, production=True)
    return url  # type: ignore[return-value]  # _check_form made sure it is a str


# --- talking to the platform -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    deadline: float = 10.0           # seconds for the whole exchange with the platform, redirects included
    max_bytes: int = 256 * 1024      # per answer


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class _PinnedConnection:
    """Mixed into urllib3's connection classes: the TCP connection goes to one of ``pinned_addresses`` (tried
    in order, as urllib3 tries what DNS answers); everything else (Host header, SNI, certificate hostname)
    keeps ``self.host``, the name."""

    pinned_addresses: tuple[str, ...]
    watch: Callable[[socket.socket], None]

    def _new_conn(self) -> socket.socket:
        name = self._dns_host
        try:
            for index, address in enumerate(self.pinned_addresses):
                self._dns_host = address
                try:
                    sock = super()._new_conn()  # type: ignore[misc]
                    break
                except ConnectTimeoutError:  # NewConnectionError too: refused, unreachable
                    if index == len(self.pinned_addresses) - 1:
                        raise
        finally:
            self._dns_host = name
        self.watch(sock)
        return sock


class _PinnedPoolManager(PoolManager):
    def __init__(self, addresses: tuple[str, ...], watch: Callable[[socket.socket], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.addresses, self.watch = addresses, watch

    def _new_pool(self, scheme, host, port, request_context=None):
        pool = super()._new_pool(scheme, host, port, request_context)
        base = pool.ConnectionCls
        pool.ConnectionCls = type(f"Pinned{base.__name__}", (_PinnedConnection, base),
                                  {"pinned_addresses": self.addresses, "watch": staticmethod(self.watch)})
        return pool


class _PinnedAdapter(HTTPAdapter):
    def __init__(self, addresses: tuple[str, ...], watch: Callable[[socket.socket], None]) -> None:
        self._addresses, self._watch = addresses, watch
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        self._pool_connections, self._pool_maxsize, self._pool_block = connections, maxsize, block
        self.poolmanager = _PinnedPoolManager(self._addresses, self._watch, num_pools=connections, maxsize=maxsize,
                                              block=block, **pool_kwargs)


class PlatformClient:
    """The outbound side of one registration: checked, pinned, capped requests inside one deadline.

    Use as a context manager: the deadline starts on entry; at the deadline a watchdog shuts down every
    socket the exchange opened, so a blocked read returns at once. ``http`` lends its headers and TLS
    verification (the project's CA bundle); its adapters, proxies and redirects are not used.
    """

    def __init__(self, http: requests.Session, *, production: bool, limits: Limits) -> None:
        self.http, self.production, self.limits = http, production, limits
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._expired = False
        self._ends = 0.0
        self._watchdog: threading.Timer | None = None

    def __enter__(self) -> PlatformClient:
        self._ends = time.monotonic() + self.limits.deadline
        self._watchdog = threading.Timer(self.limits.deadline, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def _watch(self, sock: socket.socket) -> None:
        with self._lock:
            handle = sock.dup()  # shutting down a duplicate ends the connection for every handle
            self._sockets.append(handle)
            if self._expired:
                handle.shutdown(socket.SHUT_RDWR)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed

    def _remaining(self, what: str) -> float:
        remaining = self._ends - time.monotonic()
        if self._expired or remaining <= 0:
            raise PlatformTooSlow(hint=f"The platform did not finish sending its {what} within "
                                       f"{self.limits.deadline:g} s. Try again; if it keeps happening, the LMS "
                                       "(or something between it and Microcred) is too slow.")
        return remaining

    def get(self, what: str, url: str, *, url_label: str | None = None, headers: dict | None = None) -> Answer:
        return self.request("GET", what, url, url_label=url_label, headers=headers)

    def post(self, what: str, url: str, *, url_label: str | None = None, headers: dict | None = None,
             json_body: Any = None) -> Answer:
        return self.request("POST", what, url, url_label=url_label, headers=headers, json_body=json_body)

    def request(self, method: str, what: str, url: str, *, url_label: str | None = None,
                headers: dict | None = None, json_body: Any = None) -> Answer:
        """Send and read one answer, following redirects (each target checked and pinned like the first)."""
        label = url_label or f"{what} URL"
        headers = dict(headers or {})
        for _ in range(MAX_REDIRECTS + 1):
            parts = _check_form(label, url, production=self.production)
            addresses = _resolve(label, parts, production=self.production)
            answer, location = self._send(method, what, url, addresses, headers, json_body)
            if location is None:
                return answer
            target = urljoin(url, location)
            if urlsplit(target).hostname != parts.hostname:
                headers.pop("Authorization", None)  # the registration token is for the platform's own host
            if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
                method, json_body = "GET", None
            url, label = target, "redirect target"
        raise RegistrationError(hint=f"The platform redirected its {what} more than {MAX_REDIRECTS} times.")

    def _send(self, method: str, what: str, url: str, addresses: tuple[str, ...], headers: dict,
              json_body: Any) -> tuple[Answer, str | None]:
        remaining = self._remaining(what)
        prepared = requests.Request(method, url, json=json_body, headers={
            **dict(self.http.headers), "Accept-Encoding": "identity", "Connection": "close", **headers}).prepare()
        adapter = _PinnedAdapter(addresses, self._watch)
        try:
            response = adapter.send(prepared, stream=True, timeout=(remaining, remaining), verify=self.http.verify,
                                    proxies={})
            try:
                if response.is_redirect:
                    return Answer(response.status_code, b""), response.headers["Location"]
                return Answer(response.status_code, self._read(what, response)), None
            finally:
                response.close()
        except (requests.RequestException, OSError) as error:
            self._remaining(what)  # a connection the watchdog closed is a timeout, not a broken platform
            verb = "sent" if method == "POST" else "fetched"
            raise RegistrationError(hint=f"The platform's {what} could not be {verb}: "
                                         f"{type(error).__name__}.") from error
        finally:
            adapter.close()

    def _read(self, what: str, response: requests.Response) -> bytes:
        cap = self.limits.max_bytes
        too_large = AnswerTooLarge(hint=f"The platform's {what} is larger than {cap // 1024} KiB, the most "
                                        "Microcred reads: check the URL Canvas was given, or the LMS.")
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise too_large
        body = bytearray()
        for chunk in response.iter_content(16 * 1024):
            body += chunk
            if len(body) > cap:
                raise too_large
            self._remaining(what)
        return bytes(body)


def _same_platform(config_url: str, issuer: str) -> bool:
    a, b = urlsplit(config_url).hostname or "", urlsplit(issuer).hostname or ""
    instructure = lambda h: any(h == d or h.endswith("." + d) for d in INSTRUCTURE_HOSTS)  # noqa: E731
    return a == b or (instructure(a) and instructure(b))


def tool_registration(base: str, scopes: tuple[str, ...] = TOOL_SCOPES) -> dict:
    """The registration the tool posts: OpenID client metadata plus the LTI tool configuration."""
    launch = f"{base}/lti/launch"
    return {
        "application_type": "web",
        "grant_types": ["client_credentials", "implicit"],
        "response_types": ["id_token"],
        "redirect_uris": [launch],
        "initiate_login_uri": f"{base}/lti/login",
        "client_name": TITLE,
        "jwks_uri": f"{base}/lti/jwks",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(base).netloc,
            "description": DESCRIPTION,
            "target_link_uri": launch,
            "custom_parameters": CUSTOM_FIELDS,
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [
                {"type": "LtiResourceLinkRequest", "target_link_uri": launch, "label": "Micro-credentials",
                 "placements": ["course_navigation"], CANVAS + "course_navigation/default_enabled": True,
                 CANVAS + "visibility": "members"},
                {"type": "LtiDeepLinkingRequest", "target_link_uri": launch, "label": "Micro-credential",
                 "placements": ["assignment_selection", "link_selection"]},
                {"type": "LtiResourceLinkRequest", "target_link_uri": launch, "label": "Micro-credentials (district)",
                 "placements": ["account_navigation"], CANVAS + "visibility": "admins"},
            ],
            CANVAS + "privacy_level": PRIVACY_LEVEL,
            CANVAS + "tool_id": "microcred",
        },
    }


def _json(body: bytes, what: str) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:  # RecursionError: nesting deeper than the parser goes
        raise RegistrationError(hint=f"The platform's {what} is not JSON.") from error
    if not isinstance(data, dict):
        raise RegistrationError(hint=f"The platform's {what} is not a JSON object.")
    return data


_FIELD = re.compile(r"[A-Za-z0-9_.:/\[\]-]{1,100}")
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")


def _refusal(answer: Answer) -> str:
    """The hint for a refused registration: the status and, at most, the field names or OAuth error code
    the platform listed (each a plain token). Its own words, which a hostile platform would choose for the
    district's IT to read, are not shown."""
    named: list[str] = []
    try:
        data = json.loads(answer.body)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        errors = data.get("errors")
        for error in errors[:5] if isinstance(errors, list) else ():
            field = error.get("field") if isinstance(error, dict) else None
            if isinstance(field, str) and _FIELD.fullmatch(field) and field not in named:
                named.append(field)
        code = data.get("error")
        if isinstance(code, str) and _ERROR_CODE.fullmatch(code):
            named.append(f"error {code}")
    said = f"; it named: {', '.join(named)}" if named else ""
    return f"The platform refused the registration ({answer.status}){said}."


def _identifier(label: str, value: object, *, required: bool = True) -> str | None:
    """A client_id or deployment_id as the platform sent it, if it is one Microcred can store and show."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RegistrationError(hint=f"The platform's answer carries no {label}.")
        return None
    if not isinstance(value, str) or len(value.strip()) > 255 or not value.strip().isprintable():
        raise RegistrationError(hint=f"The platform's {label} is not usable (a string of at most 255 printable "
                                     "characters).")
    return value.strip()


def register(session: Session, http: requests.Session, *, config_url: str, token: str, base: str,
             invite: str | None, secret: str, production: bool, limits: Limits = Limits()) -> Registration:
    """Register with the platform and store the registration; spends the invite only when it is stored."""
    if not config_url or not token:
        raise BadRequest("Open this page from Canvas: Admin → Developer Keys → + Developer Key → + LTI Registration.",
                         hint="The registration URL needs 'openid_configuration' and 'registration_token'.")
    granted = read_invite(secret, invite)  # before any outbound call
    district = registry.resolve_district(session, granted.district)
    _check_unspent(session, granted)
    bearer = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with PlatformClient(http, production=production, limits=limits) as platform:
        answer = platform.get("configuration", config_url, url_label="OpenID configuration URL", headers=bearer)
        if not answer.ok:
            raise PlatformRefused(hint=f"The platform answered {answer.status} to the configuration request "
                                       "(the registration token may have expired: start again from Canvas).")
        config = _json(answer.body, "OpenID configuration")
        issuer = check_url("issuer", config.get("issuer"), production=production)
        if not _same_platform(config_url, issuer):
            raise RegistrationError(hint=f"The configuration at {_shown(config_url)} names another platform "
                                         f"({_shown(issuer)}).")
        endpoints = registry.PlatformEndpoints(
            issuer=issuer,
            auth_login_url=check_url("authorization_endpoint", config.get("authorization_endpoint"),
                                     production=production),
            auth_token_url=check_url("token_endpoint", config.get("token_endpoint"), production=production),
            key_set_url=check_url("jwks_uri", config.get("jwks_uri"), production=production),
        )
        answer = platform.post("registration answer", config.get("registration_endpoint"),  # type: ignore[arg-type]
                               url_label="registration_endpoint", headers=bearer, json_body=tool_registration(base))
        if not answer.ok:
            raise PlatformRefused(hint=_refusal(answer))
        result = _json(answer.body, "registration answer")
    client_id = _identifier("client_id", result.get("client_id"))
    # Canvas answers its root-account deployment at the top level; the IMS spec puts it in the tool configuration.
    configuration = result.get(TOOL_CONFIGURATION)
    deployment_id = result.get("deployment_id")
    if not (isinstance(deployment_id, str) and deployment_id.strip()):
        deployment_id = configuration.get("deployment_id") if isinstance(configuration, dict) else None
    deployment_id = _identifier("deployment_id", deployment_id, required=False)
    granted_scopes = result.get("scope")
    # Only what Microcred asked for is recorded ("openid" and anything else a platform adds are not its to use).
    scopes = [s for s in TOOL_SCOPES if s in granted_scopes.split()] if isinstance(granted_scopes, str) \
        else list(TOOL_SCOPES)
    # Every hosted Canvas shares one issuer: the account's name tells registrations apart.
    platform_configuration = config.get(PLATFORM_CONFIGURATION)
    account = platform_configuration.get(ACCOUNT_NAME) if isinstance(platform_configuration, dict) else None
    name = (_plain(account, 200) if isinstance(account, str) else "") or _plain(issuer, 200)
    registration = registry.add_platform(session, district=district, name=name, endpoints=endpoints,
                                         client_id=client_id, deployment_ids=[deployment_id] if deployment_id else [],
                                         scopes=scopes, production=production)
    _spend(session, granted)
    return registration

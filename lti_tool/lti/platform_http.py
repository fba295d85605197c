"""Requests to URLs someone else chose (a platform's configuration and registration endpoints), made from
inside the district's network: checked, pinned to the checked address, capped, inside one deadline.

Each request goes to an address that was checked (public in production; loopback too in development) and to
no other: the name is resolved once, every address it resolves to is checked, and the connection is pinned to
the checked one while the Host header, TLS SNI and certificate check keep the name (a DNS answer that changes
after the check cannot move the request). Redirects are followed by hand, each hop checked and pinned the same
way. Answers are streamed and read up to a cap, and the whole exchange runs inside one wall-clock deadline
that a watchdog enforces by closing the sockets (a platform trickling a byte at a time cannot hold a worker).

Dynamic Registration (``dynreg.py``) is its user today; its errors keep the registration's codes.
"""
from __future__ import annotations

import ipaddress
import socket
import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import SplitResult, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import PoolManager
from urllib3.exceptions import ConnectTimeoutError

from lti_tool.errors import MicrocredError
from lti_tool.lti import registry

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


def plain(value: str, limit: int) -> str:
    """Text a platform chose, fit to store and show: no control or format characters (bidi overrides among
    them), whitespace collapsed, at most ``limit`` characters."""
    kept = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in value)
    return " ".join(kept.split())[:limit]


def shown(value: object, limit: int = 100) -> str:
    """A value from the platform as a hint may quote it: plain and short."""
    text = plain(str(value), limit + 1)
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
        raise RegistrationError(hint=f"The platform's {label} is not a URL: {shown(url)}") from error
    if not host or not (parts.scheme == "https" or (not production and parts.scheme == "http" and host in registry.LOOPBACK_HOSTS)):
        raise RegistrationError(hint=f"The platform's {label} must use https: {shown(url)}")
    if "@" in parts.netloc:
        raise RegistrationError(hint=f"The platform's {label} must not carry a user name or password.")
    if not registry.NETLOC.fullmatch(parts.netloc):
        raise RegistrationError(hint=f"The platform's {label} has a malformed host: {shown(url)}")
    return parts


def _resolve(label: str, parts: SplitResult, *, production: bool) -> tuple[str, ...]:
    """Resolve the URL's host once; every address must pass; these are the ones to connect to, in order."""
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = tuple(dict.fromkeys(info[4][0].split("%")[0]
                                        for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))
    except (OSError, UnicodeError) as error:
        raise RegistrationError(hint=f"The host of the platform's {label} ({shown(host)}) does not resolve.") \
            from error
    if not addresses or not all(_public(address, production=production) for address in addresses):
        raise RegistrationError(hint=f"The platform's {label} points to a private address ({shown(host)}).")
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

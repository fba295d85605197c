"""Drive the practice LMS and the tool over HTTPS as a browser would, for the end-to-end tests.

``PracticeBrowser`` keeps cookies (or refuses them all, as a browser blocking third-party cookies does in
Canvas's iframe), follows redirects, submits the auto-posting forms the scripts would submit, and plays the
practice course page's Platform Storage frame (``post_message_forwarding``): it keeps what the tool's
``lti.put_data`` page stores and answers its ``lti.get_data`` page.

``resign`` makes the bad tokens a broken or hostile platform would send: the practice platform's real
id_token with claims changed or removed, signed again with the platform's own key.
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin, urlsplit

import jwt
import requests

from tests.support.live import LiveServer

_FORM = re.compile(r'<form[^>]*\baction="([^"]*)"', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_JSON_STRING = r'("(?:[^"\\]|\\.)*")'


class _NoCookies(DefaultCookiePolicy):
    def set_ok(self, cookie, request):  # noqa: D102 - a browser with every cookie blocked in this frame
        return False


def autopost_form(page: requests.Response) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the form a page's script submits on load."""
    found = _FORM.search(page.text)
    assert found, f"no form on {page.url} ({page.status_code}): {page.text[:400]}"
    fields = {html.unescape(n): html.unescape(v) for n, v in _HIDDEN.findall(page.text)}
    return urljoin(page.url, html.unescape(found.group(1))), fields


def _script_string(page: requests.Response, name: str) -> str:
    """A JSON string literal the tool's storage pages pass to their script (``name = "..."`` or ``name: "..."``)."""
    found = re.search(rf'\b{name}\s*[=:]\s*{_JSON_STRING}', page.text)
    assert found, f"no {name} in the script of {page.url}: {page.text[:600]}"
    return json.loads(found.group(1))


def is_put_data_page(page: requests.Response) -> bool:
    return page.status_code == 200 and "lti.put_data" in page.text


def is_get_data_page(page: requests.Response) -> bool:
    return page.status_code == 200 and "lti.get_data" in page.text


class PracticeBrowser:
    def __init__(self, server: LiveServer, *, cookies: bool = True) -> None:
        self.server = server
        self.http = requests.Session()
        self.http.verify = str(server.cert_path)
        self.http.trust_env = False  # else REQUESTS_CA_BUNDLE would replace verify
        # What a browser sends for navigations inside the course's frame (the practice LMS and the tool share
        # this server's origin), so the tool's framed-only paths (Platform Storage) are the ones exercised.
        self.http.headers.update({"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate",
                                  "Sec-Fetch-Site": "same-origin"})
        if not cookies:
            self.http.cookies.set_policy(_NoCookies())
        self.platform_storage: dict[tuple[str, str], str] = {}  # (tool origin, key) → value

    def close(self) -> None:
        self.http.close()

    def url(self, path: str) -> str:
        return self.server.url + path

    def get(self, path_or_url: str, **kwargs: Any) -> requests.Response:
        url = path_or_url if path_or_url.startswith("https://") else self.url(path_or_url)
        return self.http.get(url, **kwargs)

    def post(self, path_or_url: str, data: dict[str, str], **kwargs: Any) -> requests.Response:
        url = path_or_url if path_or_url.startswith("https://") else self.url(path_or_url)
        return self.http.post(url, data=data, **kwargs)

    # --- one launch, step by step ------------------------------------------------------------------

    def login(self, persona: str, *, kind: str = "resource_link", link: str | None = None,
              storage: bool = False) -> requests.Response:
        """Open the course frame: platform → tool login → (the tool's put_data page | the platform's form)."""
        params = {"kind": kind, "storage": "1" if storage else "0", **({"link": link} if link else {})}
        return self.get(f"/practice/start/{persona}", params=params)

    def answer_put_data(self, page: requests.Response) -> requests.Response:
        """What the put_data page's script does: store the secret in the platform's frame, then go on."""
        assert is_put_data_page(page), f"not the tool's put_data page: {page.status_code} {page.text[:400]}"
        assert _script_string(page, "target") == "post_message_forwarding"
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
        self.platform_storage[(origin, _script_string(page, "key"))] = _script_string(page, "value")
        return self.get(_script_string(page, "authUrl"))

    def authorize(self, persona: str, **login: Any) -> dict[str, str]:
        """Run the login as far as the platform's auto-post form; return its fields (id_token, state)."""
        page = self.login(persona, **login)
        if is_put_data_page(page):
            page = self.answer_put_data(page)
        action, fields = autopost_form(page)
        assert action == self.url("/lti/launch") and set(fields) == {"id_token", "state"}, (action, fields)
        return fields

    def post_launch(self, fields: dict[str, str]) -> requests.Response:
        """POST the id_token and state to the tool, not following its redirect."""
        return self.post("/lti/launch", fields, allow_redirects=False)

    def answer_get_data(self, page: requests.Response, *, secret: str | None = None) -> requests.Response:
        """What the get_data page's script does: read the secret back from the platform's frame and re-post
        (``secret`` replaces what the frame holds, to play a wrong answer)."""
        assert is_get_data_page(page), f"not the tool's get_data page: {page.status_code} {page.text[:400]}"
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
        action, fields = autopost_form(page)
        value = secret if secret is not None else self.platform_storage.get((origin, _script_string(page, "key")))
        return self.post(action, {**fields, "lti_storage_secret": value or "unavailable"}, allow_redirects=False)

    def launch(self, persona: str, **login: Any) -> Landed:
        """A whole launch, to the page the tool's redirect leads to."""
        answer = self.post_launch(self.authorize(persona, **login))
        if is_get_data_page(answer):
            answer = self.answer_get_data(answer)
        assert answer.status_code == 303, f"launch refused: {answer.status_code} {answer.text[:600]}"
        return Landed(answer, self.get(urljoin(answer.url, answer.headers["Location"])))


@dataclass
class Landed:
    answer: requests.Response  # the tool's answer to the launch POST (a 303)
    page: requests.Response    # the page it leads to


def set_cookie_headers(response: requests.Response) -> list[str]:
    """Every ``Set-Cookie`` header as sent (requests folds them, and its jar drops ``Partitioned``)."""
    return response.raw.headers.getlist("Set-Cookie")


def resign(id_token: str, private_pem: str, kid: str, *, drop: tuple[str, ...] = (), **changes: Any) -> str:
    """The token's claims with ``changes`` applied and ``drop`` removed, signed RS256 with ``kid``.
    Claim URLs go through ``changes`` as ``claims={url: value}``."""
    claims = jwt.decode(id_token, options={"verify_signature": False})
    claims.update(changes.pop("claims", {}))
    claims.update(changes)
    for name in drop:
        claims.pop(name, None)
    return jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": kid})

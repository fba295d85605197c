"""A fake of Canvas's LTI Advantage services, served over loopback HTTP for the service-client tests.

It keeps the rules Canvas enforces (read from canvas-lms: ``Lti::IMS::Concerns::LtiServices``,
``GradebookServices``, ``LineItemsController``, ``ScoresController``, ``MembershipsProvider``,
``Canvas::OAuth`` client credentials, ``RequestThrottle``), so a client that passes here has met them:

- token endpoint: ``client_credentials`` with a JWT client assertion verified against the developer key's
  public JWKS (signature, ``kid``, ``aud`` = the token URL, ``iss``, ``exp``, ``iat``); requested scopes must
  be on the key (else 400 ``invalid_scope``); tokens carry their scopes and expire;
- services: 401 "Missing access token" / "Access token expired" / "Insufficient permissions" (Canvas uses 401
  for a token lacking the scope), 401 for a course where the tool is not deployed, 404 for an unknown course;
- line items: ``scoreMaximum`` and ``label`` required; ``resourceLinkId`` must exist; list filters ``tag``,
  ``resource_id``, ``resource_link_id``; ``limit`` pages with ``Link`` headers (``page``/``per_page``);
- scores: the user must be an active student (Student View and staff: 422), required ``userId,
  activityProgress, gradingProgress, timestamp`` (400), a timestamp not older than the last one (400),
  ``scoreGiven`` needs ``scoreMaximum`` (422), ``submitted_at`` not in the future (400);
- NRPS: ``limit`` capped at 50, ``Link: rel="next"`` paging, ``message`` claims with ``rlid``;
- throttling: a leaky bucket per developer key (small high-water mark here) answering 403 with
  ``403 Forbidden (Rate Limit Exceeded)`` and ``X-Rate-Limit-Remaining: 0.0``, or a 429 + ``Retry-After`` mode.

Unlike Canvas, members may be listed as ``Inactive`` (the spec allows it and other platforms do), so the
client's filter is tested; and access tokens are opaque strings rather than Canvas's signed JWTs.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import jwt
from flask import Flask, Response, g, jsonify, request
from werkzeug.serving import make_server

from lti_tool.lti.registry import PlatformEndpoints

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
LINEITEM, LINEITEM_READONLY, SCORE = AGS + "lineitem", AGS + "lineitem.readonly", AGS + "score"
RESULT_READONLY = AGS + "result.readonly"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ALL_SCOPES = (LINEITEM, LINEITEM_READONLY, RESULT_READONLY, SCORE, NRPS)
ISSUER = "https://canvas.instructure.com"
GRANT_HOST_TOKEN_URL = "https://canvas.instructure.com/login/oauth2/token"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TEST_USER = "http://purl.imsglobal.org/vocab/lti/system/person#TestUser"
CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"
MEDIA = {
    "lineitem": "application/vnd.ims.lis.v2.lineitem+json",
    "container": "application/vnd.ims.lis.v2.lineitemcontainer+json",
    "score": "application/vnd.ims.lis.v1.score+json",
    "nrps": "application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
}
NRPS_MAX_PAGE = 50
LINE_ITEMS_MAX_PAGE = 50
SCORE_GRADED = {"FullyGraded", "PendingManual"}


@dataclass
class DeveloperKey:
    client_id: str
    jwks: dict[str, Any]
    scopes: set[str]


@dataclass
class IssuedToken:
    client_id: str
    scopes: set[str]
    expires_at: float


@dataclass
class FakeUser:
    canvas_id: int
    lti_id: str
    name: str
    roles: list[str]
    status: str = "Active"

    @property
    def student(self) -> bool:
        """Canvas's ``user_is_student?``: an active student enrollment, never the Student View user."""
        return self.status == "Active" and LEARNER in self.roles and TEST_USER not in self.roles

    def nrps_json(self, rlid: str | None) -> dict[str, Any]:
        given, _, family = self.name.partition(" ")
        member = {"status": self.status, "name": self.name, "given_name": given, "family_name": family,
                  "email": f"user{self.canvas_id}@example.edu", "user_id": self.lti_id,
                  "lti11_legacy_user_id": f"legacy{self.canvas_id:06d}", "roles": self.roles}
        if rlid:
            member["message"] = [{
                "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
                "locale": "en",
                "https://purl.imsglobal.org/spec/lti/claim/custom": {"canvas_user_id": str(self.canvas_id)},
            }]
        return member


@dataclass
class FakeCourse:
    id: int
    context_id: str
    title: str
    users: list[FakeUser] = field(default_factory=list)
    resource_links: set[str] = field(default_factory=set)
    tool_deployed: bool = True
    line_items: dict[int, dict[str, Any]] = field(default_factory=dict)
    results: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)

    def user(self, user_id: Any) -> FakeUser | None:
        for user in self.users:
            if str(user_id) in (user.lti_id, str(user.canvas_id)):
                return user
        return None

    @property
    def students(self) -> list[FakeUser]:
        return [u for u in self.users if u.student]


@dataclass
class Bucket:
    """Canvas's leaky bucket, small: full at ``hwm``; each request costs ``cost``; leaks ``outflow``/second."""

    hwm: float = 600.0
    maximum: float = 800.0
    outflow: float = 10.0
    cost: float = 1.0
    level: float = 0.0
    touched: float = field(default_factory=time.monotonic)

    def admit(self) -> tuple[bool, float]:
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.touched) * self.outflow)
        self.touched = now
        if self.level >= self.hwm:
            return False, 0.0
        self.level = min(self.maximum, self.level + self.cost)
        return True, max(0.0, self.hwm - self.level)


class FakeCanvas:
    def __init__(self, token_lifetime: int = 3600) -> None:
        self.token_lifetime = token_lifetime
        self.lock = threading.RLock()
        self.keys: dict[str, DeveloperKey] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.token_requests: list[dict[str, Any]] = []   # form + verified assertion header and claims
        self.service_requests: list[dict[str, Any]] = []
        self.courses: dict[int, FakeCourse] = {}
        self.buckets: dict[str, Bucket] = {}
        self.bucket_settings: dict[str, float] = {}
        self.too_many: list[int] = []          # 429 mode: Retry-After values for the next service calls
        self.failures: list[tuple[int, str]] = []  # injected (status, body) for the next service calls
        self.next_link_base: str | None = None     # send next links to another origin
        self.nrps_loop = False                     # last NRPS page links back to the first
        self._ids = iter(range(1, 10**9))
        self.app = self._build_app()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-canvas", daemon=True)

    # --- set-up ------------------------------------------------------------------------------------------

    def start(self) -> FakeCanvas:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/login/oauth2/token"

    def endpoints(self) -> PlatformEndpoints:
        return PlatformEndpoints(issuer=self.base_url, auth_login_url=f"{self.base_url}/api/lti/authorize_redirect",
                                 auth_token_url=self.token_url, key_set_url=f"{self.base_url}/api/lti/security/jwks")

    def install_developer_key(self, client_id: str, jwks: dict[str, Any], scopes=ALL_SCOPES) -> None:
        """A developer key with the tool's public keys pasted in (Canvas's ``public_jwk``)."""
        self.keys[client_id] = DeveloperKey(client_id, {"keys": [dict(k) for k in jwks["keys"]]}, set(scopes))

    def throttle(self, **settings: float) -> None:
        """Set the leaky bucket (``hwm``, ``maximum``, ``outflow``, ``cost``) for every developer key."""
        with self.lock:
            self.bucket_settings = dict(settings)
            self.buckets.clear()

    def add_course(self, *, students: int = 3, teachers: int = 1, inactive: int = 0, test_student: bool = False,
                   tool_deployed: bool = True) -> FakeCourse:
        course_id = next(self._ids)
        course = FakeCourse(id=course_id, context_id=uuid.uuid4().hex, title=f"PD course {course_id}",
                            tool_deployed=tool_deployed)
        for index in range(teachers):
            course.users.append(self._user(f"Teacher {index}", [INSTRUCTOR]))
        dropped_after = set(range(0, students, max(1, students // inactive))[:inactive]) if inactive else set()
        for index in range(students):
            course.users.append(self._user(f"Student {index}", [LEARNER]))
            if index in dropped_after:  # spread through the pages
                course.users.append(self._user(f"Dropped {index}", [LEARNER], status="Inactive"))
        if test_student:
            course.users.append(self._user("Test Student", [LEARNER, TEST_USER]))
        course.resource_links.add(uuid.uuid4().hex)
        self.courses[course_id] = course
        return course

    def _user(self, name: str, roles: list[str], status: str = "Active") -> FakeUser:
        canvas_id = next(self._ids)
        return FakeUser(canvas_id=canvas_id, lti_id=str(uuid.uuid4()), name=name, roles=roles, status=status)

    def lineitems_url(self, course: FakeCourse) -> str:
        return f"{self.base_url}/api/lti/courses/{course.id}/line_items"

    def memberships_url(self, course: FakeCourse) -> str:
        return f"{self.base_url}/api/lti/courses/{course.id}/names_and_roles"

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def requests_to(self, suffix: str, method: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.service_requests if r["path"].endswith(suffix) and method in (None, r["method"])]

    # --- the app -----------------------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("fake_canvas")
        app.add_url_rule("/login/oauth2/token", "token", self._token, methods=["POST"])
        app.add_url_rule("/api/lti/courses/<int:course_id>/line_items", "line_items", self._line_items,
                         methods=["GET", "POST"])
        app.add_url_rule("/api/lti/courses/<int:course_id>/line_items/<int:item_id>/scores", "scores",
                         self._scores, methods=["POST"])
        app.add_url_rule("/api/lti/courses/<int:course_id>/names_and_roles", "nrps", self._names_and_roles)

        @app.after_request
        def _throttle_headers(response: Response) -> Response:
            if "rate_remaining" in g:  # Canvas reports the quota left on every throttled-path answer
                response.headers.setdefault("X-Request-Cost", str(g.request_cost))
                response.headers.setdefault("X-Rate-Limit-Remaining", str(g.rate_remaining))
            return response

        return app

    # token endpoint (Canvas::OAuth::GrantTypes::ClientCredentials + AsymmetricClientCredentialsProvider)

    def _token(self):
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return _oauth_error("unsupported_grant_type", "The grant_type you requested is not currently supported")
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return _oauth_error("invalid_client", "unknown client", 401)
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return _oauth_error("invalid_request", "JWK Error: Invalid JSON")
        key = self.keys.get(str(unverified.get("sub")))
        if key is None:
            return _oauth_error("invalid_request", "JWS signature invalid.")
        jwk = next((k for k in key.jwks["keys"] if k.get("kid") == header.get("kid")), None)
        if jwk is None or header.get("alg") != "RS256":
            return _oauth_error("invalid_request", "JWS signature invalid.")
        try:
            claims = jwt.decode(assertion, jwt.algorithms.RSAAlgorithm.from_jwk(jwk), algorithms=["RS256"],
                                audience=[self.token_url, GRANT_HOST_TOKEN_URL],
                                options={"require": ["iss", "sub", "aud", "exp", "iat"]})
        except jwt.InvalidSignatureError:
            return _oauth_error("invalid_request", "JWS signature invalid.")
        except jwt.PyJWTError as error:
            return _oauth_error("invalid_request", f"JWT validation failed: {error}")
        if claims["iat"] > time.time() + 60:
            return _oauth_error("invalid_request", "the 'iat' must be in the past")
        scopes = form.get("scope", "").split()
        missing = [s for s in scopes if s not in key.scopes]
        if missing:
            return _oauth_error("invalid_scope", "A requested scope is invalid, unknown, malformed, or exceeds the "
                                "scope granted by the resource owner. The following scopes were requested, but "
                                f"not granted: {', '.join(missing)}")
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = IssuedToken(key.client_id, set(scopes), time.time() + self.token_lifetime)
            self.token_requests.append({"form": dict(form), "header": header, "claims": claims, "token": token})
        return jsonify(access_token=token, token_type="Bearer", expires_in=self.token_lifetime,
                       scope=" ".join(scopes))

    # services: authentication, throttling, context (LtiServices, AdvantageServices, RequestThrottle)

    def _guard(self, course_id: int, *, any_of: tuple[str, ...]) -> tuple[FakeCourse | None, Response | None]:
        with self.lock:
            self.service_requests.append({
                "method": request.method, "path": request.path, "query": request.query_string.decode(),
                "args": request.args.to_dict(flat=False), "content_type": request.headers.get("Content-Type"),
                "accept": request.headers.get("Accept"), "json": request.get_json(silent=True)})
            if self.failures:
                status, body = self.failures.pop(0)
                return None, Response(body, status=status, content_type="text/html")
            auth = request.headers.get("Authorization", "")
            token = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
            if self.too_many:
                retry = self.too_many.pop(0)
                return None, Response("Too Many Requests", status=429, headers={"Retry-After": str(retry)})
            if token is not None:
                bucket = self.buckets.setdefault(f"lti_advantage:{token.client_id}", Bucket(**self.bucket_settings))
                admitted, remaining = bucket.admit()
                g.rate_remaining, g.request_cost = remaining, bucket.cost if admitted else 0.0
                if not admitted:
                    return None, Response("403 Forbidden (Rate Limit Exceeded)\n", status=403,
                                          content_type="text/plain; charset=utf-8",
                                          headers={"X-Rate-Limit-Remaining": "0.0"})
        if not auth.startswith("Bearer ") or not auth[7:]:
            return None, _service_error("Missing access token", 401)
        if token is None:
            return None, _service_error("Access token invalid - signature likely incorrect", 401)
        if token.expires_at <= time.time():
            return None, _service_error("Access token expired", 401)
        if not token.scopes & set(any_of):
            return None, _service_error("Insufficient permissions", 401)
        course = self.courses.get(course_id)
        if course is None:
            return None, _service_error("Context not found", 404)
        if not course.tool_deployed:
            return None, _service_error("Access Token not linked to a Tool associated with this Context", 401)
        return course, None

    def _line_items(self, course_id: int):
        scopes = (LINEITEM,) if request.method == "POST" else (LINEITEM, LINEITEM_READONLY)
        course, refused = self._guard(course_id, any_of=scopes)
        if refused is not None:
            return refused
        with self.lock:
            if request.method == "POST":
                return self._create_line_item(course)
            items = [item for item in course.line_items.values()
                     if all(request.args.get(arg) in (None, item.get(key))
                            for arg, key in (("tag", "tag"), ("resource_id", "resourceId"),
                                             ("resource_link_id", "resourceLinkId")))]
            page, links = _paginate(items, request.args, self.lineitems_url(course), LINE_ITEMS_MAX_PAGE,
                                    self.next_link_base)
        return Response(_json(page), content_type=MEDIA["container"], headers={"Link": links})

    def _create_line_item(self, course: FakeCourse):
        body = request.get_json(silent=True) or {}
        blank = [attr for attr, key in (("score_maximum", "scoreMaximum"), ("label", "label"))
                 if body.get(key) in (None, "")]
        if blank:
            return jsonify(errors={attr: [{"attribute": attr, "type": "blank", "message": "blank"}]
                                   for attr in blank}), 400
        link = body.get("resourceLinkId")
        if link is not None and link not in course.resource_links:
            return jsonify(errors=[{"message": "The specified resource does not exist."}]), 404
        item_id = next(self._ids)
        item = {"id": f"{self.lineitems_url(course)}/{item_id}", "scoreMaximum": float(body["scoreMaximum"]),
                "label": body["label"]}
        for key in ("resourceId", "tag", "resourceLinkId"):
            if body.get(key) is not None:
                item[key] = str(body[key])
        course.line_items[item_id] = item
        return Response(_json(item), status=201, content_type=MEDIA["lineitem"])

    def _scores(self, course_id: int, item_id: int):
        course, refused = self._guard(course_id, any_of=(SCORE,))
        if refused is not None:
            return refused
        if item_id not in course.line_items:
            return jsonify(errors=[{"message": "The specified resource does not exist."}]), 404
        body = request.get_json(silent=True) or {}  # Canvas parses JSON and ``+json`` media types only
        user = course.user(body.get("userId"))
        if user is None or not user.student:
            return _service_error("User not found in course or is not a student", 422)
        for param in ("userId", "activityProgress", "gradingProgress", "timestamp"):
            if body.get(param) in (None, ""):
                return jsonify(errors=[{"message": f"param is missing or the value is empty: {param}"}]), 400
        timestamp = _parse_time(body["timestamp"])
        if timestamp is None:
            return _service_error(f"Provided timestamp of {body['timestamp']} not a valid timestamp", 400)
        with self.lock:
            previous = course.results.get((item_id, user.lti_id))
            if previous is not None and previous["updated_at"] > timestamp:
                return _service_error(f"Provided timestamp of {body['timestamp']} before last updated timestamp "
                                      f"of {previous['updated_at'].isoformat(timespec='milliseconds')}", 400)
            extension = body.get(CANVAS_SUBMISSION) or {}
            submitted_at = (body.get("submission") or {}).get("submittedAt") or extension.get("submitted_at")
            if submitted_at:
                moment = _parse_time(submitted_at)
                if moment is None:
                    return _service_error(f"Provided submitted_at timestamp of {submitted_at} not a valid "
                                          "timestamp", 400)
                if moment > datetime.now(timezone.utc) + timedelta(minutes=1):
                    return _service_error(f"Provided submitted_at timestamp of {submitted_at} in the future", 400)
            if "scoreGiven" in body and body["scoreGiven"] is not None and "scoreMaximum" not in body:
                return _service_error("ScoreMaximum not supplied when ScoreGiven present.", 422)
            result_id = next(self._ids)
            course.results[(item_id, user.lti_id)] = {"id": result_id, "updated_at": timestamp, "body": body}
        result_url = f"{self.lineitems_url(course)}/{item_id}/results/{result_id}"
        return Response(_json({"resultUrl": result_url}), content_type=MEDIA["score"])

    def _names_and_roles(self, course_id: int):
        course, refused = self._guard(course_id, any_of=(NRPS,))
        if refused is not None:
            return refused
        rlid = request.args.get("rlid")
        if rlid and rlid not in course.resource_links:
            return _service_error("Tool does not have access to rlid or rlid does not exist", 400)
        args = request.args.to_dict()
        if "limit" in args:  # Canvas turns LTI's ``limit`` into ``per_page`` (at most 50) and drops it
            args["per_page"] = str(min(int(args.pop("limit") or NRPS_MAX_PAGE), NRPS_MAX_PAGE))
        args.setdefault("per_page", str(NRPS_MAX_PAGE))
        base = self.memberships_url(course)
        with self.lock:
            page, links = _paginate(course.users, args, base, NRPS_MAX_PAGE, self.next_link_base,
                                    loop_to_first=self.nrps_loop)
        body = {"id": request.url, "context": {"id": course.context_id, "label": f"PD{course.id}",
                                               "title": course.title},
                "members": [user.nrps_json(rlid) for user in page]}
        return Response(_json(body), content_type=MEDIA["nrps"], headers={"Link": links})


# --- helpers ---------------------------------------------------------------------------------------------

def _json(value: Any) -> str:
    return json.dumps(value)


def _oauth_error(code: str, description: str, status: int = 400):
    return jsonify(error=code, error_description=description), status


def _service_error(message: str, status: int):
    """Canvas's ``render_error``: ``{"errors": {"type": ..., "message": ...}}``."""
    types = {400: "bad_request", 401: "unauthorized", 404: "not_found", 422: "unprocessable_entity"}
    return jsonify(errors={"type": types.get(status, "error"), "message": message}), status


def _parse_time(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _paginate(items: list, args, base: str, max_page: int, next_base: str | None,
              loop_to_first: bool = False) -> tuple[list, str]:
    """Canvas's ``Api.paginate``: ``page`` and ``per_page``, a Link header with current/next/first/last."""
    params = {k: v for k, v in (args.items() if hasattr(args, "items") else args) if k not in ("page", "limit")}
    per_page = int(args.get("per_page") or args.get("limit") or 10)
    per_page = max(1, min(per_page, max_page))
    params["per_page"] = str(per_page)
    page = max(1, int(args.get("page") or 1))
    last = max(1, -(-len(items) // per_page))

    def link(number: int, base_url: str = base) -> str:
        return f"{base_url}?{urlencode({**params, 'page': number})}"

    rels = [f'<{link(page)}>; rel="current"']
    if page < last:
        rels.append(f'<{link(page + 1, next_base or base)}>; rel="next"')
    elif loop_to_first and last > 1:
        rels.append(f'<{link(1)}>; rel="next"')
    rels += [f'<{link(1)}>; rel="first"', f'<{link(last)}>; rel="last"']
    return items[(page - 1) * per_page: page * per_page], ",".join(rels)

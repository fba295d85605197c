"""How platform failures surface: throttling and outages are retryable, refusals are not, and a scope the
registration lacks stops the call before any HTTP."""
import socket
from datetime import datetime, timezone

import pytest
import requests

from lti_tool.db import utcnow
from lti_tool.lti.services import (PlatformClient, PlatformRejected, PlatformServiceError, PlatformThrottled,
                                   PlatformUnavailable, ScopeNotGranted, ags, nrps)
from lti_tool.lti.services.errors import from_response, retry_after_seconds
from lti_tool.lti.services.scopes import LINEITEM, LINEITEM_READONLY, NRPS, SCORE


def test_canvas_leaky_bucket_403_is_retryable_throttling(platform, fake_canvas, course):
    fake_canvas.throttle(hwm=100, maximum=200, outflow=0, cost=60)  # two calls fill it past the high-water mark
    first = platform.request("GET", fake_canvas.memberships_url(course), scopes=[NRPS], accept=nrps.MEMBERSHIP_MEDIA,
                             doing="reading the course roster")
    assert first.headers["X-Rate-Limit-Remaining"] == "40.0" and float(first.headers["X-Request-Cost"]) == 60
    nrps.members(platform, fake_canvas.memberships_url(course))
    with pytest.raises(PlatformThrottled) as throttled:
        nrps.members(platform, fake_canvas.memberships_url(course))
    error = throttled.value
    assert error.retryable and error.http_status == 403 and error.retry_after is None
    assert error.platform_message == "403 Forbidden (Rate Limit Exceeded)"
    assert isinstance(error, PlatformServiceError) and error.status == 503


def test_429_with_retry_after_is_retryable_throttling(platform, fake_canvas, course):
    item = ags.create_line_item(platform, fake_canvas.lineitems_url(course), label="MC", score_maximum=1)
    fake_canvas.too_many.append(7)
    with pytest.raises(PlatformThrottled) as throttled:
        ags.post_score(platform, item.id, ags.Score(user_id=course.students[0].lti_id, activity_progress="Completed",
                                                    grading_progress="FullyGraded", timestamp=utcnow()))
    assert throttled.value.retryable and throttled.value.http_status == 429 and throttled.value.retry_after == 7
    assert course.results == {}


def test_throttle_header_alone_marks_a_403_as_throttling():
    response = _response(403, "", {"X-Rate-Limit-Remaining": "0.0"})
    assert isinstance(from_response(response, platform="Canvas", doing="x"), PlatformThrottled)
    refused = from_response(_response(403, '{"errors":{"message":"nope"}}', {"X-Rate-Limit-Remaining": "412.5"}),
                            platform="Canvas", doing="x")
    assert not refused.retryable and refused.platform_message == "nope"


def test_server_errors_and_lost_connections_are_retryable(platform, fake_canvas, course, session, registration):
    fake_canvas.failures.append((502, "<html>Bad Gateway</html>"))
    with pytest.raises(PlatformUnavailable) as failed:
        nrps.members(platform, fake_canvas.memberships_url(course))
    assert failed.value.retryable and failed.value.http_status == 502
    closed = fake_canvas.memberships_url(course).replace(str(fake_canvas.server.server_port), str(_closed_port()))
    with pytest.raises(PlatformUnavailable) as unreachable:
        nrps.members(platform, closed)
    assert unreachable.value.retryable and "could not be reached" in unreachable.value.message


def test_missing_scope_fails_before_any_http(session, registration, fake_canvas, course):
    registration.scopes = [NRPS]  # the admin granted the roster only
    client = PlatformClient(session, registration)
    with pytest.raises(ScopeNotGranted) as missing:
        ags.post_score(client, fake_canvas.lineitems_url(course) + "/1",
                       ags.Score(user_id="u", activity_progress="Completed", grading_progress="FullyGraded",
                                 timestamp=utcnow()))
    assert missing.value.missing == (SCORE,) and not missing.value.retryable
    with pytest.raises(ScopeNotGranted) as missing:
        ags.find_or_create_line_item(client, fake_canvas.lineitems_url(course), resource_id="mc", label="MC",
                                     score_maximum=1)
    assert missing.value.missing == (LINEITEM,) and "developer key" in missing.value.hint
    assert fake_canvas.token_requests == [] and fake_canvas.service_requests == []


def test_read_only_line_item_scope_is_enough_to_list(session, registration, fake_canvas, course):
    registration.scopes = [LINEITEM_READONLY]
    assert ags.line_items(PlatformClient(session, registration), fake_canvas.lineitems_url(course)) == []
    assert fake_canvas.token_requests[0]["form"]["scope"] == LINEITEM_READONLY


def test_platform_messages_are_read_from_canvas_shapes():
    shapes = {
        '{"errors":{"type":"unprocessable_entity","message":"User not found"}}': "User not found",
        '{"errors":[{"message":"The specified resource does not exist."}]}': "The specified resource does not exist.",
        '{"error":"invalid_scope","error_description":"not granted"}': "not granted",
        "403 Forbidden (Rate Limit Exceeded)\n": "403 Forbidden (Rate Limit Exceeded)",
    }
    for body, expected in shapes.items():
        assert from_response(_response(422, body), platform="Canvas", doing="x").platform_message == expected
    assert isinstance(from_response(_response(404, ""), platform="Canvas", doing="x"), PlatformRejected)


def test_retry_after_as_seconds_or_http_date():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("30") == 30.0
    assert retry_after_seconds("Sun, 22 Nov 2026 12:00:45 GMT", now=now) == 45.0
    assert retry_after_seconds("Sun, 22 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def _response(status: int, body: str, headers: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers.update(headers or {})
    return response


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

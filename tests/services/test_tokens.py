"""Access tokens: one client_credentials grant per registration and scope set, shared through the database."""
import threading
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select, update

from lti_tool.db import utcnow
from lti_tool.lti import keys
from lti_tool.lti.models import AccessToken, Registration
from lti_tool.lti.services import PlatformAuthError, PlatformClient, ScopeNotGranted, ags, nrps, tokens
from lti_tool.lti.services.ags import Score
from lti_tool.lti.services.scopes import LINEITEM, NRPS, SCORE
from tests.services.fake_canvas import FakeCanvas


def _roster_twice(platform, fake_canvas, course):
    nrps.members(platform, fake_canvas.memberships_url(course))
    nrps.members(platform, fake_canvas.memberships_url(course))


def test_client_assertion_is_signed_with_the_current_key_for_the_token_url(platform, fake_canvas, course, session):
    nrps.members(platform, fake_canvas.memberships_url(course))
    [sent] = fake_canvas.token_requests
    assert sent["form"]["grant_type"] == "client_credentials"
    assert sent["form"]["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert sent["header"] == {"alg": "RS256", "kid": keys.current_key(session).kid, "typ": "JWT"}
    claims = sent["claims"]
    assert claims["iss"] == claims["sub"] == platform.registration.client_id
    assert claims["aud"] == fake_canvas.token_url
    assert 295 <= claims["exp"] - claims["iat"] <= 310 and claims["jti"]


def test_scopes_are_sorted_and_space_separated_and_keyed_by_their_hash(session, registration, fake_canvas):
    platform = PlatformClient(session, registration)
    token, cached = tokens.access_token(session, registration, [SCORE, LINEITEM, SCORE], platform.http)
    assert not cached
    assert fake_canvas.token_requests[0]["form"]["scope"] == f"{LINEITEM} {SCORE}"
    row = session.scalar(select(AccessToken))
    assert row.token == token
    assert row.scope_key == tokens.scope_key([LINEITEM, SCORE]) == tokens.scope_key([SCORE, LINEITEM])
    assert len(row.scope_key) == 64
    assert tokens.access_token(session, registration, [LINEITEM, SCORE], platform.http) == (token, True)


def test_token_is_fetched_once_and_reused_across_calls(platform, fake_canvas, course):
    _roster_twice(platform, fake_canvas, course)
    assert len(fake_canvas.token_requests) == 1
    assert len(fake_canvas.requests_to("/names_and_roles")) == 2


def test_token_is_reused_by_another_session_as_another_worker_would(platform, fake_canvas, course, session, new_session):
    nrps.members(platform, fake_canvas.memberships_url(course))
    session.commit()  # the first worker's unit of work ends
    other = new_session()
    client = PlatformClient(other, other.get(Registration, platform.registration.id))
    nrps.members(client, fake_canvas.memberships_url(course))
    assert len(fake_canvas.token_requests) == 1
    assert len(fake_canvas.requests_to("/names_and_roles")) == 2


def test_each_scope_set_gets_its_own_token(platform, fake_canvas, course, session):
    nrps.members(platform, fake_canvas.memberships_url(course))
    ags.find_or_create_line_item(platform, fake_canvas.lineitems_url(course), resource_id="mc-1", label="MC",
                                 score_maximum=1)
    assert [r["form"]["scope"] for r in fake_canvas.token_requests] == [NRPS, LINEITEM]
    assert len(session.scalars(select(AccessToken)).all()) == 2


def test_expired_cache_entry_is_refreshed(platform, fake_canvas, course, session):
    nrps.members(platform, fake_canvas.memberships_url(course))
    first = fake_canvas.token_requests[0]["token"]
    # An hour later: the stored token has passed the moment the cache stops using it.
    session.execute(update(AccessToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    nrps.members(platform, fake_canvas.memberships_url(course))
    assert len(fake_canvas.token_requests) == 2
    assert session.scalar(select(AccessToken.token)) == fake_canvas.token_requests[1]["token"] != first


def test_cache_stops_using_a_token_before_the_platform_expires_it(session, registration, course):
    short = FakeCanvas(token_lifetime=45).start()  # shorter than the early-refresh margin
    try:
        short.install_developer_key(registration.client_id, keys.jwks(session))
        short.courses[course.id] = course
        registration.auth_token_url = short.token_url
        client = PlatformClient(session, registration)
        nrps.members(client, short.memberships_url(course))
        nrps.members(client, short.memberships_url(course))
        assert len(short.token_requests) == 2
        expires_at = session.scalar(select(AccessToken.expires_at))
        assert expires_at < utcnow() + timedelta(seconds=45) - tokens.EARLY_REFRESH + timedelta(seconds=5)
    finally:
        short.stop()


def test_401_on_a_cached_token_drops_it_fetches_one_new_token_and_retries_once(platform, fake_canvas, course, session):
    nrps.members(platform, fake_canvas.memberships_url(course))
    fake_canvas.revoke_tokens()  # Canvas no longer takes the token our cache still trusts
    members = nrps.members(platform, fake_canvas.memberships_url(course))
    assert len(members) == 5
    assert len(fake_canvas.token_requests) == 2
    assert len(fake_canvas.requests_to("/names_and_roles")) == 3  # ok, 401, retried ok
    assert session.scalar(select(AccessToken.token)) == fake_canvas.token_requests[1]["token"]


def test_401_with_a_fresh_token_is_final(platform, fake_canvas, session):
    undeployed = fake_canvas.add_course(tool_deployed=False)
    with pytest.raises(PlatformAuthError) as refused:
        nrps.members(platform, fake_canvas.memberships_url(undeployed))
    assert refused.value.http_status == 401 and not refused.value.retryable
    assert "not linked to a Tool associated with this Context" in refused.value.platform_message
    assert len(fake_canvas.token_requests) == 1 and len(fake_canvas.requests_to("/names_and_roles")) == 1


def test_401_twice_with_a_cached_token_retries_only_once(platform, fake_canvas, course):
    nrps.members(platform, fake_canvas.memberships_url(course))
    course.tool_deployed = False  # the tool was removed from the course meanwhile
    with pytest.raises(PlatformAuthError):
        nrps.members(platform, fake_canvas.memberships_url(course))
    assert len(fake_canvas.token_requests) == 2 and len(fake_canvas.requests_to("/names_and_roles")) == 3


def test_a_key_the_platform_does_not_have_is_a_credentials_error(platform, fake_canvas, course, runner):
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0  # the developer key still has the old key
    with pytest.raises(PlatformAuthError) as refused:
        nrps.members(platform, fake_canvas.memberships_url(course))
    assert refused.value.platform_message == "JWS signature invalid." and "public key" in refused.value.hint
    assert not refused.value.retryable
    assert fake_canvas.requests_to("/names_and_roles") == []


def test_scope_the_developer_key_lacks_is_refused_by_the_token_endpoint(session, registration, fake_canvas, course):
    fake_canvas.keys[registration.client_id].scopes.discard(SCORE)
    registration.scopes = None  # unknown: the tool only learns it from the token endpoint
    item = ags.find_or_create_line_item(PlatformClient(session, registration), fake_canvas.lineitems_url(course),
                                        resource_id="mc-1", label="MC", score_maximum=1)
    score = Score(user_id=course.students[0].lti_id, activity_progress="Completed", grading_progress="FullyGraded",
                  timestamp=utcnow())
    with pytest.raises(ScopeNotGranted) as refused:
        ags.post_score(PlatformClient(session, registration), item.id, score)
    assert refused.value.missing == (SCORE,) and refused.value.http_status == 400
    assert "not granted" in refused.value.platform_message and not refused.value.retryable
    assert fake_canvas.requests_to("/scores") == []


def test_concurrent_writers_upsert_instead_of_failing(session, registration, new_session):
    """Two workers miss the cache together; the one writing second must not hit the unique constraint."""
    late = new_session()
    late_registration = late.get(Registration, registration.id)
    assert tokens.cached_token(late, late_registration, [NRPS]) is None  # the late worker looked: nothing
    tokens.store_token(session, registration, [NRPS], "first", utcnow() + timedelta(hours=1))
    session.commit()
    tokens.store_token(late, late_registration, [NRPS], "second", utcnow() + timedelta(hours=1))
    late.commit()
    session.expire_all()
    assert session.scalars(select(AccessToken.token)).all() == ["second"]


def test_workers_racing_for_a_token_all_succeed(app, registration, fake_canvas, course):
    barrier = threading.Barrier(3)
    outcomes: list[object] = []

    def worker():
        with app.app_context():
            db_session = app.extensions["db_sessionmaker"]()
            try:
                client = PlatformClient(db_session, db_session.get(Registration, registration.id))
                barrier.wait(timeout=10)
                outcomes.append(len(nrps.members(client, fake_canvas.memberships_url(course))))
                db_session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                outcomes.append(error)
            finally:
                db_session.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == [5, 5, 5]
    with app.app_context():
        db_session = app.extensions["db_sessionmaker"]()
        try:
            stored = db_session.scalars(select(AccessToken.token)).all()
        finally:
            db_session.close()
    assert len(stored) == 1 and stored[0] in {r["token"] for r in fake_canvas.token_requests}


def test_assertion_jti_is_unique(session, registration):
    seen = {jwt.decode(tokens.client_assertion(session, registration), options={"verify_signature": False})["jti"]
            for _ in range(5)}
    assert len(seen) == 5

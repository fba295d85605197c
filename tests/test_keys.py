import jwt
from sqlalchemy import select

from lti_tool.lti import keys
from lti_tool.lti.models import ToolKey


def test_upgrade_creates_one_key_and_jwks_serves_it_without_private_parts(client, session):
    body = client.get("/lti/jwks").json
    assert len(body["keys"]) == 1
    key = body["keys"][0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and key["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    # The seeded key really is an RSA key of 2048 bits or more.
    stored = session.scalar(select(ToolKey))
    assert jwt.algorithms.RSAAlgorithm.from_jwk(key).key_size >= 2048
    assert stored.kid == key["kid"]


def test_rotation_keeps_the_previous_key_published(runner, client, session):
    first = client.get("/lti/jwks").json["keys"][0]["kid"]
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    second = client.get("/lti/jwks").json["keys"]
    assert [k["kid"] for k in second][1] == first and second[0]["kid"] != first
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    third = [k["kid"] for k in client.get("/lti/jwks").json["keys"]]
    assert first not in third and len(third) == 2
    assert keys.current_key(session).kid == third[0]


def test_tokens_signed_with_the_current_key_verify_against_the_jwks(client, session):
    current = keys.current_key(session)
    token = jwt.encode({"sub": "x"}, current.private_pem, algorithm="RS256", headers={"kid": current.kid})
    published = {k["kid"]: k for k in client.get("/lti/jwks").json["keys"]}
    public = jwt.algorithms.RSAAlgorithm.from_jwk(published[jwt.get_unverified_header(token)["kid"]])
    assert jwt.decode(token, public, algorithms=["RS256"])["sub"] == "x"


def test_keys_list_marks_current_and_published(runner):
    runner.invoke(args=["keys", "rotate"])
    lines = runner.invoke(args=["keys", "list"]).output.splitlines()
    assert [line.split()[-1] for line in lines] == ["current", "published"]

"""A minimal in-process platform for fast launch tests: it signs id_tokens with its own RSA key.

The end-to-end tests (tests/e2e) use a real LTI platform implementation over HTTPS; these tests use this
signer to probe each validation rule cheaply.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # one per test run: keygen is slow


@dataclass
class Signer:
    issuer: str = "https://canvas.instructure.com"
    client_id: str = "10000000000001"
    deployment_id: str = "1:deploy"
    kid: str = "platform-key-1"
    key: rsa.RSAPrivateKey = field(default=_KEY)

    def jwks(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update(kid=self.kid, alg="RS256", use="sig")
        return {"keys": [public]}

    def claims(self, nonce: str, *, sub: str = "user-1", roles: list[str] | None = None, **extra) -> dict:
        now = int(time.time())
        body = {
            "iss": self.issuer, "aud": self.client_id, "sub": sub, "iat": now, "exp": now + 300, "nonce": nonce,
            "name": "Ana Teacher", "email": "ana@example.org",
            CLAIM + "deployment_id": self.deployment_id, CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0", CLAIM + "target_link_uri": "https://tool.test/lti/launch",
            CLAIM + "resource_link": {"id": "link-1"}, CLAIM + "context": {"id": "course-1", "title": "PD 101"},
            CLAIM + "roles": roles if roles is not None else [LIS + "membership#Learner", LIS + "system/person#User"],
            CLAIM + "custom": {"canvas_course_id": "101", "canvas_user_id": "9", "canvas_section_ids": "$Canvas.course.sectionIds"},
        }
        body.update(extra)
        return body

    def sign(self, body: dict, **header) -> str:
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid, **header})


def login(client, signer: Signer, **params) -> dict:
    """Start a login as Canvas would; return the platform-bound query (state, nonce, ...)."""
    query = {"iss": signer.issuer, "login_hint": "hint", "client_id": signer.client_id,
             "deployment_id": signer.deployment_id, "target_link_uri": "https://tool.test/lti/launch", **params}
    response = client.get("/lti/login", query_string=query)
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}

"""How long the tool takes to turn a platform's launch into a session: login + launch, end to end in-process.

    .venv/bin/python bench/launch.py [--launches 300] [--database sqlite|URL]

A platform key signs real id_tokens (RS256); its key set is preloaded on the registration, as after the first
launch (the JWKS cache), so no network is involved. Reports launches per second and latency percentiles for
the two requests together, and the process's peak RSS. Figures go in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER, CLIENT_ID, DEPLOYMENT = "https://canvas.instructure.com", "10000000000001", "1:bench"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=300)
    parser.add_argument("--database", default="sqlite")
    args = parser.parse_args()

    from lti_tool import create_app, hooks
    from lti_tool.db import session_scope
    from lti_tool.lti import registry
    from lti_tool.migrate import alembic_config
    from alembic import command

    workdir = Path(tempfile.mkdtemp(prefix="mc-bench-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}" if args.database == "sqlite" else args.database
    command.upgrade(alembic_config(url), "head")
    app = create_app({"ENV": "testing", "SECRET_KEY": "bench-secret-0123456789-abcdefghijklmnopqrstuv",
                      "DATABASE_URL": url, "INSTANCE_PATH": workdir, "TOOL_BASE_URL": "https://tool.bench",
                      "LOG_LEVEL": "WARNING"})
    hooks.run_after_upgrade(app)

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    public.update(kid="platform-1", alg="RS256", use="sig")
    with app.app_context(), session_scope(app) as session:
        district = registry.resolve_district(session, None)
        registration = registry.add_platform(session, district=district, name="bench",
                                             endpoints=registry.CANVAS["production"], client_id=CLIENT_ID,
                                             deployment_ids=[DEPLOYMENT])
        registration.key_set = {"keys": [public]}

    client = app.test_client()
    timings = []
    for index in range(args.launches):
        started = time.perf_counter()
        # Each launch from its own client address, as a district's teachers arrive: the login rate limit
        # (per address) is counted, as in production, without refusing the benchmark's own traffic.
        login = client.get("/lti/login", query_string={"iss": ISSUER, "login_hint": f"u{index % 50}",
                                                       "client_id": CLIENT_ID, "deployment_id": DEPLOYMENT,
                                                       "target_link_uri": "https://tool.bench/lti/launch"},
                           environ_base={"REMOTE_ADDR": f"198.51.{index // 250}.{index % 250}"})
        login_time = time.perf_counter() - started  # the platform's signing below is not the tool's time
        query = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
        now = int(time.time())
        token = jwt.encode({
            "iss": ISSUER, "aud": CLIENT_ID, "sub": f"user-{index % 50}", "iat": now, "exp": now + 300,
            "nonce": query["nonce"], CLAIM + "deployment_id": DEPLOYMENT, CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0", CLAIM + "target_link_uri": "https://tool.bench/lti/launch",
            CLAIM + "resource_link": {"id": "link-1"}, CLAIM + "context": {"id": "course-1", "title": "PD"},
            CLAIM + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        }, key, algorithm="RS256", headers={"kid": "platform-1"})
        started = time.perf_counter()
        launch = client.post("/lti/launch", data={"id_token": token, "state": query["state"]})
        assert launch.status_code == 303, launch.text[:500]
        timings.append(login_time + time.perf_counter() - started)
        client.delete_cookie("mc_session")

    timings_ms = sorted(t * 1000 for t in timings)
    pct = lambda p: timings_ms[min(len(timings_ms) - 1, int(p / 100 * len(timings_ms)))]  # noqa: E731
    print(json.dumps({
        "launches": args.launches, "database": "sqlite" if args.database == "sqlite" else "postgresql",
        "launches_per_second": round(args.launches / sum(timings), 1),
        "p50_ms": round(statistics.median(timings_ms), 2), "p95_ms": round(pct(95), 2), "p99_ms": round(pct(99), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "run_id": uuid.uuid4().hex[:8],
    }, indent=2))


if __name__ == "__main__":
    main()

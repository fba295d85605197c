"""The practice LMS signs launches as anyone (a district admin included): it is served only on an explicit
opt-in, on a loopback base URL, never in production — not merely "unless production is declared"."""
from __future__ import annotations

import pytest

from config import ConfigError, load_settings

PUBLIC = {"DATABASE_URL": "postgresql://db/microcred", "TOOL_BASE_URL": "https://microcred.district.org"}


def _practice_rules(app) -> list[str]:
    return [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/practice")]


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_a_public_server_without_microcred_env_serves_no_practice_lms(make_app, db_url):
    app = make_app(db_url, TOOL_BASE_URL="https://microcred.district.org")
    assert app.config["ENV"] == "testing" and app.config["PRACTICE_LMS"] is False
    assert app.test_client().get("/practice/course/district_admin").status_code == 404
    assert not _practice_rules(app) and "practice" not in app.cli.list_commands(None)


def test_environment_without_opt_in_leaves_it_off(tmp_path):
    assert load_settings(tmp_path, env=PUBLIC).PRACTICE_LMS is False
    assert load_settings(tmp_path, env={}).PRACTICE_LMS is False  # even on the embedded default


@pytest.mark.parametrize("base", ["https://localhost:8443", "https://127.0.0.1:5000", "https://[::1]:8443"])
def test_opt_in_on_a_loopback_base_url(tmp_path, base):
    assert load_settings(tmp_path, env={"PRACTICE_LMS": "1", "TOOL_BASE_URL": base}).PRACTICE_LMS is True


@pytest.mark.parametrize("base", ["https://microcred.district.org", "https://localhost.evil.example",
                                  "https://localhost@evil.example", "https://10.0.0.5"])
def test_opt_in_on_a_reachable_base_url_refuses_to_start(tmp_path, base):
    with pytest.raises(ConfigError, match="not a loopback address.*district admin"):
        load_settings(tmp_path, env={**PUBLIC, "PRACTICE_LMS": "1", "TOOL_BASE_URL": base})


def test_opt_in_in_production_refuses_to_start(tmp_path):
    env = {**PUBLIC, "MICROCRED_ENV": "production", "SECRET_KEY": "k3Jd8s-2LmQp9xVz7RtYw4NbC6hF1gAeUo5iX0Ws",
           "PRACTICE_LMS": "1", "TOOL_BASE_URL": "https://localhost:8443"}
    with pytest.raises(ConfigError, match="must not be set in production"):
        load_settings(tmp_path, env=env)


def test_opt_in_value_must_be_a_flag(tmp_path):
    with pytest.raises(ConfigError, match="PRACTICE_LMS must be 1 or 0"):
        load_settings(tmp_path, env={"PRACTICE_LMS": "maybe"})
    assert load_settings(tmp_path, env={"PRACTICE_LMS": "0"}).PRACTICE_LMS is False


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_opted_in_app_serves_the_practice_lms(make_app, db_url):
    app = make_app(db_url, TOOL_BASE_URL="https://localhost:8443", PRACTICE_LMS=True)
    assert "/practice/course/<persona>" in _practice_rules(app) and "practice" in app.cli.list_commands(None)
    assert app.test_client().get("/practice/jwks").status_code == 200


def test_opted_in_app_with_a_public_base_url_refuses_to_start(make_app):
    with pytest.raises(ConfigError, match="not a loopback address"):
        make_app("sqlite://", PRACTICE_LMS=True)  # the test default base URL is https://tool.test

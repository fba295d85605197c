from pathlib import Path

import pytest

from config import ConfigError, check_secret, load_settings, parse_proxy_fix
from lti_tool import create_app

STRONG = "k3Jd8s-2LmQp9xVz7RtYw4NbC6hF1gAeUo5iX0Ws"


def test_development_defaults_need_nothing(tmp_path):
    settings = load_settings(tmp_path, env={})
    assert settings.ENV == "development"
    assert settings.DATABASE_URL == f"sqlite:///{(tmp_path / 'microcred.sqlite3').resolve()}"
    assert settings.STORAGE_URL == (tmp_path / "evidence").resolve().as_uri()
    assert settings.LOG_FORMAT == "text"


def test_development_secret_is_generated_once_and_kept_private(tmp_path):
    first = load_settings(tmp_path, env={}).SECRET_KEY
    second = load_settings(tmp_path, env={}).SECRET_KEY
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("env_var", ["MICROCRED_ENV", "FLASK_ENV"])
def test_production_refuses_to_start_without_a_secret(tmp_path, env_var):
    env = {env_var: "production", "DATABASE_URL": "postgresql://db/x", "TOOL_BASE_URL": "https://mc.example.org"}
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_settings(tmp_path, env=env)
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("weak", ["changeme", "a" * 40, "short-but-random-7Q"])
def test_weak_secrets_are_refused(weak):
    with pytest.raises(ConfigError):
        check_secret(weak)


def test_production_requires_database_and_base_url_and_logs_json(tmp_path):
    env = {"MICROCRED_ENV": "production", "SECRET_KEY": STRONG}
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings(tmp_path, env=env)
    env |= {"DATABASE_URL": "postgresql://db/x", "TOOL_BASE_URL": "https://mc.example.org/"}
    settings = load_settings(tmp_path, env=env)
    assert settings.LOG_FORMAT == "json"
    assert settings.TOOL_BASE_URL == "https://mc.example.org"


def test_unknown_environment_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="MICROCRED_ENV must be one of"):
        load_settings(tmp_path, env={"MICROCRED_ENV": "prod"})


def test_proxy_fix_parsing():
    assert parse_proxy_fix("1,1,1") == {"x_for": 1, "x_proto": 1, "x_host": 1}
    with pytest.raises(ConfigError):
        parse_proxy_fix("yes")


def test_proxy_fix_makes_forwarded_https_visible(tmp_path):
    app = create_app({"ENV": "testing", "SECRET_KEY": STRONG, "INSTANCE_PATH": tmp_path,
                      "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "PROXY_FIX": "1,1,1"})

    @app.get("/scheme")
    def scheme():
        from flask import request
        return f"{request.scheme}://{request.host}"

    response = app.test_client().get("/scheme", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "mc.example.org",
                                                         "X-Forwarded-For": "203.0.113.9"})
    assert response.text == "https://mc.example.org"
    app.extensions["db_engine"].dispose()


def test_session_cookie_is_secure_and_cross_site(tmp_path):
    app = create_app({"ENV": "testing", "SECRET_KEY": STRONG, "INSTANCE_PATH": tmp_path,
                      "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "None"
    app.extensions["db_engine"].dispose()


def test_wsgi_is_the_only_caller_of_create_app():
    root = Path(__file__).resolve().parent.parent
    callers = [p.relative_to(root).as_posix() for p in root.glob("**/*.py")
               if not {".venv", "tests", "bench"} & set(p.parts) and "create_app(" in p.read_text()
               and p.name != "__init__.py"]
    assert callers == ["wsgi.py"]


def test_numeric_settings_come_from_the_environment_and_bad_ones_are_named(tmp_path):
    settings = load_settings(tmp_path, env={"LOGIN_RATE_LIMIT": "30", "REGISTRATION_DEADLINE_SECONDS": "4.5",
                                            "MAX_CONTENT_LENGTH": "2097152"})
    assert (settings.LOGIN_RATE_LIMIT, settings.REGISTRATION_DEADLINE_SECONDS, settings.MAX_CONTENT_LENGTH) == \
        (30, 4.5, 2 * 1024 * 1024)
    assert load_settings(tmp_path, env={}).LOGIN_RATE_WINDOW == 60
    for name, value, message in (("LOGIN_RATE_LIMIT", "lots", "LOGIN_RATE_LIMIT must be a whole number"),
                                 ("LOGIN_RATE_LIMIT", "²", "LOGIN_RATE_LIMIT must be a whole number"),
                                 ("LOGIN_RATE_LIMIT", "0", "LOGIN_RATE_LIMIT must be at least 1"),
                                 ("MAX_CONTENT_LENGTH", "1.5", "MAX_CONTENT_LENGTH must be a whole number"),
                                 ("REGISTRATION_DEADLINE_SECONDS", "nan", "at least 0.5")):
        with pytest.raises(ConfigError, match=message):
            load_settings(tmp_path, env={name: value})

"""Settings read from the environment, with safe defaults for the embedded set-up.

The embedded default (``make demo``) needs nothing set: a SQLite file and an evidence directory under
``instance/``, a secret key generated once and kept there. Production (``MICROCRED_ENV=production``, or the
older ``FLASK_ENV=production``) refuses to start without a real ``SECRET_KEY`` and an explicit
``DATABASE_URL`` and ``TOOL_BASE_URL``.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

ENVIRONMENTS = ("development", "testing", "production")
MIN_SECRET_LENGTH = 32
_WEAK_SECRETS = {"dev", "secret", "changeme", "change-me", "development", "test", "password", "please-change"}


class ConfigError(RuntimeError):
    """The settings are unusable; the message says which variable to fix."""


@dataclass(frozen=True)
class Settings:
    ENV: str = "development"
    SECRET_KEY: str = ""
    DATABASE_URL: str = ""
    TOOL_BASE_URL: str = "https://localhost:8443"
    STORAGE_URL: str = ""
    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: str = "text"  # "json" in production
    # "x_for,x_proto,x_host,x_port,x_prefix" hop counts, e.g. "1,1,1,0,0"; empty = no proxy in front.
    PROXY_FIX: str = ""
    MAX_CONTENT_LENGTH: int = 512 * 1024 * 1024
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.ENV == "production"

    def as_flask_config(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        values.update(self.extra)
        values["SESSION_COOKIE_SECURE"] = True
        values["SESSION_COOKIE_SAMESITE"] = "None"
        values["SESSION_COOKIE_HTTPONLY"] = True
        values["TESTING"] = self.ENV == "testing"
        return values


def _environment(env: Mapping[str, str]) -> str:
    name = (env.get("MICROCRED_ENV") or env.get("FLASK_ENV") or "development").strip().lower()
    if name not in ENVIRONMENTS:
        raise ConfigError(f"MICROCRED_ENV must be one of {', '.join(ENVIRONMENTS)}, not {name!r}.")
    return name


def _dev_secret(instance_path: Path) -> str:
    """Generate a secret key once and keep it in instance/, so sessions survive a restart."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def check_secret(value: str) -> None:
    if not value:
        raise ConfigError("SECRET_KEY is not set. Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    if len(value) < MIN_SECRET_LENGTH or value.lower() in _WEAK_SECRETS or len(set(value)) < 10:
        raise ConfigError(f"SECRET_KEY is too weak: use at least {MIN_SECRET_LENGTH} random characters.")


def load_settings(instance_path: str | Path, env: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build the settings from ``env`` (default: ``os.environ``), then apply ``overrides`` (tests)."""
    env = os.environ if env is None else env
    overrides = dict(overrides or {})
    instance = Path(instance_path)
    environment = overrides.pop("ENV", None) or _environment(env)
    production = environment == "production"

    values: dict[str, Any] = {"ENV": environment}
    for name in ("SECRET_KEY", "DATABASE_URL", "TOOL_BASE_URL", "STORAGE_URL", "LOG_LEVEL", "LOG_FORMAT", "PROXY_FIX"):
        if env.get(name):
            values[name] = env[name].strip()
    if env.get("MAX_CONTENT_LENGTH"):
        values["MAX_CONTENT_LENGTH"] = int(env["MAX_CONTENT_LENGTH"])
    known = {f.name for f in fields(Settings)}
    values.update({k: v for k, v in overrides.items() if k in known})
    extra = {k: v for k, v in overrides.items() if k not in known}

    if production:
        check_secret(values.get("SECRET_KEY", ""))
        for required in ("DATABASE_URL", "TOOL_BASE_URL"):
            if not values.get(required):
                raise ConfigError(f"{required} must be set in production.")
        values.setdefault("LOG_FORMAT", "json")
    elif not values.get("SECRET_KEY"):
        values["SECRET_KEY"] = _dev_secret(instance)

    values.setdefault("DATABASE_URL", f"sqlite:///{(instance / 'microcred.sqlite3').resolve()}")
    values.setdefault("STORAGE_URL", (instance / "evidence").resolve().as_uri())
    values["TOOL_BASE_URL"] = values.get("TOOL_BASE_URL", Settings.TOOL_BASE_URL).rstrip("/")
    values["LOG_LEVEL"] = str(values.get("LOG_LEVEL", "INFO")).upper()
    if values.get("LOG_FORMAT", "text") not in ("text", "json"):
        raise ConfigError("LOG_FORMAT must be 'text' or 'json'.")
    if values.get("PROXY_FIX"):
        parse_proxy_fix(values["PROXY_FIX"])
    return Settings(**values, extra=extra)


def parse_proxy_fix(value: str) -> dict[str, int]:
    """``"1,1,1"`` → ``{"x_for": 1, "x_proto": 1, "x_host": 1}`` for werkzeug's ProxyFix."""
    names = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) > len(names) or not all(p.isdigit() for p in parts):
        raise ConfigError("PROXY_FIX must be up to five hop counts: x_for,x_proto,x_host,x_port,x_prefix (e.g. 1,1,1).")
    return dict(zip(names, (int(p) for p in parts)))

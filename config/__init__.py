"""Settings read from the environment, with safe defaults for the embedded set-up.

The embedded default (``make demo``) needs nothing set: a SQLite file and an evidence directory under
``instance/``, a secret key generated once and kept there. Production (``MICROCRED_ENV=production``, or the
older ``FLASK_ENV=production``) refuses to start without a real ``SECRET_KEY`` and an explicit
``DATABASE_URL`` and ``TOOL_BASE_URL``.

The practice LMS (``/practice``) signs launches as anyone, a district admin included: it is served only when
asked for (``PRACTICE_LMS=1``, as ``make demo`` does) on a loopback ``TOOL_BASE_URL``, and never in production.
"""
from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

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
    # Request bodies above this are refused with a 413 before they are read; upload endpoints raise it
    # for themselves (security.UPLOAD_LIMITS).
    MAX_CONTENT_LENGTH: int = 1024 * 1024
    PRACTICE_LMS: bool = False
    # Origins allowed to frame the tool besides the registered platforms', space separated (e.g. a Canvas
    # on the district's own domain: "https://canvas.district.org").
    FRAME_ANCESTORS: str = ""
    # OIDC logins per client address per window (a whole school behind one address shares it).
    LOGIN_RATE_LIMIT: int = 120
    LOGIN_RATE_WINDOW: int = 60  # seconds
    # Dynamic Registration: the whole exchange with the platform, and the most read of each of its answers.
    REGISTRATION_DEADLINE_SECONDS: float = 10.0
    REGISTRATION_MAX_RESPONSE_BYTES: int = 256 * 1024
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


# Numeric settings read from the environment: their type and smallest sensible value.
_NUMBERS: dict[str, tuple[type, float]] = {
    "MAX_CONTENT_LENGTH": (int, 64 * 1024), "LOGIN_RATE_LIMIT": (int, 1), "LOGIN_RATE_WINDOW": (int, 1),
    "REGISTRATION_DEADLINE_SECONDS": (float, 0.5), "REGISTRATION_MAX_RESPONSE_BYTES": (int, 16 * 1024),
}


def _number(name: str, text: str, kind: type, minimum: float) -> int | float:
    text = text.strip()
    try:
        if not text.isascii():
            raise ValueError(text)
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{name} must be a {'whole ' if kind is int else ''}number, not {text[:20]!r}.") from None
    if not minimum <= value < 10**12:
        raise ConfigError(f"{name} must be at least {minimum:g}.")
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
    for name in ("SECRET_KEY", "DATABASE_URL", "TOOL_BASE_URL", "STORAGE_URL", "LOG_LEVEL", "LOG_FORMAT", "PROXY_FIX",
                 "FRAME_ANCESTORS"):
        if env.get(name):
            values[name] = env[name].strip()
    for name, (kind, minimum) in _NUMBERS.items():
        if env.get(name):
            values[name] = _number(name, env[name], kind, minimum)
    if env.get("PRACTICE_LMS"):
        values["PRACTICE_LMS"] = _flag("PRACTICE_LMS", env["PRACTICE_LMS"])
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
    values["PRACTICE_LMS"] = bool(values.get("PRACTICE_LMS", False))
    if values["PRACTICE_LMS"]:
        _check_practice(values["TOOL_BASE_URL"], production)
    values["FRAME_ANCESTORS"] = " ".join(parse_origins(values.get("FRAME_ANCESTORS", ""), production))
    return Settings(**values, extra=extra)


def _flag(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, not {value!r}.")


def is_loopback_url(url: str) -> bool:
    """True for https://localhost…, https://127.0.0.1…, https://[::1]… (no user part: ``localhost@evil.example``
    is evil.example)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or "@" in parts.netloc:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_practice(base_url: str, production: bool) -> None:
    """The practice LMS lets anyone launch as anyone: only for a demo on this machine."""
    if production:
        raise ConfigError("PRACTICE_LMS must not be set in production: the practice LMS lets anyone launch as "
                          "any user, a district admin included.")
    if not is_loopback_url(base_url):
        raise ConfigError(f"PRACTICE_LMS is set but TOOL_BASE_URL ({base_url}) is not a loopback address. The "
                          "practice LMS lets anyone launch as any user, a district admin included, so it only runs "
                          "at https://localhost, 127.0.0.1 or [::1]. Unset PRACTICE_LMS on a server others can reach.")


def parse_origins(value: str, production: bool) -> list[str]:
    """``"https://a.example https://b.example:8443"`` → the origins, checked: https only (http only for loopback
    outside production), scheme and host with an optional port, nothing else."""
    origins = []
    for item in value.replace(",", " ").split():
        parts = urlsplit(item)
        insecure_ok = not production and parts.scheme == "http" and is_loopback_url(item)
        wildcard = (parts.hostname or "").startswith("*.")
        try:
            port = parts.port
        except ValueError:
            port = -1
        if (parts.scheme != "https" and not insecure_ok) or not parts.hostname or port == -1 \
                or "@" in parts.netloc or parts.path.strip("/") or parts.query or parts.fragment \
                or "*" in (parts.hostname[2:] if wildcard else parts.hostname):
            raise ConfigError(f"FRAME_ANCESTORS must list origins such as https://canvas.district.org "
                              f"(https, no path), not {item!r}.")
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return origins


def parse_proxy_fix(value: str) -> dict[str, int]:
    """``"1,1,1"`` → ``{"x_for": 1, "x_proto": 1, "x_host": 1}`` for werkzeug's ProxyFix."""
    names = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) > len(names) or not all(p.isdigit() for p in parts):
        raise ConfigError("PROXY_FIX must be up to five hop counts: x_for,x_proto,x_host,x_port,x_prefix (e.g. 1,1,1).")
    return dict(zip(names, (int(p) for p in parts)))

"""The practice platform's RSA keys, kept as files in the app's instance directory (mode 0600).

``practice-platform-key.pem`` signs; after ``rotate`` the key before it stays in
``practice-platform-key.previous.pem`` and in the JWKS, so a tool holding the old key set (or an access
token signed with the old key) keeps working until the next rotation. The ``kid`` is lti1p3platform's:
the RFC 7638 thumbprint of the public key.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from lti1p3platform.registration import Registration

CURRENT = "practice-platform-key.pem"
PREVIOUS = "practice-platform-key.previous.pem"


@dataclass(frozen=True)
class PlatformKey:
    private_pem: str
    public_pem: str
    kid: str

    @property
    def public_jwk(self) -> dict:
        return Registration.get_jwk(self.public_pem)


def _load(pem: str) -> PlatformKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return PlatformKey(pem, public, Registration.get_jwk(public)["kid"])


def _new_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _write(path: Path, pem: str, *, replace: bool) -> None:
    """Write a private key readable by the owner only, atomically: a reader never sees half a file, and
    two workers creating the first key at once keep the same one (the loser reads the winner's)."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".practice-key-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(pem)
        if replace:
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path)
            except FileExistsError:
                pass
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _path(app: Flask, name: str) -> Path:
    return Path(app.instance_path) / name


def current(app: Flask) -> PlatformKey:
    """The signing key, generated on first use."""
    path = _path(app, CURRENT)
    if not path.exists():
        _write(path, _new_pem(), replace=False)
    return _load(path.read_text())


def previous(app: Flask) -> PlatformKey | None:
    path = _path(app, PREVIOUS)
    return _load(path.read_text()) if path.exists() else None


def published(app: Flask) -> list[PlatformKey]:
    """Current first, then the previous key while it is still published."""
    return [k for k in (current(app), previous(app)) if k is not None]


def rotate(app: Flask) -> PlatformKey:
    """Make a new signing key; the current one becomes the previous (and the previous is dropped)."""
    old = current(app)
    _write(_path(app, PREVIOUS), old.private_pem, replace=True)
    _write(_path(app, CURRENT), _new_pem(), replace=True)
    return current(app)


def jwks(app: Flask) -> dict:
    return {"keys": [k.public_jwk for k in published(app)]}

"""The tool's RSA keys: generated on first ``db upgrade``, rotated with ``flask keys rotate``.

The JWKS serves the current key and the one before it, so a platform that cached the old set still
verifies tokens signed just before a rotation. Private parts never leave the database.
"""
from __future__ import annotations

import base64
import hashlib
import json

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import audit, hooks
from lti_tool.db import session_scope
from lti_tool.lti.models import ToolKey

KEY_SIZE = 2048
PUBLISHED_KEYS = 2


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(private_pem: str) -> dict:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "e": _b64(numbers.e), "n": _b64(numbers.n), "alg": "RS256", "use": "sig"}
    # RFC 7638 thumbprint as the kid: stable, derived from the key, reveals nothing.
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    jwk["kid"] = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    return jwk


def generate_key(session: Session) -> ToolKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    jwk = public_jwk(pem)
    tool_key = ToolKey(kid=jwk["kid"], private_pem=pem, public_jwk=jwk)
    session.add(tool_key)
    session.flush()
    audit.record(session, action="tool_key.created", subject_type="tool_key", subject_id=tool_key.kid,
                 district_id=None)
    return tool_key


def current_key(session: Session) -> ToolKey:
    key = session.scalar(select(ToolKey).order_by(ToolKey.id.desc()).limit(1))
    if key is None:
        key = generate_key(session)
    return key


def jwks(session: Session) -> dict:
    keys = session.scalars(select(ToolKey).order_by(ToolKey.id.desc()).limit(PUBLISHED_KEYS))
    return {"keys": [dict(k.public_jwk) for k in keys]}


@hooks.after_upgrade
def ensure_key(app: Flask) -> None:
    with session_scope(app) as session:
        if session.scalar(select(ToolKey.id).limit(1)) is None:
            generate_key(session)


keys_cli = AppGroup("keys", help="The tool's signing keys.")


@keys_cli.command("rotate")
@with_appcontext
def rotate() -> None:
    """Make a new current key; the previous one stays published until the next rotation."""
    with session_scope() as session:
        key = generate_key(session)
    click.echo(f"New current key: {key.kid}")


@keys_cli.command("list")
@with_appcontext
def list_keys() -> None:
    with session_scope() as session:
        for index, key in enumerate(session.scalars(select(ToolKey).order_by(ToolKey.id.desc()))):
            state = "current" if index == 0 else ("published" if index < PUBLISHED_KEYS else "retired")
            click.echo(f"{key.kid}  {key.created_at:%Y-%m-%d}  {state}")

"""Operator commands: ``seed-demo`` and ``dev-cert`` (``db`` lives in migrate.py, ``people`` in people/cli.py)."""
from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from lti_tool.db import session_scope

DEMO_DISTRICT = ("lakeside", "Lakeside Unified School District")
DEMO_SCHOOLS = (("LES", "Lakeside Elementary School"), ("RMS", "Ridgeview Middle School"),
                ("NHS", "North Harbor High School"))
DEMO_OFFER = (("classroom-culture", True), ("digital-learning", False))


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create the sample district and its schools (idempotent)."""
    from lti_tool.catalog import service as catalog
    from lti_tool.catalog.models import SchoolOffering
    from lti_tool.lti.actor import Actor
    from lti_tool.people.service import ensure_district, ensure_school

    with session_scope() as session:
        district = ensure_district(session, slug=DEMO_DISTRICT[0], name=DEMO_DISTRICT[1])
        schools = [ensure_school(session, district, code=code, name=name) for code, name in DEMO_SCHOOLS]
        operator = Actor.for_system(district.id, "command line")
        result = catalog.import_texts(session, operator, catalog.sample_sources())
        if result.created:  # first run: Lakeside Elementary offers two stacks, one featured
            for slug, featured in DEMO_OFFER:
                stack = catalog.get_stack(session, operator, slug)
                session.add(SchoolOffering(school_id=schools[0].id, stack_id=stack.id, featured=featured))
    click.echo(f"Sample district '{DEMO_DISTRICT[1]}' is ready with {len(DEMO_SCHOOLS)} schools and "
               f"{len(result.created) + len(result.unchanged)} catalog documents.")


def write_dev_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for https://localhost (LTI cookies must be Secure). Reused if present."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    cert_path, key_path = directory / "dev-cert.pem", directory / "dev-key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


@click.command("dev-cert")
@with_appcontext
def dev_cert() -> None:
    """Write (once) a self-signed development certificate for https://localhost into instance/."""
    cert, key = write_dev_certificate(Path(current_app.instance_path))
    click.echo(f"certificate: {cert}\nkey: {key}")


def init_app(app: Flask) -> None:
    from lti_tool.people.cli import people_cli

    app.cli.add_command(people_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(dev_cert)

from sqlalchemy import select

from lti_tool.audit.models import AuditEvent
from lti_tool.people.models import District, School


def test_seed_demo_is_idempotent_and_audited(runner, session):
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    district = session.scalar(select(District).where(District.slug == "lakeside"))
    assert district is not None
    assert len(session.scalars(select(School).where(School.district_id == district.id)).all()) == 3
    actions = [e.action for e in session.scalars(select(AuditEvent).where(
        AuditEvent.subject_type.in_(["district", "school"])).order_by(AuditEvent.id))]
    assert actions == ["district.created"] + ["school.created"] * 3


def test_db_current_reports_head(runner):
    result = runner.invoke(args=["db", "current"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split(":")[1].strip() == lines[1].split(":")[1].strip() != "(empty)"


def test_db_cli_upgrade_and_downgrade(make_app, empty_db_url):
    runner = make_app(empty_db_url).test_cli_runner()
    for args in (["db", "upgrade"], ["db", "downgrade", "base"], ["db", "upgrade"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    assert "(empty)" not in runner.invoke(args=["db", "current"]).output


def test_dev_cert_is_written_once(app, runner, tmp_path):
    from cryptography import x509

    first = runner.invoke(args=["dev-cert"]).output
    second = runner.invoke(args=["dev-cert"]).output
    assert first == second
    cert_path = first.splitlines()[0].split(": ", 1)[1]
    cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert names == ["localhost"]

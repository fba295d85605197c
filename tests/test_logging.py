import io
import json
import logging

from lti_tool.logs import JsonFormatter, RedactFilter, redact


def test_redact_masks_emails_and_tokens():
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl"
    assert redact(f"user ana.lopez+pd@schools.example.org sent {token}") == "user [email] sent [token]"


def test_json_lines_with_extras_and_no_personal_data():
    record = logging.LogRecord("lti_tool.x", logging.INFO, __file__, 1, "launch from %s", ("ana@example.org",), None)
    record.status = 200
    assert RedactFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "launch from [email]"
    assert line["status"] == 200 and line["level"] == "info" and line["logger"] == "lti_tool.x"


def test_access_log_has_path_but_not_query_string(client, caplog):
    with caplog.at_level(logging.INFO, logger="lti_tool.access"):
        client.get("/healthz?login_hint=secret-hint&email=ana@example.org")
    records = [r for r in caplog.records if r.name == "lti_tool.access"]
    assert records and records[-1].path == "/healthz" and records[-1].status == 200
    assert all("secret-hint" not in str(vars(r)) for r in records)


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/healthz", headers={"X-Request-Id": "abc12345-from-proxy"}).headers["X-Request-Id"] == "abc12345-from-proxy"
    generated = client.get("/healthz", headers={"X-Request-Id": "<script>"}).headers["X-Request-Id"]
    assert len(generated) == 32 and generated.isalnum()


def test_short_and_undotted_emails_are_masked_too():
    assert redact("hint a@b, o'neil@district, ana@x.org") == "hint [email], [email], [email]"


def test_postgresql_row_values_in_constraint_errors_are_masked():
    detail = ('DETAIL:  Key (issuer, subject)=(https://canvas.example, ana-7) already exists.\n'
              'DETAIL:  Failing row contains (5, 1, Ana Lopez, null).')
    assert redact(detail) == ('DETAIL:  Key (issuer, subject)=([values]) already exists.\n'
                              'DETAIL:  Failing row contains ([values]).')


def test_a_database_error_logs_no_names_or_subjects(app, client):
    """An unhandled IntegrityError is logged with its traceback: neither the statement's parameters nor the
    row values PostgreSQL quotes may reach the log."""
    from lti_tool import db
    from lti_tool.people.models import District, User

    @app.post("/t/duplicate-user")
    def duplicate_user():
        session = db.session()
        district = District(slug="dup", name="Dup")
        session.add(district)
        session.flush()
        for _ in range(2):
            session.add(User(district_id=district.id, issuer="https://lms.example", subject="subject-ana-8841",
                             name="Anastasia Quillfeather", email="a@b"))
        session.flush()
        return "unreachable"

    [handler] = [h for h in logging.getLogger("lti_tool").handlers if getattr(h, "_microcred", False)]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        assert client.post("/t/duplicate-user").status_code == 500
    finally:
        handler.setStream(previous)
    text = stream.getvalue()
    assert "IntegrityError" in text and "user_account" in text  # the error itself is there
    for personal in ("Anastasia", "Quillfeather", "subject-ana-8841", "a@b"):
        assert personal not in text

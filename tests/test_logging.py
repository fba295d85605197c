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

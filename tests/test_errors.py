"""Bad input gets a helpful 4xx page inside the iframe (or JSON); bugs get a 500 with no traceback shown."""
import logging

from lti_tool.errors import Conflict, Forbidden


def _routes(app):
    @app.get("/t/forbidden")
    def forbidden():
        raise Forbidden("Only a school administrator can sign off.", hint="Ask your principal.")

    @app.get("/t/conflict")
    def conflict():
        raise Conflict()

    @app.get("/t/bug")
    def bug():
        raise ZeroDivisionError("secret internals")


def test_expected_error_renders_html_page_with_hint(app, client):
    _routes(app)
    response = client.get("/t/forbidden")
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "Only a school administrator can sign off." in response.text
    assert "Ask your principal." in response.text
    assert response.headers["X-Request-Id"] in response.text


def test_expected_error_renders_json_for_api_callers(app, client):
    _routes(app)
    response = client.get("/t/conflict", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.json["error"] == "conflict"
    assert response.json["request_id"] == response.headers["X-Request-Id"]


def test_unknown_page_is_a_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "That page does not exist." in response.text


def test_wrong_method_is_405_not_500(client):
    assert client.post("/healthz").status_code == 405


def test_bug_is_a_500_without_traceback_but_logged(app, client, caplog):
    _routes(app)
    with caplog.at_level(logging.ERROR, logger="lti_tool"):
        response = client.get("/t/bug")
    assert response.status_code == 500
    assert "Traceback" not in response.text and "secret internals" not in response.text
    assert "Nothing you entered was lost" in response.text
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)


def test_a_refusal_inside_a_session_offers_a_way_back(sign_in, client):
    from lti_tool.lti.roles import Role

    teacher = sign_in({Role.TEACHER})
    refused = teacher.get("/catalog/manage", base_url="https://localhost")
    assert refused.status_code == 403 and "Back to your Microcred home page" in refused.text
    assert 'href="/"' in refused.text
    anonymous = client.get("/catalog/manage")
    assert anonymous.status_code == 401 and "Back to your Microcred home page" not in anonymous.text

"""A small stand-in LMS for browser tests, on its own origin: a course page framing the tool, Canvas's
``post_message_forwarding`` frame answering ``lti.put_data``/``lti.get_data``, an OIDC auth endpoint that
signs id_tokens (``tests.support.signer``), and its JWKS. Test-only code."""
from __future__ import annotations

import html
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, request

from tests.support.signer import LIS, Signer

FORWARDER = """<!doctype html><meta charset="utf-8"><script>
/* Canvas keeps Platform Storage in this frame, first-party to the LMS. */
window.addEventListener("message", function (event) {
  var m = event.data || {};
  if (m.subject === "lti.put_data") {
    localStorage.setItem(m.key, m.value);
    event.source.postMessage({subject: "lti.put_data.response", message_id: m.message_id, key: m.key, value: m.value}, "*");
  } else if (m.subject === "lti.get_data") {
    event.source.postMessage({subject: "lti.get_data.response", message_id: m.message_id, key: m.key,
                              value: localStorage.getItem(m.key)}, "*");
  }
});
</script>"""


def create_platform(signer: Signer, tool_url: str, roles: list[str] | None = None) -> Flask:
    app = Flask("practice_platform_for_tests")
    seen = {"auth": 0}

    @app.get("/course")
    def course():
        return (f'<!doctype html><title>PD course</title><h1>PD course</h1>'
                f'<iframe name="post_message_forwarding" src="/forwarder" hidden></iframe>'
                f'<iframe name="tool" title="Microcred" src="/start" width="1000" height="700"></iframe>')

    @app.get("/forwarder")
    def forwarder():
        return FORWARDER

    @app.get("/start")
    def start():
        query = urlencode({"iss": signer.issuer, "login_hint": "teacher-1", "client_id": signer.client_id,
                           "deployment_id": signer.deployment_id, "target_link_uri": f"{tool_url}/lti/launch",
                           "lti_storage_target": "post_message_forwarding"})
        return Response(status=302, headers={"Location": f"{tool_url}/lti/login?{query}"})

    @app.get("/auth")
    def auth():
        seen["auth"] += 1
        args = request.args
        assert args["redirect_uri"] == f"{tool_url}/lti/launch" and args["client_id"] == signer.client_id
        token = signer.sign(signer.claims(args["nonce"], roles=roles))
        return (f'<!doctype html><form method="post" action="{html.escape(args["redirect_uri"])}">'
                f'<input type="hidden" name="id_token" value="{token}">'
                f'<input type="hidden" name="state" value="{html.escape(args["state"])}"></form>'
                f'<script>document.forms[0].submit()</script>')

    @app.get("/jwks")
    def jwks():
        return jsonify(signer.jwks())

    app.extensions["seen"] = seen
    return app


TEACHER = [LIS + "membership#Learner", LIS + "system/person#User"]

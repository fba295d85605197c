"""A fake of Canvas's Dynamic Registration endpoints that enforces what Canvas checks: the bearer
registration token on both calls, the registration's required fields and types, and an answer with a
client_id, the granted scope and the tool configuration carrying the deployment id."""
from __future__ import annotations

import threading

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from tests.support.live import free_port

REQUIRED = {"application_type": str, "grant_types": list, "response_types": list, "redirect_uris": list,
            "initiate_login_uri": str, "client_name": str, "jwks_uri": str, "token_endpoint_auth_method": str,
            "scope": str, "https://purl.imsglobal.org/spec/lti-tool-configuration": dict}


class FakeCanvasRegistration:
    def __init__(self, token: str = "reg-token-123", grant: str | None = None) -> None:
        self.token, self.grant = token, grant
        self.received: list[dict] = []
        self.config_override: dict = {}
        self.refuse_with: int | None = None
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        app = Flask("fake_canvas_registration")

        def authorized() -> bool:
            return request.headers.get("Authorization") == f"Bearer {self.token}"

        @app.get("/api/lti/security/openid-configuration")
        def configuration():
            if not authorized():
                return jsonify(errors=[{"message": "Invalid registration token"}]), 401
            body = {
                "issuer": self.base, "authorization_endpoint": f"{self.base}/api/lti/authorize_redirect",
                "token_endpoint": f"{self.base}/login/oauth2/token", "jwks_uri": f"{self.base}/api/lti/security/jwks",
                "registration_endpoint": f"{self.base}/api/lti/registrations",
                "scopes_supported": ["openid"], "response_types_supported": ["id_token"],
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "canvas", "version": "cloud",
                    "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}]},
            }
            body.update(self.config_override)
            return jsonify(body)

        @app.post("/api/lti/registrations")
        def registrations():
            if not authorized():
                return jsonify(errors=[{"message": "Invalid registration token"}]), 401
            if self.refuse_with:
                return jsonify(errors=[{"message": "refused"}]), self.refuse_with
            data = request.get_json(silent=True)
            if not isinstance(data, dict):
                return jsonify(errors=[{"message": "body must be JSON"}]), 422
            missing = [k for k, kind in REQUIRED.items() if not isinstance(data.get(k), kind)]
            config = data.get("https://purl.imsglobal.org/spec/lti-tool-configuration", {})
            if missing or not isinstance(config, dict) or not config.get("target_link_uri") or not config.get("domain"):
                return jsonify(errors=[{"field": m, "message": "is required"} for m in missing or ["tool configuration"]]), 422
            if data["token_endpoint_auth_method"] != "private_key_jwt" or data["response_types"] != ["id_token"]:
                return jsonify(errors=[{"message": "unsupported client metadata"}]), 422
            self.received.append(data)
            granted = self.grant if self.grant is not None else data["scope"]
            answer = dict(data, client_id="10000000000777", scope=granted)
            answer["https://purl.imsglobal.org/spec/lti-tool-configuration"] = dict(config, deployment_id="77:reg")
            return jsonify(answer)

        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self) -> str:
        return f"{self.base}/api/lti/security/openid-configuration"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

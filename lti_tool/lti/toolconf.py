"""pylti1p3's view of the registrations table: a ``ToolConfAbstract`` over the database.

Every issuer is treated as "many client ids" (hosted Canvas shares one issuer across every customer), so
pylti1p3 always looks registrations up by issuer *and* client_id.
"""
from __future__ import annotations

import typing as t

from pylti1p3.deployment import Deployment as PyltiDeployment
from pylti1p3.registration import Registration as PyltiRegistration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy.orm import Session

from lti_tool.lti import keys, registry
from lti_tool.lti.models import Registration


class ToolRegistration(PyltiRegistration):
    """A pylti1p3 registration carrying our row, our current key and its kid."""

    def __init__(self, row: Registration, key_pem: str, kid: str, public_jwks: list[dict]) -> None:
        super().__init__()
        self.row = row
        self._kid = kid
        self._public_jwks = public_jwks
        (self.set_issuer(row.issuer).set_client_id(row.client_id).set_auth_login_url(row.auth_login_url)
         .set_auth_token_url(row.auth_token_url).set_key_set_url(row.key_set_url).set_tool_private_key(key_pem))
        if row.key_set:
            self.set_key_set(row.key_set)

    def get_kid(self) -> str:
        return self._kid

    def get_jwks(self):
        return self._public_jwks


class DbToolConf(ToolConfAbstract):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def wrap(self, row: Registration) -> ToolRegistration:
        key = keys.current_key(self.session)
        return ToolRegistration(row, key.private_pem, key.kid, keys.jwks(self.session)["keys"])

    def find_registration_by_issuer(self, iss: str, *args, **kwargs) -> t.Optional[ToolRegistration]:
        row = registry.find_registration(self.session, iss, None)
        return self.wrap(row) if row else None

    def find_registration_by_params(self, iss: str, client_id: str, *args, **kwargs) -> t.Optional[ToolRegistration]:
        row = registry.find_registration(self.session, iss, client_id)
        return self.wrap(row) if row else None

    def find_deployment(self, iss: str, deployment_id: str) -> t.Optional[PyltiDeployment]:
        row = registry.find_registration(self.session, iss, None)
        return self._deployment(row, deployment_id)

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str, *args,
                                  **kwargs) -> t.Optional[PyltiDeployment]:
        row = registry.find_registration(self.session, iss, client_id)
        return self._deployment(row, deployment_id)

    def _deployment(self, row: Registration | None, deployment_id: str) -> t.Optional[PyltiDeployment]:
        if row is None or not isinstance(deployment_id, str):
            return None
        if registry.find_deployment(self.session, row, deployment_id) is None:
            return None
        return PyltiDeployment().set_deployment_id(deployment_id)

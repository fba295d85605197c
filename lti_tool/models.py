"""Every model, imported in one place so Alembic's autogenerate and the migration test see them all."""
from lti_tool.audit.models import AuditEvent
from lti_tool.db import Base
from lti_tool.people.models import District, School, User

__all__ = ["AuditEvent", "Base", "District", "School", "User"]

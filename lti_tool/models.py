"""Every model, imported in one place so Alembic's autogenerate and the migration test see them all."""
from lti_tool.audit.models import AuditEvent
from lti_tool.catalog.models import McVersion, MicroCredential, SchoolOffering, Stack, StackVersion
from lti_tool.db import Base
from lti_tool.lti.models import AccessToken, CourseSchool, Deployment, LaunchRecord, LoginState, Registration, ToolKey, ToolSession
from lti_tool.people.models import District, School, SchoolAdmin, User

__all__ = ["AccessToken", "AuditEvent", "CourseSchool", "McVersion", "MicroCredential", "SchoolOffering", "Stack",
           "StackVersion", "Base", "Deployment", "District", "LaunchRecord", "LoginState",
           "Registration", "School", "SchoolAdmin", "ToolKey", "ToolSession", "User"]

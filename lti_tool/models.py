"""Every model, imported in one place so Alembic's autogenerate and the migration test see them all."""
from lti_tool.audit.models import AuditEvent
from lti_tool.catalog.models import McVersion, MicroCredential, SchoolOffering, Stack, StackVersion
from lti_tool.db import Base
from lti_tool.lti.models import (AccessToken, CourseContext, Deployment, FrameOrigin, LaunchRecord, LoginState, Placement,
                                 RateLimit, Registration, ToolKey, ToolSession, UsedInvite)
from lti_tool.people.models import CourseSchool, District, DistrictAdmin, School, SchoolAdmin, User

__all__ = ["AccessToken", "AuditEvent", "Base", "CourseContext", "CourseSchool", "Deployment", "District", "FrameOrigin",
           "DistrictAdmin", "LaunchRecord", "LoginState", "McVersion", "MicroCredential", "Placement", "RateLimit",
           "Registration", "School", "SchoolAdmin", "SchoolOffering", "Stack", "StackVersion", "ToolKey",
           "ToolSession", "UsedInvite", "User"]

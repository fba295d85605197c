"""The audit trail: who did what, when, to what, with the state before and after."""
from lti_tool.audit.models import AuditEvent
from lti_tool.audit.service import record

__all__ = ["AuditEvent", "record"]

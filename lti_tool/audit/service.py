from __future__ import annotations

from typing import Any

from flask import g, has_request_context
from sqlalchemy.orm import Session

from lti_tool.audit.models import AuditEvent


def record(session: Session, *, action: str, subject_type: str, subject_id: Any,
           district_id: int | None, actor_user_id: int | None = None,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> AuditEvent:
    """Add an audit event to the current unit of work (flushed with it, committed by the caller)."""
    event = AuditEvent(
        action=action, subject_type=subject_type, subject_id=str(subject_id), district_id=district_id,
        actor_user_id=actor_user_id, before=before, after=after,
        request_id=g.get("request_id") if has_request_context() else None,
    )
    session.add(event)
    session.flush()
    return event

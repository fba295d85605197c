"""Fixed-window counters shared by every worker (``lti_rate_limit``): OIDC logins per client address.

A counter is written in its own short transaction, so it holds even when the request it counts is refused
and rolled back.
"""
from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import case, delete, insert, literal, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.db import UTCDateTime, utcnow
from lti_tool.lti.models import RateLimit


def count_login(bind: Engine | Connection, client_key: str, *, limit: int, window: timedelta) -> int:
    """Count one login for ``client_key`` in a fixed window shared by every worker; return 0 when it is within
    ``limit``, else the seconds until the window ends (for ``Retry-After``).

    The counter is committed in its own short transaction, so it holds even when the request is refused and
    rolled back. The update is atomic (``hits = hits + 1``, or a reset when the window is over); the first hit
    inserts the row inside a SAVEPOINT, and a concurrent first insert (IntegrityError) falls back to the update.
    """
    now = utcnow()
    stamp = literal(now, UTCDateTime())
    expired = RateLimit.window_start <= now - window
    bump = (update(RateLimit).where(RateLimit.key == client_key)
            .values(hits=case((expired, 1), else_=RateLimit.hits + 1),
                    window_start=case((expired, stamp), else_=RateLimit.window_start))
            .returning(RateLimit.hits, RateLimit.window_start))
    with Session(bind=bind) as side, side.begin():
        row = side.execute(bump).first()
        if row is None:
            try:
                with side.begin_nested():
                    side.execute(insert(RateLimit).values(key=client_key, window_start=now, hits=1))
                row = (1, now)
            except IntegrityError:  # another worker inserted it first
                row = side.execute(bump).first()
    hits, window_start = row
    if hits <= limit:
        return 0
    return max(1, math.ceil((window_start + window - now).total_seconds()))


def purge_rate_limits(session: Session, older_than: timedelta = timedelta(hours=1)) -> int:
    """Delete counters whose window ended long ago (for ``flask lti purge``)."""
    return session.execute(delete(RateLimit).where(RateLimit.window_start < utcnow() - older_than)).rowcount

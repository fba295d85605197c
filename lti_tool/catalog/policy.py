"""Pursuit rules: the district's, and a micro-credential's own where its document sets one.

An MC's ``policy`` holds only the rules it changes: a value that is absent (or null) inherits the district's
rule, so a district that allows five attempts gets five on every MC that says nothing. ``window_days`` has
one more value, ``"none"``: no submission window for this MC, even where the district sets one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.lti.actor import Actor

DEFAULTS: dict[str, Any] = {
    "plan_approval": False,   # a school admin approves the teacher's plan before evidence is submitted
    "attempts": 3,            # submissions allowed before the cooldown
    "cooldown_days": 30,      # wait after the last "not yet" before signing up again
    "window_days": None,      # days from start to submit; None = no limit
    "district_catalog_visible": False,  # teachers see the whole district catalog, not only their school's offer
}
MC_RULES = ("plan_approval", "attempts", "cooldown_days", "window_days")  # what an MC may set for itself
NO_WINDOW = "none"  # an MC's window_days: no window, whatever the district's rule
# The range of each number (the schema's minimum and maximum say the same for an MC's own policy).
LIMITS: dict[str, tuple[int, int]] = {"attempts": (1, 100), "cooldown_days": (0, 3650), "window_days": (1, 3650)}


@dataclass(frozen=True)
class Policy:
    plan_approval: bool
    attempts: int
    cooldown_days: int
    window_days: int | None
    district_catalog_visible: bool


def district_policy(stored: dict[str, Any] | None) -> Policy:
    merged = dict(DEFAULTS)
    merged.update({k: v for k, v in (stored or {}).items() if k in DEFAULTS})
    return Policy(**merged)


def district_rules(session: Session, actor: Actor) -> Policy:
    """The actor's district's rules as stored, with the defaults for what it never set."""
    from lti_tool.people.models import District

    return district_policy(session.get(District, actor.district_id).policy)


def mc_policy(district: Policy, document_policy: dict[str, Any] | None) -> Policy:
    """The rules a teacher pursuing this MC works under: the MC's own values where it sets them, the
    district's everywhere else; ``window_days: "none"`` removes the district's window."""
    values = {k: getattr(district, k) for k in DEFAULTS}
    for key, value in (document_policy or {}).items():
        if key in MC_RULES and value is not None:
            values[key] = None if value == NO_WINDOW else value
    return Policy(**values)

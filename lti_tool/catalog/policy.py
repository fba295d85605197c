"""Pursuit rules: district defaults, overridden per micro-credential where its document says so."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULTS: dict[str, Any] = {
    "plan_approval": False,   # a school admin approves the teacher's plan before evidence is submitted
    "attempts": 3,            # submissions allowed before the cooldown
    "cooldown_days": 30,      # wait after the last "not yet" before signing up again
    "window_days": None,      # days from start to submit; None = no limit
    "district_catalog_visible": False,  # teachers see the whole district catalog, not only their school's offer
}
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


def mc_policy(district: Policy, document_policy: dict[str, Any] | None) -> Policy:
    """An MC's own ``policy`` values win; a null value inherits the district's."""
    values = {k: getattr(district, k) for k in DEFAULTS}
    for key, value in (document_policy or {}).items():
        if key in values and value is not None:
            values[key] = value
    return Policy(**values)

"""What the practice platform remembers, in memory per app (``app.extensions``): it is a demo, not a store.

Deep linking places links, each with its line item; AGS adds line items and scores to the same store, so a
line item placed by deep linking is one the tool can list and grade. Lost on restart, on purpose.
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import current_app


@dataclass
class PlacedLink:
    """An assignment made by deep linking: a resource link in the course, graded in its line item."""

    id: str
    title: str
    url: str
    custom: dict[str, str]
    line_item_id: str | None
    placed_by: str


@dataclass
class Store:
    lock: threading.Lock = field(default_factory=threading.Lock)
    line_items: dict[str, dict[str, Any]] = field(default_factory=dict)   # id (short) → line item JSON
    links: dict[str, PlacedLink] = field(default_factory=dict)
    scores: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)  # (item, userId) → history
    jwks_hits: int = 0             # requests for the platform's JWKS (the tool should cache it)
    tool_jwks: dict[str, Any] | None = None
    tool_jwks_fetches: int = 0     # fetches of the tool's JWKS (this platform caches it)
    used: set[tuple[str, str]] = field(default_factory=set)  # client assertion jti, deep-linking nonces
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> str:
        return str(next(self._ids))

    def add_line_item(self, lineitems_url: str, data: dict[str, Any]) -> dict[str, Any]:
        """Store a validated line item (``scoreMaximum`` and ``label`` checked by the caller)."""
        with self.lock:
            item_id = self.next_id()
            item = {"id": f"{lineitems_url}/{item_id}", "scoreMaximum": float(data["scoreMaximum"]),
                    "label": str(data["label"])}
            for key in ("resourceId", "tag", "resourceLinkId", "startDateTime", "endDateTime"):
                if data.get(key) not in (None, ""):
                    item[key] = str(data[key])
            self.line_items[item_id] = item
        return item

    def place(self, *, title: str, url: str, custom: dict[str, str], placed_by: str) -> PlacedLink:
        with self.lock:
            link = PlacedLink(id=f"practice-link-{self.next_id()}", title=title, url=url, custom=custom,
                              line_item_id=None, placed_by=placed_by)
            self.links[link.id] = link
        return link

    def record_score(self, item_id: str, user_id: str, score: dict[str, Any]) -> int:
        with self.lock:
            history = self.scores.setdefault((item_id, user_id), [])
            history.append(score)
            return len(history)

    def last_score(self, item_id: str, user_id: str) -> dict[str, Any] | None:
        history = self.scores.get((item_id, user_id))
        return history[-1] if history else None

    def first_use(self, kind: str, value: str) -> bool:
        """Record a single-use value (``kind``: "jti", "dl-nonce"); False if it was seen before (a replay)."""
        with self.lock:
            if (kind, value) in self.used:
                return False
            self.used.add((kind, value))
            return True

    def count_jwks_hit(self) -> None:
        with self.lock:
            self.jwks_hits += 1


def store() -> Store:
    return current_app.extensions.setdefault("practice_store", Store())

"""Assignment and Grade Services (AGS 2.0) as Canvas implements it: line items and scores.

- Line items are listed from the context's ``lineitems`` URL with the filters ``resource_id``, ``tag`` and
  ``limit`` (Canvas also takes ``resource_link_id``), paged by ``Link: rel="next"``. The filters are applied
  again here, since a platform may ignore them. Creating one needs ``scoreMaximum`` and ``label``; Canvas
  makes a placeholder assignment for a line item without ``resourceLinkId``, and answers 404 for a
  ``resourceLinkId`` it does not know.
- Find-or-create is idempotent for one caller; two callers creating the same line item at the same moment
  can still both create one (AGS has no conditional create), so run it from a single outbox job per item.
- A score goes to ``<lineitem>/scores``; the path is extended *before* any query string, because some
  platforms' line item URLs carry one. Canvas requires ``userId, activityProgress, gradingProgress,
  timestamp``; answers 422 for ``scoreGiven`` without ``scoreMaximum``, for a user who is not an active
  student (Student View, staff) and when attempts are used up; 400 for a timestamp older than the last
  score's. ``comment`` becomes a submission comment. The Canvas extension
  ``https://canvas.instructure.com/lti/submission`` marks a new submission, its type and when it was made.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lti_tool.lti.services import errors
from lti_tool.lti.services.client import PlatformClient, with_query
from lti_tool.lti.services.scopes import LINEITEM, LINEITEM_READONLY, SCORE, granted, require

LINEITEM_MEDIA = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER_MEDIA = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_MEDIA = "application/vnd.ims.lis.v1.score+json"
CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"
PAGE_SIZE = 50

ACTIVITY_PROGRESS = frozenset({"Initialized", "Started", "InProgress", "Submitted", "Completed"})
GRADING_PROGRESS = frozenset({"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"})
SUBMISSION_TYPES = frozenset({"none", "basic_lti_launch", "online_text_entry", "external_tool", "online_upload",
                              "online_url"})


@dataclass(frozen=True)
class LineItem:
    id: str  # the line item's URL
    label: str
    score_maximum: float
    resource_id: str | None = None
    tag: str | None = None
    resource_link_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> LineItem:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise errors.PlatformServiceError("The LMS sent a line item without an id.")
        return cls(id=data["id"], label=str(data.get("label", "")), score_maximum=float(data.get("scoreMaximum") or 0),
                   resource_id=_str_or_none(data.get("resourceId")), tag=_str_or_none(data.get("tag")),
                   resource_link_id=_str_or_none(data.get("resourceLinkId")), raw=data)


@dataclass(frozen=True)
class CanvasSubmission:
    """Canvas's score extension. ``new_submission`` defaults (in Canvas) to true unless the type is none."""

    new_submission: bool | None = None
    submission_type: str | None = None
    submitted_at: datetime | None = None
    submission_data: str | None = None

    def __post_init__(self) -> None:
        if self.submission_type is not None and self.submission_type not in SUBMISSION_TYPES:
            raise ValueError(f"unknown Canvas submission_type {self.submission_type!r}")
        if self.submitted_at is not None:
            iso_timestamp(self.submitted_at)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.new_submission is not None:
            data["new_submission"] = self.new_submission
        if self.submission_type is not None:
            data["submission_type"] = self.submission_type
        if self.submission_data is not None:
            data["submission_data"] = self.submission_data
        if self.submitted_at is not None:
            data["submitted_at"] = iso_timestamp(self.submitted_at)
        return data


@dataclass(frozen=True)
class Score:
    user_id: str  # the LTI user id (``sub``), which Canvas takes as well as its own numeric id
    activity_progress: str
    grading_progress: str
    timestamp: datetime  # timezone-aware: when the tool last changed this score
    score_given: float | None = None
    score_maximum: float | None = None
    comment: str | None = None
    canvas_submission: CanvasSubmission | None = None

    def __post_init__(self) -> None:
        if self.activity_progress not in ACTIVITY_PROGRESS:
            raise ValueError(f"unknown activityProgress {self.activity_progress!r}")
        if self.grading_progress not in GRADING_PROGRESS:
            raise ValueError(f"unknown gradingProgress {self.grading_progress!r}")
        if self.score_given is not None and self.score_maximum is None:
            raise ValueError("scoreGiven needs scoreMaximum (Canvas answers 422 without it)")
        iso_timestamp(self.timestamp)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "userId": self.user_id,
            "activityProgress": self.activity_progress,
            "gradingProgress": self.grading_progress,
            "timestamp": iso_timestamp(self.timestamp),
        }
        if self.score_given is not None:
            data["scoreGiven"] = self.score_given
        if self.score_maximum is not None:
            data["scoreMaximum"] = self.score_maximum
        if self.comment:
            data["comment"] = self.comment
        if self.canvas_submission is not None:
            extension = self.canvas_submission.to_json()
            if extension:
                data[CANVAS_SUBMISSION] = extension
            if self.canvas_submission.submitted_at is not None:
                # AGS's own field, which Canvas now prefers to the extension's submitted_at.
                data["submission"] = {"submittedAt": extension["submitted_at"]}
        return data


def iso_timestamp(moment: datetime) -> str:
    """ISO 8601 with milliseconds and an explicit offset, as AGS asks (a naive datetime is a bug)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("AGS timestamps need a timezone")
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def scores_url(lineitem_url: str) -> str:
    """``<lineitem>/scores``, keeping a query string the line item URL may carry."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def line_items(client: PlatformClient, lineitems_url: str, *, resource_id: str | None = None, tag: str | None = None,
               resource_link_id: str | None = None) -> list[LineItem]:
    """Every line item of the context (the tool's own, on Canvas) matching the filters given."""
    # A token for ``lineitem`` also reads; ask for it when granted so listing and creating share one token.
    read_scope = LINEITEM if granted(client.registration, LINEITEM) else LINEITEM_READONLY
    url = with_query(lineitems_url, resource_id=resource_id, tag=tag, resource_link_id=resource_link_id,
                     limit=PAGE_SIZE)
    found: list[LineItem] = []
    for response in client.pages(url, scopes=[read_scope], accept=LINEITEM_CONTAINER_MEDIA, doing="listing line items"):
        body = client.json(response, doing="listing line items")
        if not isinstance(body, list):
            raise errors.PlatformServiceError(f"{client.platform} sent line items in an unknown shape.")
        found.extend(LineItem.from_json(item) for item in body)
    return [item for item in found
            if (resource_id is None or item.resource_id == resource_id)
            and (tag is None or item.tag == tag)
            and (resource_link_id is None or item.resource_link_id == resource_link_id)]


def create_line_item(client: PlatformClient, lineitems_url: str, *, label: str, score_maximum: float,
                     resource_id: str | None = None, tag: str | None = None,
                     resource_link_id: str | None = None) -> LineItem:
    if not label.strip() or score_maximum < 0:
        raise ValueError("a line item needs a label and a scoreMaximum of 0 or more")
    body: dict[str, Any] = {"label": label, "scoreMaximum": score_maximum}
    for key, value in (("resourceId", resource_id), ("tag", tag), ("resourceLinkId", resource_link_id)):
        if value is not None:
            body[key] = value
    response = client.request("POST", lineitems_url, scopes=[LINEITEM], accept=LINEITEM_MEDIA,
                              content_type=LINEITEM_MEDIA, body=body, doing="creating a line item")
    return LineItem.from_json(client.json(response, doing="creating a line item"))


def find_or_create_line_item(client: PlatformClient, lineitems_url: str, *, resource_id: str, label: str,
                             score_maximum: float, tag: str | None = None,
                             resource_link_id: str | None = None) -> LineItem:
    """The line item for ``resource_id`` (and ``tag``), created when there is none; the first the platform
    lists wins if several match. Needs the ``lineitem`` scope, checked before any call."""
    require(client.registration, [LINEITEM])
    existing = line_items(client, lineitems_url, resource_id=resource_id, tag=tag)
    if existing:
        return existing[0]
    return create_line_item(client, lineitems_url, label=label, score_maximum=score_maximum,
                            resource_id=resource_id, tag=tag, resource_link_id=resource_link_id)


def post_score(client: PlatformClient, lineitem_url: str, score: Score) -> dict[str, Any]:
    """Publish a score; returns the platform's answer (Canvas: ``resultUrl``), ``{}`` when it sends none."""
    response = client.request("POST", scores_url(lineitem_url), scopes=[SCORE], accept="application/json",
                              content_type=SCORE_MEDIA, body=score.to_json(), doing="posting a score")
    if not response.content:
        return {}
    body = client.json(response, doing="posting a score")
    return body if isinstance(body, dict) else {}


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)

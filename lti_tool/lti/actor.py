"""The typed actor every service takes: who is acting, as what, where. Built once per launch."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from lti_tool.lti.roles import Role


@dataclass(frozen=True)
class Course:
    context_id: str
    title: str | None = None
    canvas_course_id: str | None = None
    section_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Actor:
    user_id: int
    district_id: int
    roles: frozenset[Role]
    registration_id: int
    deployment_id: str
    course: Course | None = None
    school_id: int | None = None
    school_admin: bool = False   # signs off completions for ``school_id``
    test_user: bool = False      # Canvas Student View: may look, never earns or reviews
    canvas_user_id: str | None = None
    resource_link_id: str | None = None
    course_context_id: int | None = None  # the stored CourseContext: where the gradebook and roster are
    placement_id: int | None = None       # the stored Placement of the resource link, if launched from one

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_district_admin(self) -> bool:
        return Role.DISTRICT_ADMIN in self.roles

    @property
    def is_facilitator(self) -> bool:
        return Role.FACILITATOR in self.roles

    @property
    def may_earn(self) -> bool:
        return Role.TEACHER in self.roles and not self.test_user

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["roles"] = sorted(r.value for r in self.roles)
        if self.course is not None:
            data["course"]["section_ids"] = list(self.course.section_ids)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Actor:
        """Sessions opened by an earlier release may carry fields that no longer exist: they are dropped."""
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        data["roles"] = frozenset(Role(r) for r in data["roles"])
        if data.get("course"):
            course = dict(data["course"])
            course["section_ids"] = tuple(course.get("section_ids") or ())
            data["course"] = Course(**course)
        return cls(**data)

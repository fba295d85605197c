"""The typed actor every service takes: who is acting, as what, where. Built once per launch for a person;
``Actor.system`` for Microcred's own work (the worker, district IT's commands), always within one district."""
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
    user_id: int | None          # None only for the system actor
    district_id: int             # the tenant: every service scopes its queries by it
    roles: frozenset[Role]
    registration_id: int | None  # the platform the person launched from (None for the system)
    deployment_id: str | None
    course: Course | None = None
    school_id: int | None = None
    school_admin: bool = False   # signs off completions for ``school_id``
    test_user: bool = False      # Canvas Student View: may look, never earns or reviews
    canvas_user_id: str | None = None
    resource_link_id: str | None = None
    course_context_id: int | None = None  # the stored CourseContext: where the gradebook and roster are
    placement_id: int | None = None       # the stored Placement of the resource link, if launched from one
    system: str | None = None    # for Microcred's own work: what runs it ("worker", "command line")
    locale: str | None = None    # "es_MX": the launch's locale, or the language the person chose since
    return_url: str | None = None  # the platform's way back (launch_presentation.return_url), http(s) only

    @classmethod
    def for_system(cls, district_id: int, name: str) -> Actor:
        """Microcred itself acting in one district: the award worker, a command district IT runs. It passes
        the checks that guard administration (it is how IT seeds and repairs) but never earns or reviews."""
        return cls(user_id=None, district_id=district_id, roles=frozenset(), registration_id=None,
                   deployment_id=None, system=name)

    @property
    def is_system(self) -> bool:
        return self.system is not None

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

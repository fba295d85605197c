"""Names and Role Provisioning Services (NRPS 2.0): the roster of a course, as Canvas serves it.

Canvas pages the members with ``limit`` (at most 50; more is silently cut to 50) and a
``Link: <...>; rel="next"`` header, and lists only active enrollments; other platforms may also list
``Inactive`` or ``Deleted`` members, which never count here. What a member carries depends on the developer
key's privacy level: ``name``/``email`` may be missing. With ``rlid`` (a resource link id) each member
also carries ``message`` claims, such as the custom variables of that link (Canvas: its own user id).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lti_tool.lti.roles import Role, map_roles
from lti_tool.lti.services import errors
from lti_tool.lti.services.client import PlatformClient, with_query
from lti_tool.lti.services.scopes import NRPS

MEMBERSHIP_MEDIA = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGE_SIZE = 50
CUSTOM_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/custom"


@dataclass(frozen=True)
class Member:
    user_id: str  # the LTI user id, the ``sub`` of this user's launches
    roles: tuple[str, ...]
    status: str = "Active"
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    picture: str | None = None
    lis_person_sourcedid: str | None = None
    lti11_legacy_user_id: str | None = None
    messages: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def active(self) -> bool:
        return self.status == "Active"

    @property
    def mapped_roles(self) -> tuple[frozenset[Role], bool]:
        """The project's roles and whether this is Canvas's Student View user (see ``roles.map_roles``)."""
        return map_roles(self.roles)

    @property
    def custom(self) -> dict[str, Any]:
        """Custom variables from the member's message claims (only with ``rlid``), first message first."""
        merged: dict[str, Any] = {}
        for message in reversed(self.messages):
            claim = message.get(CUSTOM_CLAIM)
            if isinstance(claim, dict):
                merged.update(claim)
        return merged

    @classmethod
    def from_json(cls, data: Any) -> Member | None:
        if not isinstance(data, dict) or data.get("user_id") in (None, ""):
            return None
        messages = data.get("message") or ()
        if isinstance(messages, dict):
            messages = (messages,)
        text = {key: str(data[key]) if data.get(key) is not None else None
                for key in ("name", "given_name", "family_name", "email", "picture", "lis_person_sourcedid",
                            "lti11_legacy_user_id")}
        roles = data.get("roles") or ()
        roles = (roles,) if isinstance(roles, str) else roles
        return cls(user_id=str(data["user_id"]), roles=tuple(str(r) for r in roles),
                   status=str(data.get("status") or "Active"),
                   messages=tuple(m for m in messages if isinstance(m, dict)), **text)


@dataclass(frozen=True)
class Roster:
    context: dict[str, Any]  # id, label, title as the platform sent them
    members: list[Member]    # active members only, each user once


def roster(client: PlatformClient, memberships_url: str, *, resource_link_id: str | None = None,
           role: str | None = None, page_size: int = MAX_PAGE_SIZE) -> Roster:
    """Every active member of the context behind ``memberships_url`` (the launch's NRPS claim)."""
    limit = max(1, min(page_size, MAX_PAGE_SIZE))
    url = with_query(memberships_url, rlid=resource_link_id, role=role, limit=limit)
    context: dict[str, Any] = {}
    members: dict[str, Member] = {}
    for response in client.pages(url, scopes=[NRPS], accept=MEMBERSHIP_MEDIA, doing="reading the course roster"):
        body = client.json(response, doing="reading the course roster")
        if not isinstance(body, dict) or not isinstance(body.get("members", []), list):
            raise errors.PlatformServiceError(f"{client.platform} sent the roster in an unknown shape.")
        if not context and isinstance(body.get("context"), dict):
            context = body["context"]
        for item in body.get("members", []):
            member = Member.from_json(item)
            if member is not None and member.active:
                members.setdefault(member.user_id, member)
    return Roster(context=context, members=list(members.values()))


def members(client: PlatformClient, memberships_url: str, **options: Any) -> list[Member]:
    return roster(client, memberships_url, **options).members

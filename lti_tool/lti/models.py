"""What the tool keeps about platforms, its own keys, launches in flight, and sessions."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, utcnow


class Registration(Base):
    """One platform registration (a Canvas developer key): issuer + client_id, within one district."""

    __tablename__ = "lti_registration"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(500))
    auth_token_url: Mapped[str] = mapped_column(String(500))
    key_set_url: Mapped[str] = mapped_column(String(500))
    # The platform's JWKS, cached; refetched only when a launch names an unknown kid.
    key_set: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    key_set_fetched_at: Mapped[datetime | None]
    # Scopes the platform granted (dynamic registration answers them; an admin may narrow them later).
    scopes: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deployments: Mapped[list[Deployment]] = relationship(back_populates="registration", cascade="all, delete-orphan",
                                                         order_by="Deployment.id")

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.issuer} {self.client_id}>"


class Deployment(Base):
    """A deployment id under a registration (Canvas: one per account or course where the key is installed)."""

    __tablename__ = "lti_deployment"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="deployments")


class ToolKey(Base):
    """The tool's RSA signing keys. The newest is current; the one before stays in the JWKS after rotation."""

    __tablename__ = "lti_tool_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginState(Base):
    """An OIDC login in flight: state and nonce, each usable once, for a few minutes."""

    __tablename__ = "lti_login_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(100), unique=True)
    nonce: Mapped[str] = mapped_column(String(100), unique=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registration.id", ondelete="CASCADE"))
    # Platform Storage: a secret kept in the platform's frame instead of a cookie, when cookies are blocked.
    storage_secret: Mapped[str | None] = mapped_column(String(100))
    storage_target: Mapped[str | None] = mapped_column(String(100))
    # The login request's parameters, to offer "open in a new window" when the frame cannot keep state.
    login_params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class UsedInvite(Base):
    """A Dynamic Registration invite already spent: each invite registers one platform, once."""

    __tablename__ = "lti_used_invite"

    invite_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateLimit(Base):
    """A fixed-window counter shared by every worker (e.g. OIDC logins per client address)."""

    __tablename__ = "lti_rate_limit"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime]
    hits: Mapped[int] = mapped_column(default=0)


class LaunchRecord(Base):
    """The validated claims of one launch, shared by every worker (pylti1p3 keeps them per process)."""

    __tablename__ = "lti_launch"

    id: Mapped[int] = mapped_column(primary_key=True)
    launch_id: Mapped[str] = mapped_column(String(64), unique=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    claims: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ToolSession(Base):
    """A browser session bound to one launch: the typed actor, never the raw claims."""

    __tablename__ = "lti_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    launch_id: Mapped[int] = mapped_column(ForeignKey("lti_launch.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"), index=True)
    actor: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AccessToken(Base):
    """An OAuth2 access token for the platform's services, cached per registration and scope set."""

    __tablename__ = "lti_access_token"
    __table_args__ = (UniqueConstraint("registration_id", "scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registration.id", ondelete="CASCADE"))
    scope_key: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]


class CourseContext(Base):
    """A course the tool was launched from, as the platform last described it: where its gradebook (AGS
    line items) and roster (NRPS memberships) are. Updated by every launch; outlives the purged launches."""

    __tablename__ = "lti_course_context"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registration.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    canvas_course_id: Mapped[str | None] = mapped_column(String(64))
    line_items_url: Mapped[str | None] = mapped_column(String(1000))
    memberships_url: Mapped[str | None] = mapped_column(String(1000))
    ags_scopes: Mapped[list[str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    placements: Mapped[list[Placement]] = relationship(back_populates="course", cascade="all, delete-orphan",
                                                       order_by="Placement.id")


class Placement(Base):
    """A resource link in a course: what an instructor placed there (an MC or a stack, named by the custom
    parameters deep linking set) and its gradebook column, once a launch names it."""

    __tablename__ = "lti_placement"
    __table_args__ = (UniqueConstraint("course_context_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_context_id: Mapped[int] = mapped_column(ForeignKey("lti_course_context.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(16))   # "mc" or "stack"
    slug: Mapped[str | None] = mapped_column(String(100))
    line_item_url: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[CourseContext] = relationship(back_populates="placements")


class FrameOrigin(Base):
    """A site a platform's launches came from (the page that frames the tool: a Canvas's own domain), read
    from the launch's return URL and service URLs. Pages name these in CSP ``frame-ancestors``."""

    __tablename__ = "lti_frame_origin"
    __table_args__ = (UniqueConstraint("registration_id", "origin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registration.id", ondelete="CASCADE"))
    origin: Mapped[str] = mapped_column(String(255))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

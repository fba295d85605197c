from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, utcnow


class District(Base):
    """A tenant: one school district. Every row that belongs to a district is scoped by ``district_id``."""

    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # District-wide defaults a micro-credential may override (see catalog.policy).
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    schools: Mapped[list[School]] = relationship(back_populates="district", order_by="School.name")

    def __repr__(self) -> str:
        return f"<District {self.slug}>"


class School(Base):
    __tablename__ = "school"
    __table_args__ = (UniqueConstraint("district_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    district: Mapped[District] = relationship(back_populates="schools")

    def __repr__(self) -> str:
        return f"<School {self.code}>"


class User(Base):
    """The local identity of one platform user: (issuer, subject) from the launch, within one district.

    Name and email are whatever the platform's privacy level shares; they are never logged.
    """

    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="SET NULL"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    # The language the person chose in Microcred ("es_MX"); it wins over the platform's locale at each launch.
    preferred_locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    district: Mapped[District] = relationship()
    school: Mapped[School | None] = relationship()

    def __repr__(self) -> str:  # no personal data in reprs: they end up in logs and tracebacks
        return f"<User {self.id}>"


class SchoolAdmin(Base):
    """A user designated (by a district admin or from the SIS) to approve plans and sign off for a school."""

    __tablename__ = "school_admin"
    __table_args__ = (UniqueConstraint("school_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CourseSchool(Base):
    """Maps a Canvas course (or one of its sections) to a school, so launches from it know their school.
    (The table keeps its first name, ``lti_course_school``.)"""

    __tablename__ = "lti_course_school"
    __table_args__ = (UniqueConstraint("district_id", "kind", "platform_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "course" or "section"
    platform_id: Mapped[str] = mapped_column(String(255))  # $Canvas.course.id / a section id, or the context id
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))


class DistrictAdmin(Base):
    """A user designated to run the district in Microcred: catalog, credit rules, schools, reports.

    An LMS role never makes anyone a district admin (Canvas sends the same ``institution/person#Administrator``
    to a school's sub-account admins as to the root account's): district IT designates the first one on the
    server (``flask --app wsgi people grant-district-admin``), district admins designate the rest.
    """

    __tablename__ = "district_admin"
    __table_args__ = (UniqueConstraint("district_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

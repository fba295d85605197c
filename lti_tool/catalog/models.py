"""The catalog: micro-credentials and stacks, each with immutable published versions, and school offerings.

A version's content is its catalog document (``document.py``), stored whole: a published version never
changes, so a teacher who started on version 1 keeps its tasks and rubric while version 2 is current.
Columns beside the document carry what lists filter and sort on. Each MC and stack points at its published
version (``published_version_id``, kept by publishing), so a list joins it in SQL instead of loading every
version of every item.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from lti_tool.db import Base, utcnow


class Status(str, enum.Enum):
    DRAFT = "draft"          # never published: editable, deletable
    PUBLISHED = "published"  # offered; edits make a new draft version
    RETIRED = "retired"      # no new pursuits; existing ones finish on their version


class VersionState(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


_status = Enum(Status, name="catalog_status", values_callable=lambda e: [m.value for m in e], native_enum=False,
               length=16)
_state = Enum(VersionState, name="catalog_version_state", values_callable=lambda e: [m.value for m in e],
              native_enum=False, length=16)


class _CatalogItem:
    """What an MC and a stack share: a district, a slug unique in it, a status."""

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(100))
    status: Mapped[Status] = mapped_column(_status, default=Status.DRAFT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class _Version:
    """What every version shares: its number, state, the document, and an optimistic-lock counter."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int]
    state: Mapped[VersionState] = mapped_column(_state, default=VersionState.DRAFT)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    # Optimistic locking: an edit that started from an older row is refused instead of overwriting.
    edit_lock: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.edit_lock}


class MicroCredential(_CatalogItem, Base):
    """One micro-credential across its versions (reports group by this)."""

    __tablename__ = "micro_credential"
    __table_args__ = (UniqueConstraint("district_id", "slug"),)

    # The version teachers start now; it stays set when the MC is retired (pursuits finish on it), and the
    # version it names cannot be deleted while it does.
    published_version_id: Mapped[int | None] = mapped_column(ForeignKey("mc_version.id", use_alter=True))

    versions: Mapped[list[McVersion]] = relationship(back_populates="micro_credential", order_by="McVersion.number",
                                                     cascade="all, delete-orphan", foreign_keys="McVersion.mc_id")
    published: Mapped[McVersion | None] = relationship(foreign_keys=[published_version_id], post_update=True)


class McVersion(_Version, Base):
    __tablename__ = "mc_version"
    __table_args__ = (UniqueConstraint("mc_id", "number"),)

    mc_id: Mapped[int] = mapped_column(ForeignKey("micro_credential.id", ondelete="CASCADE"), index=True)
    grade_band: Mapped[str] = mapped_column(String(20))
    topics: Mapped[list[str]] = mapped_column(JSON)
    effort_hours: Mapped[int]

    micro_credential: Mapped[MicroCredential] = relationship(back_populates="versions", foreign_keys=[mc_id])


class Stack(_CatalogItem, Base):
    __tablename__ = "stack"
    __table_args__ = (UniqueConstraint("district_id", "slug"),)

    published_version_id: Mapped[int | None] = mapped_column(ForeignKey("stack_version.id", use_alter=True))

    versions: Mapped[list[StackVersion]] = relationship(
        back_populates="stack", order_by="StackVersion.number", cascade="all, delete-orphan",
        foreign_keys="StackVersion.stack_id")
    published: Mapped[StackVersion | None] = relationship(foreign_keys=[published_version_id], post_update=True)


class StackVersion(_Version, Base):
    __tablename__ = "stack_version"
    __table_args__ = (UniqueConstraint("stack_id", "number"),)

    stack_id: Mapped[int] = mapped_column(ForeignKey("stack.id", ondelete="CASCADE"), index=True)

    stack: Mapped[Stack] = relationship(back_populates="versions", foreign_keys=[stack_id])


class SchoolOffering(Base):
    """A school offers a published MC or stack to its teachers; a few may be featured."""

    __tablename__ = "school_offering"
    __table_args__ = (
        UniqueConstraint("school_id", "mc_id"),
        UniqueConstraint("school_id", "stack_id"),
        CheckConstraint("(mc_id IS NULL) <> (stack_id IS NULL)", name="one_item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    mc_id: Mapped[int | None] = mapped_column(ForeignKey("micro_credential.id", ondelete="CASCADE"))
    stack_id: Mapped[int | None] = mapped_column(ForeignKey("stack.id", ondelete="CASCADE"))
    featured: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

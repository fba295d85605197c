"""For tests of data migrations: a database brought to an earlier revision, and its tables as they were then."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from lti_tool.migrate import alembic_config


def database_at(url: str, revision: str) -> tuple[sa.Engine, dict[str, sa.Table]]:
    """Upgrade the empty database at ``url`` to ``revision``; return an engine and its tables, reflected (the
    models describe the newest schema, not that revision's)."""
    command.upgrade(alembic_config(url), revision)
    engine = sa.create_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine)
    return engine, tables.tables


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)

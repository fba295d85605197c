"""The migrations build exactly the schema the models describe, and run down and up again."""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from lti_tool.migrate import alembic_config, head_revisions
from lti_tool.models import Base


def _tables(url):
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_matches_models_then_down_and_up(empty_db_url):
    config = alembic_config(empty_db_url)
    command.upgrade(config, "head")

    engine = create_engine(empty_db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
        assert set(context.get_current_heads()) == head_revisions()
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"
    assert set(Base.metadata.tables) <= _tables(empty_db_url)

    command.downgrade(config, "base")
    assert _tables(empty_db_url) <= {"alembic_version"}

    command.upgrade(config, "head")
    assert set(Base.metadata.tables) <= _tables(empty_db_url)


def test_every_revision_file_is_date_prefixed():
    from lti_tool.migrate import MIGRATIONS_DIR
    import re

    names = [p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py")]
    assert names and all(re.match(r"\d{4}_\d{2}_\d{2}_\d{4}_\w+\.py$", n) for n in names), names

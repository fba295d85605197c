"""catalog published pointer: each MC and stack points at its published version

Lists join the published version in SQL instead of loading every version of every item. The backfill points
each item at its published version (the highest-numbered, should there be several).

On SQLite the column is added with ALTER TABLE ADD COLUMN rather than a batch copy of the table: copying
drops the old table, and with foreign keys enforced that drop would cascade to every version and offering.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

ITEMS = (('micro_credential', 'mc_version', 'mc_id'), ('stack', 'stack_version', 'stack_id'))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, versions, owner in ITEMS:
        name = f'fk_{table}_published_version_id_{versions}'
        if sqlite:
            op.execute(f'ALTER TABLE {table} ADD COLUMN published_version_id INTEGER '
                       f'CONSTRAINT {name} REFERENCES {versions} (id)')
        else:
            op.add_column(table, sa.Column('published_version_id', sa.Integer(), nullable=True))
            op.create_foreign_key(name, table, versions, ['published_version_id'], ['id'])
        op.execute(f"UPDATE {table} SET published_version_id = (SELECT v.id FROM {versions} v "
                   f"WHERE v.{owner} = {table}.id AND v.state = 'published' ORDER BY v.number DESC LIMIT 1)")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, versions, _ in reversed(ITEMS):
        if not sqlite:  # SQLite drops a column's own REFERENCES clause with the column
            op.drop_constraint(f'fk_{table}_published_version_id_{versions}', table, type_='foreignkey')
        op.drop_column(table, 'published_version_id')

"""preferred locale: the language a person chose in Microcred, kept across launches

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both engines (SQLite 3.35+ drops columns itself): a batch copy of user_account would
# drop the old table, and with foreign keys on that deletes every row that cascades from a user.
def upgrade() -> None:
    op.add_column('user_account', sa.Column('preferred_locale', sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column('user_account', 'preferred_locale')


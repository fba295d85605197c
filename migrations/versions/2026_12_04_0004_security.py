"""security: designated district admins, single-use registration invites, rate-limit counters

No one is designated on upgrade: an LMS Administrator role no longer makes a district admin, so district IT
grants the first one with `flask --app wsgi people grant-district-admin`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import lti_tool.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lti_rate_limit',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('window_start', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_lti_rate_limit'))
    )
    op.create_table('lti_used_invite',
    sa.Column('invite_id', sa.String(length=64), nullable=False),
    sa.Column('used_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('invite_id', name=op.f('pk_lti_used_invite'))
    )
    op.create_table('district_admin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_district_admin_district_id_district'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_district_admin_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_district_admin')),
    sa.UniqueConstraint('district_id', 'user_id', name=op.f('uq_district_admin_district_id_user_id'))
    )
    with op.batch_alter_table('district_admin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_district_admin_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_district_admin_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('district_admin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_district_admin_user_id'))
        batch_op.drop_index(batch_op.f('ix_district_admin_district_id'))

    op.drop_table('district_admin')
    op.drop_table('lti_used_invite')
    op.drop_table('lti_rate_limit')

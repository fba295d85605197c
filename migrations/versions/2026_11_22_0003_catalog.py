"""catalog

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import lti_tool.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('micro_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'retired', name='catalog_status', native_enum=False, length=16), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_micro_credential_district_id_district'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_micro_credential')),
    sa.UniqueConstraint('district_id', 'slug', name=op.f('uq_micro_credential_district_id_slug'))
    )
    with op.batch_alter_table('micro_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_micro_credential_district_id'), ['district_id'], unique=False)

    op.create_table('stack',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'retired', name='catalog_status', native_enum=False, length=16), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_stack_district_id_district'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stack')),
    sa.UniqueConstraint('district_id', 'slug', name=op.f('uq_stack_district_id_slug'))
    )
    with op.batch_alter_table('stack', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stack_district_id'), ['district_id'], unique=False)

    op.create_table('mc_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mc_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'published', 'superseded', name='catalog_version_state', native_enum=False, length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('grade_band', sa.String(length=20), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('effort_hours', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('edit_lock', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['mc_id'], ['micro_credential.id'], name=op.f('fk_mc_version_mc_id_micro_credential'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mc_version')),
    sa.UniqueConstraint('mc_id', 'number', name=op.f('uq_mc_version_mc_id_number'))
    )
    with op.batch_alter_table('mc_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mc_version_mc_id'), ['mc_id'], unique=False)

    op.create_table('school_offering',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('mc_id', sa.Integer(), nullable=True),
    sa.Column('stack_id', sa.Integer(), nullable=True),
    sa.Column('featured', sa.Boolean(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(mc_id IS NULL) <> (stack_id IS NULL)', name=op.f('ck_school_offering_one_item')),
    sa.ForeignKeyConstraint(['mc_id'], ['micro_credential.id'], name=op.f('fk_school_offering_mc_id_micro_credential'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_school_offering_school_id_school'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stack_id'], ['stack.id'], name=op.f('fk_school_offering_stack_id_stack'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_offering')),
    sa.UniqueConstraint('school_id', 'mc_id', name=op.f('uq_school_offering_school_id_mc_id')),
    sa.UniqueConstraint('school_id', 'stack_id', name=op.f('uq_school_offering_school_id_stack_id'))
    )
    with op.batch_alter_table('school_offering', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_offering_school_id'), ['school_id'], unique=False)

    op.create_table('stack_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stack_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'published', 'superseded', name='catalog_version_state', native_enum=False, length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('edit_lock', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['stack_id'], ['stack.id'], name=op.f('fk_stack_version_stack_id_stack'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stack_version')),
    sa.UniqueConstraint('stack_id', 'number', name=op.f('uq_stack_version_stack_id_number'))
    )
    with op.batch_alter_table('stack_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stack_version_stack_id'), ['stack_id'], unique=False)

    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))



def downgrade() -> None:
    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.drop_column('policy')

    with op.batch_alter_table('stack_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stack_version_stack_id'))

    op.drop_table('stack_version')
    with op.batch_alter_table('school_offering', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_offering_school_id'))

    op.drop_table('school_offering')
    with op.batch_alter_table('mc_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mc_version_mc_id'))

    op.drop_table('mc_version')
    with op.batch_alter_table('stack', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stack_district_id'))

    op.drop_table('stack')
    with op.batch_alter_table('micro_credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_micro_credential_district_id'))

    op.drop_table('micro_credential')

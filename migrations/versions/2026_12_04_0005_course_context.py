"""course context: where each course's gradebook and roster are, and what each resource link placed

Filled by launches from now on (a course is known again at its next launch).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import lti_tool.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lti_course_context',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('canvas_course_id', sa.String(length=64), nullable=True),
    sa.Column('line_items_url', sa.String(length=1000), nullable=True),
    sa.Column('memberships_url', sa.String(length=1000), nullable=True),
    sa.Column('ags_scopes', sa.JSON(), nullable=True),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_lti_course_context_district_id_district'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['lti_registration.id'], name=op.f('fk_lti_course_context_registration_id_lti_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_course_context')),
    sa.UniqueConstraint('registration_id', 'deployment_id', 'context_id', name=op.f('uq_lti_course_context_registration_id_deployment_id_context_id'))
    )
    with op.batch_alter_table('lti_course_context', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_course_context_district_id'), ['district_id'], unique=False)

    op.create_table('lti_placement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_context_id', sa.Integer(), nullable=False),
    sa.Column('resource_link_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('slug', sa.String(length=100), nullable=True),
    sa.Column('line_item_url', sa.String(length=1000), nullable=True),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_context_id'], ['lti_course_context.id'], name=op.f('fk_lti_placement_course_context_id_lti_course_context'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_placement')),
    sa.UniqueConstraint('course_context_id', 'resource_link_id', name=op.f('uq_lti_placement_course_context_id_resource_link_id'))
    )


def downgrade() -> None:
    op.drop_table('lti_placement')
    with op.batch_alter_table('lti_course_context', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_course_context_district_id'))

    op.drop_table('lti_course_context')

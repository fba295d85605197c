"""lti registrations keys launches sessions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import lti_tool.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lti_tool_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_tool_key')),
    sa.UniqueConstraint('kid', name=op.f('uq_lti_tool_key_kid'))
    )
    op.create_table('lti_registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('auth_login_url', sa.String(length=500), nullable=False),
    sa.Column('auth_token_url', sa.String(length=500), nullable=False),
    sa.Column('key_set_url', sa.String(length=500), nullable=False),
    sa.Column('key_set', sa.JSON(), nullable=True),
    sa.Column('key_set_fetched_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('scopes', sa.JSON(), nullable=True),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_lti_registration_district_id_district'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_registration')),
    sa.UniqueConstraint('issuer', 'client_id', name=op.f('uq_lti_registration_issuer_client_id'))
    )
    with op.batch_alter_table('lti_registration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_registration_district_id'), ['district_id'], unique=False)

    op.create_table('lti_access_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('scope_key', sa.String(length=64), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('expires_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['lti_registration.id'], name=op.f('fk_lti_access_token_registration_id_lti_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_access_token')),
    sa.UniqueConstraint('registration_id', 'scope_key', name=op.f('uq_lti_access_token_registration_id_scope_key'))
    )
    op.create_table('lti_course_school',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('platform_id', sa.String(length=255), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_lti_course_school_district_id_district'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_lti_course_school_school_id_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_course_school')),
    sa.UniqueConstraint('district_id', 'kind', 'platform_id', name=op.f('uq_lti_course_school_district_id_kind_platform_id'))
    )
    op.create_table('lti_deployment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['lti_registration.id'], name=op.f('fk_lti_deployment_registration_id_lti_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_deployment')),
    sa.UniqueConstraint('registration_id', 'deployment_id', name=op.f('uq_lti_deployment_registration_id_deployment_id'))
    )
    with op.batch_alter_table('lti_deployment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_deployment_registration_id'), ['registration_id'], unique=False)

    op.create_table('lti_login_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=100), nullable=False),
    sa.Column('nonce', sa.String(length=100), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('storage_secret', sa.String(length=100), nullable=True),
    sa.Column('storage_target', sa.String(length=100), nullable=True),
    sa.Column('login_params', sa.JSON(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['registration_id'], ['lti_registration.id'], name=op.f('fk_lti_login_state_registration_id_lti_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_login_state')),
    sa.UniqueConstraint('nonce', name=op.f('uq_lti_login_state_nonce')),
    sa.UniqueConstraint('state', name=op.f('uq_lti_login_state_state'))
    )
    op.create_table('lti_launch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('launch_id', sa.String(length=64), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('claims', sa.JSON(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['lti_registration.id'], name=op.f('fk_lti_launch_registration_id_lti_registration'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_lti_launch_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_launch')),
    sa.UniqueConstraint('launch_id', name=op.f('uq_lti_launch_launch_id'))
    )
    with op.batch_alter_table('lti_launch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_launch_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_launch_registration_id'), ['registration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_launch_user_id'), ['user_id'], unique=False)

    op.create_table('school_admin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_school_admin_school_id_school'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_school_admin_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_admin')),
    sa.UniqueConstraint('school_id', 'user_id', name=op.f('uq_school_admin_school_id_user_id'))
    )
    with op.batch_alter_table('school_admin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_admin_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_school_admin_user_id'), ['user_id'], unique=False)

    op.create_table('lti_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('launch_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.JSON(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_lti_session_district_id_district'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['launch_id'], ['lti_launch.id'], name=op.f('fk_lti_session_launch_id_lti_launch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_lti_session_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_lti_session_token_hash'))
    )
    with op.batch_alter_table('lti_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_session_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_session_launch_id'), ['launch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_session_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('lti_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_lti_session_launch_id'))
        batch_op.drop_index(batch_op.f('ix_lti_session_expires_at'))
        batch_op.drop_index(batch_op.f('ix_lti_session_district_id'))

    op.drop_table('lti_session')
    with op.batch_alter_table('school_admin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_admin_user_id'))
        batch_op.drop_index(batch_op.f('ix_school_admin_school_id'))

    op.drop_table('school_admin')
    with op.batch_alter_table('lti_launch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_launch_user_id'))
        batch_op.drop_index(batch_op.f('ix_lti_launch_registration_id'))
        batch_op.drop_index(batch_op.f('ix_lti_launch_expires_at'))

    op.drop_table('lti_launch')
    op.drop_table('lti_login_state')
    with op.batch_alter_table('lti_deployment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_deployment_registration_id'))

    op.drop_table('lti_deployment')
    op.drop_table('lti_course_school')
    op.drop_table('lti_access_token')
    with op.batch_alter_table('lti_registration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_registration_district_id'))

    op.drop_table('lti_registration')
    op.drop_table('lti_tool_key')

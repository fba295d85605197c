"""frame origins: the sites each platform's launches came from, for CSP frame-ancestors

Filled by launches from now on; until a platform launches again, its course contexts' service URLs are
copied in below, so pages framed by a known Canvas site stay framable after the upgrade.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""
from datetime import datetime, timezone
from urllib.parse import urlsplit

from alembic import op
import sqlalchemy as sa
import lti_tool.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lti_frame_origin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=255), nullable=False),
    sa.Column('first_seen_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['lti_registration.id'], name=op.f('fk_lti_frame_origin_registration_id_lti_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_frame_origin')),
    sa.UniqueConstraint('registration_id', 'origin', name=op.f('uq_lti_frame_origin_registration_id_origin'))
    )
    bind = op.get_bind()
    seen = set()
    for registration_id, *urls in bind.execute(sa.text(
            "SELECT registration_id, line_items_url, memberships_url FROM lti_course_context")):
        for url in urls:
            parts = urlsplit(url or "")
            if parts.scheme in ("http", "https") and parts.hostname and "@" not in parts.netloc:
                seen.add((registration_id, f"{parts.scheme}://{parts.netloc.lower()}"[:255]))
    frame_origin = sa.table("lti_frame_origin", sa.column("registration_id"), sa.column("origin"),
                            sa.column("first_seen_at", lti_tool.db.UTCDateTime(timezone=True)))
    now = datetime.now(timezone.utc)
    if seen:
        op.bulk_insert(frame_origin, [{"registration_id": r, "origin": o, "first_seen_at": now}
                                      for r, o in sorted(seen)])


def downgrade() -> None:
    op.drop_table('lti_frame_origin')

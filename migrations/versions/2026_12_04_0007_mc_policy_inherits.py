"""micro-credentials inherit the district's rules: drop the policy values no one chose

Until now every MC document had to set plan_approval, attempts, cooldown_days and window_days, and the editor
and the sample catalog filled in false, 3, 30 and null: so a district's own rules never applied. A rule an MC
leaves out now follows the district's. This data migration walks every MC version's document and removes
each policy value equal to what the old schema and editor forced (plan_approval false, attempts 3,
cooldown_days 30, window_days null), which no one chose; it keeps every value that differs, a deliberate
override of the district. A window of 0 days (shown as "no window") becomes "none", the new spelling of no
window. A policy left empty is removed. Downgrading writes the forced values back where a rule is missing
("none" becomes null), the shape the old schema requires.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

FORCED = {'plan_approval': False, 'attempts': 3, 'cooldown_days': 30, 'window_days': None}
versions = sa.table('mc_version', sa.column('id', sa.Integer), sa.column('document', sa.JSON))


def _chosen(key, value) -> bool:
    forced = FORCED.get(key, object())
    return not (value == forced and type(value) is type(forced))  # 1 == True: compare the types too


def inherit(document: dict) -> dict:
    policy = document.get('policy')
    if not isinstance(policy, dict):
        return document
    kept = {k: ('none' if k == 'window_days' and v == 0 else v) for k, v in policy.items() if _chosen(k, v)}
    changed = dict(document, policy=kept)
    if not kept:
        del changed['policy']
    return changed


def spell_out(document: dict) -> dict:
    policy = dict(FORCED, **{k: (None if v == 'none' else v) for k, v in (document.get('policy') or {}).items()})
    changed = {}
    for key, value in document.items():
        if key != 'policy':
            changed[key] = value
        if key == 'prerequisites':  # where the old documents kept it, so their canonical text is the same
            changed['policy'] = policy
    changed.setdefault('policy', policy)
    return changed


def _rewrite(change) -> None:
    connection = op.get_bind()
    for row in connection.execute(sa.select(versions.c.id, versions.c.document)).all():
        document = change(row.document)
        if document != row.document:
            connection.execute(versions.update().where(versions.c.id == row.id).values(document=document))


def upgrade() -> None:
    _rewrite(inherit)


def downgrade() -> None:
    _rewrite(spell_out)

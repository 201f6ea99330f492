"""a monotonically increasing change sequence on referrals for lossless provider sync

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 18:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


SEQUENCE = 'referral_change_seq'


def upgrade() -> None:
    """Upgrade schema: change_xid and change_seq on referrals (existing rows numbered in issue order), their
    provider index and, on PostgreSQL, the sequence (see referral.adapters.provider_sync_repository)."""
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        op.execute(f'CREATE SEQUENCE {SEQUENCE} AS bigint')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('change_xid', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('change_seq', sa.BigInteger(), server_default='0', nullable=False))
    if postgresql:
        op.execute(f"UPDATE referrals SET change_seq = numbered.seq FROM (SELECT referral_id, nextval('{SEQUENCE}') "
                   "AS seq FROM (SELECT referral_id FROM referrals ORDER BY issued_at, referral_id) AS ordered) "
                   "AS numbered WHERE referrals.referral_id = numbered.referral_id")
    else:
        op.execute('UPDATE referrals SET change_seq = (SELECT count(*) FROM referrals AS earlier WHERE '
                   '(earlier.issued_at, earlier.referral_id) <= (referrals.issued_at, referrals.referral_id))')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_provider_change', ['provider_id', 'change_xid', 'change_seq'],
                              unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_provider_change')
        batch_op.drop_column('change_seq')
        batch_op.drop_column('change_xid')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'DROP SEQUENCE {SEQUENCE}')

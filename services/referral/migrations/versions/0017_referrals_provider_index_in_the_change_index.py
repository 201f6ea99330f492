"""referrals loses ix_referrals_provider_id: ix_referrals_provider_change leads with provider_id

Every query by provider (its open referrals, its sync pages) is served by ix_referrals_provider_change (provider_id,
change_xid, change_seq). Each save rewrites the row with a new change stamp, an indexed column, so PostgreSQL adds an
entry to every index of the table: one index fewer is one insertion fewer per push and lifecycle move.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 22:40:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_provider_id')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_provider_id', ['provider_id'], unique=False)

"""Idempotency-Keys in the platform's shape: the first answer stored (sealed) with the key, and an expiry

The registry moves onto `simpul_platform.idempotency`: a retry replays the stored answer, a key expires after
`REGISTRY_IDEMPOTENCY_KEY_HOURS` and a job purges it. Keys stored before this revision are expired, i.e. deleted:
they hold no answer to replay, and their fingerprints were computed another way (a retry would be refused as another
request). A client retrying a create it sent before the upgrade therefore creates again; deploy when field clients are
idle. The downgrade deletes the keys for the same reasons.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:45:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema: expire every stored key, then the platform's columns (answer, expiry) instead of resource_id."""
    op.execute("DELETE FROM idempotency_keys")
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.alter_column('key', existing_type=sa.String(length=200), type_=sa.String(length=255),
                              existing_nullable=False)
        batch_op.drop_column('resource_id')
        batch_op.add_column(sa.Column('status', sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('body', sa.LargeBinary(), nullable=False))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False))
        batch_op.create_index(batch_op.f('ix_idempotency_keys_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema: the stored answers cannot name a resource again, so the keys go."""
    op.execute("DELETE FROM idempotency_keys")
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_expires_at'))
        batch_op.drop_column('expires_at')
        batch_op.drop_column('body')
        batch_op.drop_column('status')
        batch_op.add_column(sa.Column('resource_id', sa.String(length=64), nullable=False))
        batch_op.alter_column('key', existing_type=sa.String(length=255), type_=sa.String(length=200),
                              existing_nullable=False)

"""erasure: children keep when their identifying data was erased; the outbox holds tombstones (null payloads)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 22:10:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('children') as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.alter_column('payload', existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    """Downgrade schema (unsent tombstones are dropped: an old relay cannot send them)."""
    op.execute("DELETE FROM outbox WHERE payload IS NULL")
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.alter_column('payload', existing_type=sa.LargeBinary(), nullable=False)
    with op.batch_alter_table('children') as batch_op:
        batch_op.drop_column('erased_at')

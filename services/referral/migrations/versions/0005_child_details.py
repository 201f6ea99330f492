"""minimal child details for referral, encrypted

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # `details` holds AES-256-GCM field tokens (simpul_platform.field_encryption), never plaintext.
    op.create_table('child_details',
    sa.Column('child_id', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('review_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('child_id')
    )
    with op.batch_alter_table('child_details', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_child_details_review_at'), ['review_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('child_details', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_child_details_review_at'))

    op.drop_table('child_details')

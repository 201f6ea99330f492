"""source records keep when the source recorded their details: a replayed older version never overwrites them

Rows written before this revision have no time (NULL): the first details that arrive set it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 19:45:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('source_records', sa.Column('details_recorded_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('source_records', 'details_recorded_at')

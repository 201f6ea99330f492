"""known persons keep when identity linked them: a replayed older link never replaces a newer one

Rows written before this revision have no time (NULL): the next link replaces them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 19:45:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('known_persons', sa.Column('linked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('known_persons', 'linked_at')

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


def upgrade() -> None:
    """Filled by the area that owns this revision."""


def downgrade() -> None:
    """Filled by the area that owns this revision."""

"""service records with outcome and attachments, and idempotency keys

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 18:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Filled by the area that owns this revision."""


def downgrade() -> None:
    """Filled by the area that owns this revision."""

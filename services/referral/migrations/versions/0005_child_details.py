"""minimal child details for referral, encrypted

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:40:00.000000

"""
from typing import Sequence, Union


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""


def downgrade() -> None:
    """Downgrade schema."""

"""referrals, their history and services, consent decisions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 15:40:00.000000

"""
from typing import Sequence, Union


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""


def downgrade() -> None:
    """Downgrade schema."""

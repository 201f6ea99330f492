"""provider directory: providers, vettings, agreements, the service-type code list

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 15:40:00.000000

"""
from typing import Sequence, Union


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""


def downgrade() -> None:
    """Downgrade schema."""

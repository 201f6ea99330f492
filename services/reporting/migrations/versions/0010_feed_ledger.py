"""The protected feed's ledger (last published value of every cell) and its publications.

Revision ID: 0010
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create feed_ledger and feed_publications."""
    op.create_table(
        "feed_ledger",
        sa.Column("indicator", sa.String(64), nullable=False),
        sa.Column("region_code", sa.String(32), nullable=False),
        sa.Column("region_level", sa.String(16), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("sex", sa.String(8), nullable=False),
        sa.Column("age_band", sa.String(8), nullable=False),
        sa.Column("true_value", sa.Integer(), nullable=False),
        sa.Column("published", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("indicator", "region_code", "region_level", "period", "sex", "age_band"),
    )
    op.create_table(
        "feed_publications",
        sa.Column("slot", sa.String(64), primary_key=True),
        sa.Column("publication_id", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("feed_publications")
    op.drop_table("feed_ledger")

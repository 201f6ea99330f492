"""The monitoring coverage's steps summed by month, so that a read sums the months gone by and one month's days
instead of every day; filled from the daily steps already kept.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = ("indicator", "region_code", "region_level", "sex", "birth_year")


def upgrade() -> None:
    """Create the table and sum the kept daily steps into it."""
    months = op.create_table(
        "coverage_month_counts",
        sa.Column("indicator", sa.String(40), primary_key=True),
        sa.Column("region_code", sa.String(13), primary_key=True),
        sa.Column("region_level", sa.String(10), primary_key=True),
        sa.Column("sex", sa.String(6), primary_key=True),
        sa.Column("birth_year", sa.Integer(), primary_key=True),
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.create_index("ix_coverage_month_counts_read", "coverage_month_counts", ["region_level", "region_code", "month"])
    op.create_index("ix_coverage_month_counts_zero", "coverage_month_counts", ["value"],
                    postgresql_where=sa.text("value = 0"), sqlite_where=sa.text("value = 0"))
    days = sa.table("coverage_counts", *(sa.column(name) for name in KEY), sa.column("day", sa.Date()),
                    sa.column("value", sa.Integer()))
    sums: dict[tuple[object, ...], int] = {}
    for row in op.get_bind().execute(sa.select(days)).mappings():
        group = (*(row[name] for name in KEY), row["day"].replace(day=1))
        sums[group] = sums.get(group, 0) + row["value"]
    rows = [dict(zip((*KEY, "month"), group, strict=True)) | {"value": value} for group, value in sums.items() if value]
    if rows:
        op.bulk_insert(months, rows)


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_coverage_month_counts_zero", table_name="coverage_month_counts")
    op.drop_index("ix_coverage_month_counts_read", table_name="coverage_month_counts")
    op.drop_table("coverage_month_counts")

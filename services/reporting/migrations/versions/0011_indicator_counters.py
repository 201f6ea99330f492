"""Indicator counters kept in the consumers' transaction: each child record's person, each unit's contribution,
the counts per cell, coverage step, funnel row and time to a step; referral events found by child.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ("indicator_counts", "coverage_counts", "funnel_counts", "duration_counts")


def upgrade() -> None:
    """Create the counter tables (empty: the counts of facts kept before come back with `simpul reporting
    rebuild`)."""
    op.create_index("ix_referral_events_child_id", "referral_events", ["child_id"])
    op.create_table(
        "child_persons",
        sa.Column("child_id", sa.String(64), primary_key=True),
        sa.Column("raw_person", sa.String(70), nullable=False),
        sa.Column("person", sa.String(70), nullable=False),
        sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_child_persons_raw_person", "child_persons", ["raw_person"])
    op.create_index("ix_child_persons_person", "child_persons", ["person"])
    op.create_table(
        "indicator_units",
        sa.Column("unit", sa.String(72), primary_key=True),
        sa.Column("contribution", sa.Text(), nullable=False),
    )
    op.create_table(
        "indicator_counts",
        sa.Column("indicator", sa.String(40), primary_key=True),
        sa.Column("region_code", sa.String(13), primary_key=True),
        sa.Column("region_level", sa.String(10), primary_key=True),
        sa.Column("period", sa.String(10), primary_key=True),
        sa.Column("sex", sa.String(6), primary_key=True),
        sa.Column("age_band", sa.String(5), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.create_index("ix_indicator_counts_read", "indicator_counts", ["period", "region_level", "region_code"])
    op.create_table(
        "coverage_counts",
        sa.Column("indicator", sa.String(40), primary_key=True),
        sa.Column("region_code", sa.String(13), primary_key=True),
        sa.Column("region_level", sa.String(10), primary_key=True),
        sa.Column("sex", sa.String(6), primary_key=True),
        sa.Column("birth_year", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.create_index("ix_coverage_counts_read", "coverage_counts", ["region_level", "region_code", "day"])
    op.create_table(
        "funnel_counts",
        sa.Column("district", sa.String(13), primary_key=True),
        sa.Column("provider_id", sa.String(64), primary_key=True),
        sa.Column("service_type", sa.String(64), primary_key=True),
        sa.Column("indicator", sa.String(40), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.create_table(
        "duration_counts",
        sa.Column("region_code", sa.String(13), primary_key=True),
        sa.Column("step", sa.String(20), primary_key=True),
        sa.Column("micros", sa.BigInteger(), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    for table in COUNTS:  # rows whose count fell to zero, deleted after every move
        op.create_index(f"ix_{table}_zero", table, ["value"], postgresql_where=sa.text("value = 0"),
                        sqlite_where=sa.text("value = 0"))


def downgrade() -> None:
    """Drop them."""
    for table in COUNTS:
        op.drop_index(f"ix_{table}_zero", table_name=table)
    op.drop_index("ix_coverage_counts_read", table_name="coverage_counts")
    for table in ("duration_counts", "funnel_counts", "coverage_counts", "indicator_counts", "indicator_units",
                  "child_persons"):
        op.drop_table(table)
    op.drop_index("ix_referral_events_child_id", table_name="referral_events")

"""PostgreSQL: the counter tables lose their partial index on the rows at zero, so that updating a count can be a
heap-only update (an index on `value` made every update write new entries in every index of the table); a move
now deletes the rows it brought to zero by their row ids (returned by its upsert). SQLite keeps the index (it
finds the zeros there).

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ("indicator_counts", "coverage_counts", "funnel_counts", "duration_counts", "coverage_month_counts")


def upgrade() -> None:
    """Drop the zero indexes on PostgreSQL."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in COUNTS:
        op.drop_index(f"ix_{table}_zero", table_name=table)


def downgrade() -> None:
    """Create them again."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in COUNTS:
        op.create_index(f"ix_{table}_zero", table, ["value"], postgresql_where=sa.text("value = 0"))

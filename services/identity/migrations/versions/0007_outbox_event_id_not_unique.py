"""the outbox's event_id is no longer indexed as unique

Nothing reads an outbox row by its event id, which is a random UUID drawn at publish time (consumers deduplicate by
it in their inbox); keeping the unique index up cost PostgreSQL about a third of writing each row.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 05:00:00.000000

"""
from typing import Sequence, Union

from simpul_platform.migrations import drop_outbox_event_id_unique, keep_outbox_event_id_unique


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    drop_outbox_event_id_unique()


def downgrade() -> None:
    """Downgrade schema."""
    keep_outbox_event_id_unique()

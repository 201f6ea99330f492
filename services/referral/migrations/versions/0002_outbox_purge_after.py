"""outbox purge deadline: sent rows are deleted once their retention (short for restricted topics) is over

Rows sent before this revision get their sent time as deadline: the relay purges them at its next round.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 13:30:00.000000

"""
from typing import Sequence, Union

from simpul_platform.migrations import add_outbox_purge_after, drop_outbox_purge_after


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    add_outbox_purge_after()


def downgrade() -> None:
    """Downgrade schema."""
    drop_outbox_purge_after()

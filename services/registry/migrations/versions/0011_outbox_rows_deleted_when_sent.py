"""outbox rows are deleted once Kafka acknowledged them: no sent flag, no purge deadline

Rows already sent are deleted here; what is left in the outbox is what the relay has still to publish.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 08:00:00.000000

"""
from typing import Sequence, Union

from simpul_platform.migrations import delete_outbox_rows_when_sent, keep_sent_outbox_rows


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    delete_outbox_rows_when_sent()


def downgrade() -> None:
    """Downgrade schema."""
    keep_sent_outbox_rows()

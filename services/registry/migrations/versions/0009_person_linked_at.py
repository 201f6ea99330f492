"""children keep when identity linked them to their person: a replayed older link never replaces a newer one

Rows written before this revision have no time (NULL): the next link replaces them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 19:50:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('children') as batch_op:
        batch_op.add_column(sa.Column('person_linked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('children') as batch_op:
        batch_op.drop_column('person_linked_at')

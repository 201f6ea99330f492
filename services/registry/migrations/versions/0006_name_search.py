"""name search: the full name and aliases in one lower-case column, so a search by name finds nicknames too

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 21:00:00.000000

"""
import json
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_search', sa.String(length=2400), nullable=False, server_default=''))
    # Children registered before this revision: the same text the application writes (names joined by " | ").
    connection = op.get_bind()
    children = sa.table('children', sa.column('child_id', sa.String), sa.column('full_name', sa.String),
                        sa.column('aliases', sa.JSON), sa.column('name_search', sa.String))
    for child_id, full_name, aliases in connection.execute(sa.select(
            children.c.child_id, children.c.full_name, children.c.aliases)).all():
        names = [full_name, *(json.loads(aliases) if isinstance(aliases, str) else aliases or [])]
        connection.execute(children.update().where(children.c.child_id == child_id).values(
            name_search=" | ".join(names).lower()))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_column('name_search')

"""region versions: the history of region names, for imports of the official list

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 09:00:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('region_versions',
    sa.Column('code', sa.String(length=13), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['code'], ['regions.code'], name='fk_region_versions_code'),
    sa.PrimaryKeyConstraint('code', 'version')
    )
    with op.batch_alter_table('region_versions', schema=None) as batch_op:
        batch_op.create_index('uq_region_versions_open', ['code'], unique=True,
                              postgresql_where=sa.text('valid_to IS NULL'), sqlite_where=sa.text('valid_to IS NULL'))

    # The regions already stored (the pilot rows of 0002) open their history at their current version.
    op.execute(
        "INSERT INTO region_versions (code, version, name, valid_from, valid_to) "
        "SELECT code, version, name, CURRENT_TIMESTAMP, retired_at FROM regions"
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('region_versions', schema=None) as batch_op:
        batch_op.drop_index('uq_region_versions_open', postgresql_where=sa.text('valid_to IS NULL'),
                            sqlite_where=sa.text('valid_to IS NULL'))

    op.drop_table('region_versions')
